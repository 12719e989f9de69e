"""Conformance of GET batchInferenceJobs/{id}: fields, readMask, and the simulated life of a job."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from fwbatch_async.emulator import JobSpec, Scenario

from . import schemas
from .conftest import Serve
from .helpers import Api, error_of, ns_of

T0 = 1_767_225_600 * 10**9
ACCOUNT = "test-account"


def scenario(*jobs: JobSpec) -> Scenario:
    return Scenario(account=ACCOUNT, seed=3, jobs=jobs)


async def states_over_time(api: Api, job_id: str, duration: float, until: float = 1.0) -> list[dict[str, Any]]:
    """The job every 0.5 % of its duration, until ``until`` x duration."""
    seen = []
    step = duration / 200
    for _ in range(round(until * 200)):
        reply = await api.job(job_id)
        assert reply.status == 200
        seen.append(reply.data)
        api.emu.clock.advance(step)
    seen.append((await api.job(job_id)).data)
    return seen


def distinct(values: list[Any]) -> list[Any]:
    return [v for i, v in enumerate(values) if i == 0 or v != values[i - 1]]


async def test_every_documented_field_is_present_and_realistic(serve: Serve) -> None:
    spec = JobSpec(id="job-1", requests=5000, display_name="Nightly eval", duration=600.0)
    api = await serve(scenario(spec))
    api.emu.clock.advance(300)
    job = (await api.job("job-1")).data
    assert set(job) == {
        "name",
        "displayName",
        "createTime",
        "createdBy",
        "state",
        "status",
        "model",
        "inputDatasetId",
        "outputDatasetId",
        "inferenceParameters",
        "updateTime",
        "precision",
        "jobProgress",
        "continuedFromJobName",
        "expireTime",
        "maxJobDuration",
        "lifecycle",
        "placement",
        "systemPrompt",
        "waitingOnCapacity",
    }
    assert job["name"] == f"accounts/{ACCOUNT}/batchInferenceJobs/job-1"
    assert job["displayName"] == "Nightly eval"
    assert job["createTime"] == "2026-01-01T00:00:00.000000Z"
    assert job["state"] == "JOB_STATE_RUNNING"
    assert job["status"] == {"code": "OK", "message": ""}
    assert job["model"] == spec.model
    assert "@" in job["createdBy"]
    assert job["precision"] == "FP8"
    progress = job["jobProgress"]
    assert set(progress) == {"percent", "epoch", *schemas.INT64_PROGRESS}
    assert all(type(value) is int for value in progress.values())  # int32 in the schema: numbers, not strings
    assert progress["epoch"] == 0
    assert progress["totalInputRequests"] == 5000
    assert 0 < progress["totalProcessedRequests"] < 5000
    assert progress["successfullyProcessedRequests"] + progress["failedRequests"] == progress["totalProcessedRequests"]
    assert progress["percent"] == progress["totalProcessedRequests"] * 100 // 5000
    assert progress["inputTokens"] > progress["totalProcessedRequests"]
    assert progress["outputTokens"] > 0
    assert 0 < progress["cachedInputTokenCount"] < progress["inputTokens"]
    assert ns_of(job["createTime"]) < ns_of(job["updateTime"]) <= T0 + 300 * 10**9


async def test_continued_from_job_name_is_empty_unless_set(serve: Serve) -> None:
    parent = f"accounts/{ACCOUNT}/batchInferenceJobs/job-0"
    api = await serve(scenario(JobSpec(id="a"), JobSpec(id="b", continued_from_job_name=parent)))
    assert (await api.job("a")).data["continuedFromJobName"] == ""
    assert (await api.job("b")).data["continuedFromJobName"] == parent


async def test_the_python_view_equals_the_wire(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1")))
    api.emu.clock.advance(123.4)
    assert (await api.job("job-1")).data == api.emu.job("job-1")


@pytest.mark.parametrize(
    ("mask", "expected_keys"),
    [
        ("name,state", {"name": None, "state": None}),
        ("display_name,create_time", {"displayName": None, "createTime": None}),
        ("jobProgress.totalProcessedRequests", {"jobProgress": {"totalProcessedRequests"}}),
        ("job_progress.total_input_requests,status.code", {"jobProgress": {"totalInputRequests"}, "status": {"code"}}),
        ("jobProgress,jobProgress.percent", {"jobProgress": None}),
        (" name , model ", {"name": None, "model": None}),
    ],
)
async def test_read_mask_on_a_job(serve: Serve, mask: str, expected_keys: dict[str, Any]) -> None:
    api = await serve(scenario(JobSpec(id="job-1")))
    api.emu.clock.advance(300)
    full = (await api.job("job-1")).data
    masked = (await api.job("job-1", {"readMask": mask})).data
    assert set(masked) == set(expected_keys)
    for key, subfields in expected_keys.items():
        expected = full[key] if subfields is None else {k: v for k, v in full[key].items() if k in subfields}
        assert masked[key] == expected


@pytest.mark.parametrize("mask", ["*", ""])
async def test_read_mask_star_or_empty_is_everything(serve: Serve, mask: str) -> None:
    api = await serve(scenario(JobSpec(id="job-1")))
    assert (await api.job("job-1", {"readMask": mask})).data == (await api.job("job-1")).data


async def test_read_mask_of_unset_fields_shows_their_defaults(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1")))
    masked = await api.job("job-1", {"readMask": "continuedFromJobName,name,jobProgress.percent,lifecycle.endTime"})
    assert masked.data == {
        "name": f"accounts/{ACCOUNT}/batchInferenceJobs/job-1",
        "continuedFromJobName": "",
        "jobProgress": None,
        "lifecycle": {"endTime": None},
    }


@pytest.mark.parametrize("mask", ["bogus", "name,bogus", "jobProgress.bogus", "name.first", "status.code.x"])
async def test_unknown_read_mask_path_is_400(serve: Serve, mask: str) -> None:
    api = await serve(scenario(JobSpec(id="job-1")))
    reply = await api.job("job-1", {"readMask": mask})
    assert reply.status == 400
    assert error_of(reply) == (3, "INVALID_READ_MASK")


# The order seen live: VALIDATING right after create, PENDING, CREATING (the deployment), RUNNING.
EXPECTED_STATES = {
    "COMPLETED": ["VALIDATING", "PENDING", "CREATING", "RUNNING", "WRITING_RESULTS", "COMPLETED"],
    "EXPIRED": ["VALIDATING", "PENDING", "CREATING", "RUNNING", "WRITING_RESULTS", "EXPIRED"],
    "FAILED": ["VALIDATING", "PENDING", "CREATING", "RUNNING", "FAILED"],
    "CANCELLED": ["VALIDATING", "PENDING", "CREATING", "RUNNING", "CANCELLED"],
}
FINAL_STATUS = {
    "COMPLETED": "OK",
    "EXPIRED": "DEADLINE_EXCEEDED",
    "FAILED": "INTERNAL",
    "CANCELLED": "CANCELLED",
}


@pytest.mark.parametrize("outcome", sorted(EXPECTED_STATES))
async def test_job_passes_through_every_phase_to_its_outcome(serve: Serve, outcome: str) -> None:
    message = None if outcome == "COMPLETED" else "boom"
    spec = JobSpec(id="job-1", requests=2000, duration=1000.0, outcome=outcome, status_message=message)
    api = await serve(scenario(spec))
    seen = await states_over_time(api, "job-1", 1000.0, until=1.05)
    states = distinct([job["state"].removeprefix("JOB_STATE_") for job in seen])
    assert states == EXPECTED_STATES[outcome]
    processed = [(job["jobProgress"] or {}).get("totalProcessedRequests", 0) for job in seen]
    assert processed == sorted(processed)
    assert processed[0] == 0
    update_times = [ns_of(job["updateTime"]) for job in seen]
    assert update_times == sorted(update_times)
    for before, after in itertools.pairwise(seen):
        changed = before["state"] != after["state"] or before.get("jobProgress") != after.get("jobProgress")
        assert changed == (before["updateTime"] != after["updateTime"])
    final = seen[-1]
    assert final["status"]["code"] == FINAL_STATUS[outcome]
    if outcome == "COMPLETED":
        assert processed[-1] == 2000
        assert final["status"]["message"] == ""
    else:
        assert 0 < processed[-1] < 2000
        assert final["status"]["message"] == "boom"
    assert ns_of(final["updateTime"]) == T0 + 1000 * 10**9
    assert [job["status"]["code"] for job in seen[:-12]] == ["OK"] * (len(seen) - 12)


async def test_job_progress_is_null_until_running_then_zeros(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1", duration=1000.0)))
    for seconds, state in ((0, "VALIDATING"), (30, "PENDING"), (60, "CREATING")):
        api.emu.clock.advance_to_ns(T0 + seconds * 10**9)
        job = (await api.job("job-1")).data
        assert (job["state"], job["jobProgress"]) == (f"JOB_STATE_{state}", None)
    api.emu.clock.advance_to_ns(T0 + 100 * 10**9)
    job = (await api.job("job-1")).data
    assert job["state"] == "JOB_STATE_RUNNING"
    assert job["jobProgress"] == dict.fromkeys(job["jobProgress"], 0) | {"totalInputRequests": 1000}
    assert len(job["jobProgress"]) == 10


async def test_a_stuck_job_runs_without_progress_until_it_expires(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1", duration=1000.0, outcome="STUCK", requests=10_000)))
    api.emu.clock.advance(300)
    moving = (await api.job("job-1")).data
    api.emu.clock.advance(150)
    frozen = (await api.job("job-1")).data
    assert int(moving["jobProgress"]["totalProcessedRequests"]) < int(frozen["jobProgress"]["totalProcessedRequests"])
    for _ in range(5):
        api.emu.clock.advance(10_000)
        later = (await api.job("job-1")).data
        assert later["state"] == "JOB_STATE_RUNNING"
        assert later["jobProgress"] == frozen["jobProgress"]
        assert later["updateTime"] == frozen["updateTime"]
    lines_before = len(api.emu.logs("job-1"))
    api.emu.clock.advance(600)
    stalled = api.emu.logs("job-1")[lines_before:]
    assert stalled
    assert all("no batch completed" in message for _, _, message in stalled)
    api.emu.clock.advance_to_ns(T0 + 86_400 * 10**9)
    expired = (await api.job("job-1")).data
    assert (expired["state"], expired["status"]["code"]) == ("JOB_STATE_EXPIRED", "DEADLINE_EXCEEDED")
    assert expired["expireTime"] == expired["lifecycle"]["endTime"] == "2026-01-02T00:00:00.000000Z"
    assert expired["jobProgress"] == frozen["jobProgress"]
    assert api.emu.logs("job-1")[-1][2].startswith("Batch inference job expired after")


async def test_a_job_is_404_until_it_is_created(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="later", start_after=30.0)))
    for reply in (await api.job("later"), await api.logs("later"), await api.batch_job("later")):
        assert reply.status == 404
        assert reply.data["code"] == 5
    api.emu.clock.advance(30)
    job = (await api.job("later")).data
    assert job["state"] == "JOB_STATE_VALIDATING"
    assert job["createTime"] == "2026-01-01T00:00:30.000000Z"


async def test_set_outcome_now_ends_the_job_and_logs_the_ending_at_once(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1", duration=600.0, ranks=3)))
    api.emu.clock.advance(200)
    before = (await api.job("job-1")).data
    api.emu.set_outcome_now("job-1", "FAILED", message="out of memory on rank 2")
    after = (await api.job("job-1")).data
    assert after["state"] == "JOB_STATE_FAILED"
    assert after["status"] == {"code": "INTERNAL", "message": "out of memory on rank 2"}
    assert after["updateTime"] == after["lifecycle"]["endTime"] == "2026-01-01T00:03:20.000000Z"
    assert after["jobProgress"] == before["jobProgress"]
    newest = (await api.logs("job-1", {"pageSize": "10"})).entries()
    assert any(m.startswith("Traceback (most recent call last):\n") and "\n" in m for _, _, m in newest)
    assert newest[0][2] == "Batch inference job failed after {}/1000 requests: out of memory on rank 2".format(
        before["jobProgress"]["totalProcessedRequests"]
    )
    assert {t for t, _, _ in newest[:5]} == {"2026-01-01T00:03:20.000000000Z"}
    lines = len(api.emu.logs("job-1", include_pending=True))
    api.emu.clock.advance(1000)
    assert (await api.job("job-1")).data["state"] == "JOB_STATE_FAILED"
    assert len(api.emu.logs("job-1", include_pending=True)) == lines
    with pytest.raises(ValueError, match="already finished"):
        api.emu.set_outcome_now("job-1", "COMPLETED")


@pytest.mark.parametrize(
    ("outcome", "code"), [("COMPLETED", "OK"), ("CANCELLED", "CANCELLED"), ("EXPIRED", "DEADLINE_EXCEEDED")]
)
async def test_set_outcome_now_other_outcomes(serve: Serve, outcome: str, code: str) -> None:
    api = await serve(scenario(JobSpec(id="job-1", duration=600.0)))
    api.emu.clock.advance(100)
    api.emu.set_outcome_now("job-1", outcome)
    job = (await api.job("job-1")).data
    assert job["state"] == f"JOB_STATE_{outcome}"
    assert job["status"]["code"] == code
    if outcome == "COMPLETED":
        assert job["jobProgress"]["totalProcessedRequests"] == 1000
    summary = api.emu.logs("job-1")[-1]
    assert summary[1] == 0
    assert summary[2].startswith("Batch inference job ")


async def test_set_outcome_now_stuck_freezes_progress(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1", duration=600.0)))
    api.emu.clock.advance(200)
    api.emu.set_outcome_now("job-1", "STUCK")
    frozen = (await api.job("job-1")).data
    api.emu.clock.advance(5000)
    assert (await api.job("job-1")).data == frozen


async def test_set_outcome_now_rejects_bad_requests(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1"), JobSpec(id="later", start_after=100.0)))
    with pytest.raises(ValueError, match="outcome"):
        api.emu.set_outcome_now("job-1", "EXPLODED")
    with pytest.raises(ValueError, match="not created"):
        api.emu.set_outcome_now("later", "FAILED")
    with pytest.raises(KeyError):
        api.emu.set_outcome_now("nope", "FAILED")


async def test_add_job_while_running(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1")))
    api.emu.clock.advance(100)
    api.emu.add_job(JobSpec(id="job-2", start_after=5.0))
    assert (await api.job("job-2")).status == 404
    api.emu.clock.advance(5)
    job = (await api.job("job-2")).data
    assert job["createTime"] == "2026-01-01T00:01:45.000000Z"
    assert {j["name"].rsplit("/", 1)[1] for j in (await api.list_jobs()).data["batchInferenceJobs"]} == {
        "job-1",
        "job-2",
    }
    with pytest.raises(ValueError, match="already exists"):
        api.emu.add_job(JobSpec(id="job-2"))


async def test_logs_are_under_the_batch_job_id(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="inference-1", batch_job_id="4242", duration=100.0)))
    api.emu.clock.advance(50)
    assert (await api.logs("4242")).entries()
    assert (await api.logs("inference-1")).status == 404
    assert (await api.job("4242")).status == 404
    assert api.emu.logs("inference-1") == api.emu.logs("4242")


async def test_failed_job_logs_a_traceback_and_every_rank_logs(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1", duration=300.0, outcome="FAILED", ranks=5)))
    api.emu.clock.advance(400)
    truth = api.emu.logs("job-1")
    assert {rank for _, rank, _ in truth} == set(range(5))
    tracebacks = [m for _, _, m in truth if m.startswith("Traceback")]
    assert len(tracebacks) >= 1
    assert tracebacks[0].count("\n") >= 4
    assert any(m.startswith("Starting batch inference worker") for _, _, m in truth)
    assert any(m.startswith("Processed batch") for _, _, m in truth)
    assert any(m.startswith("WARNING") for _, _, m in truth)
    assert truth[-1][2].startswith("Batch inference job failed")
