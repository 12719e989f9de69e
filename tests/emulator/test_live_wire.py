"""The live shapes of fireworks-api.md section 6, as the emulator serves them by default.

Newer job fields, waiting on capacity, expiry, validation failures, deletion, and the batch job resource with its
log under both names.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from fwbatch_async.emulator import JobSpec, Scenario

from .conftest import Serve
from .helpers import Api, ns_of
from .test_jobs import distinct

T0 = 1_767_225_600 * 10**9
S = 10**9
DAY = 86_400
ACCOUNT = "test-account"
NUMERIC_NAME = re.compile(rf"accounts/{ACCOUNT}/clusters/emulator-cluster/batchJobs/(\d{{12}})")


def scenario(*jobs: JobSpec, seed: int = 5) -> Scenario:
    return Scenario(account=ACCOUNT, seed=seed, jobs=jobs)


async def at(api: Api, job_id: str, seconds: float) -> dict[str, Any]:
    """The job as served ``seconds`` after T0 (the clock only moves forward)."""
    api.emu.clock.advance_to_ns(T0 + round(seconds * S))
    reply = await api.job(job_id)
    assert reply.status == 200, reply.body
    data: dict[str, Any] = reply.data
    return data


def stamp(seconds: float) -> str:
    """A job timestamp as the live server writes it on GET: 6 fraction digits."""
    whole = int(seconds)
    micros = round((seconds - whole) * 1_000_000)
    day, rest = divmod(whole, DAY)
    hours, rest = divmod(rest, 3600)
    return f"2026-01-{1 + day:02d}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}.{micros:06d}Z"


async def test_newer_fields_are_written_out_at_their_defaults(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1", duration=1000.0)))
    job = await at(api, "job-1", 0)
    assert job["state"] == "JOB_STATE_VALIDATING"
    assert job["status"] == {"code": "OK", "message": ""}
    assert job["jobProgress"] is None
    assert job["expireTime"] == stamp(DAY)
    assert job["maxJobDuration"] is None
    assert job["lifecycle"] == {"validatedTime": None, "runStartTime": None, "endTime": None}
    assert job["placement"] is None
    assert (job["systemPrompt"], job["waitingOnCapacity"], job["continuedFromJobName"]) == ("", False, "")
    assert job["inferenceParameters"]["extraBody"] == ""
    job = await at(api, "job-1", 500)
    assert job["lifecycle"] == {"validatedTime": stamp(20), "runStartTime": stamp(100), "endTime": None}
    job = await at(api, "job-1", 1000)
    assert job["lifecycle"]["endTime"] == stamp(1000)


async def test_set_fields_show_their_values(serve: Serve) -> None:
    spec = JobSpec(id="job-1", system_prompt="Answer briefly.", max_job_duration=12 * 3600.0)
    job = await at(await serve(scenario(spec)), "job-1", 0)
    assert (job["systemPrompt"], job["maxJobDuration"]) == ("Answer briefly.", "43200s")
    assert job["expireTime"] == stamp(12 * 3600)


async def test_waiting_on_capacity_for_a_while_delays_the_rest(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1", duration=1000.0, capacity_wait=300.0)))
    waiting = await at(api, "job-1", 20)
    assert (waiting["state"], waiting["waitingOnCapacity"]) == ("JOB_STATE_PENDING", True)
    assert waiting["lifecycle"]["validatedTime"] == stamp(20)
    still = await at(api, "job-1", 319.9)
    assert still["waitingOnCapacity"]
    assert still["updateTime"] == waiting["updateTime"] == stamp(20)
    found = await at(api, "job-1", 320)
    assert (found["state"], found["waitingOnCapacity"]) == ("JOB_STATE_PENDING", False)
    assert found["updateTime"] == stamp(320)
    assert (await at(api, "job-1", 349.9))["state"] == "JOB_STATE_PENDING"
    assert (await at(api, "job-1", 350))["state"] == "JOB_STATE_CREATING"
    assert (await at(api, "job-1", 400))["lifecycle"]["runStartTime"] == stamp(400)
    done = await at(api, "job-1", 1300)
    assert (done["state"], done["waitingOnCapacity"]) == ("JOB_STATE_COMPLETED", False)


async def test_no_capacity_waits_in_pending_until_the_job_expires(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1", duration=1000.0, outcome="NO_CAPACITY")))
    states = []
    for seconds in (0, 20, 3600, DAY - 1):
        job = await at(api, "job-1", seconds)
        states.append((job["state"], job["waitingOnCapacity"]))
        assert job["jobProgress"] is None
    assert states == [("JOB_STATE_VALIDATING", False)] + [("JOB_STATE_PENDING", True)] * 3
    assert (await api.batch_job("job-1")).data["state"] == "QUEUED"
    expired = await at(api, "job-1", DAY)
    assert (expired["state"], expired["waitingOnCapacity"]) == ("JOB_STATE_EXPIRED", False)
    assert expired["status"]["code"] == "DEADLINE_EXCEEDED"
    assert "maximum duration" in expired["status"]["message"]
    assert expired["lifecycle"] == {"validatedTime": stamp(20), "runStartTime": None, "endTime": stamp(DAY)}
    assert api.emu.logs("job-1", include_pending=True) == []  # no worker ever started


async def test_a_dataset_validation_failure_fails_the_whole_job(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1", duration=30.0, outcome="VALIDATION_FAILED")))
    assert (await at(api, "job-1", 29.9))["state"] == "JOB_STATE_VALIDATING"
    failed = await at(api, "job-1", 30)
    assert failed["state"] == "JOB_STATE_FAILED"
    assert failed["status"]["code"] == "INVALID_ARGUMENT"
    assert "dataset" in failed["status"]["message"]
    assert failed["jobProgress"] is None
    assert failed["lifecycle"] == {"validatedTime": None, "runStartTime": None, "endTime": stamp(30)}
    batch = (await api.batch_job("job-1")).data
    assert (batch["state"], batch["startTime"], batch["endTime"]) == ("FAILED", None, stamp(30))
    assert batch["status"] == failed["status"]["message"]
    assert api.emu.logs("job-1", include_pending=True) == []


async def test_a_job_past_its_limit_expires_with_the_rows_it_completed(serve: Serve) -> None:
    spec = JobSpec(id="job-1", duration=1000.0, max_job_duration=500.0, requests=2000)
    api = await serve(scenario(spec))
    running = await at(api, "job-1", 499.9)
    assert running["state"] == "JOB_STATE_RUNNING"
    assert (running["maxJobDuration"], running["expireTime"]) == ("500s", stamp(500))
    expired = await at(api, "job-1", 500)
    assert expired["state"] == "JOB_STATE_EXPIRED"
    assert expired["status"] == {
        "code": "DEADLINE_EXCEEDED",
        "message": "job exceeded its maximum duration; results of completed requests were saved",
    }
    assert 0 < expired["jobProgress"]["outputRows"] < 2000
    assert expired == await at(api, "job-1", 5000)
    lines = api.emu.logs("job-1", include_pending=True)
    assert max(ns_of(t) for t, _, _ in lines) == T0 + 500 * S
    assert lines[-1][2].startswith("Batch inference job expired after")


async def test_an_expired_outcome_shows_when_it_expires(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1", duration=1000.0, outcome="EXPIRED")))
    job = await at(api, "job-1", 0)
    assert (job["expireTime"], job["maxJobDuration"]) == (stamp(1000), None)
    assert (await at(api, "job-1", 1000))["lifecycle"]["endTime"] == stamp(1000)


async def test_the_processed_count_can_exceed_the_declared_dataset_size(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1", requests=1100, declared_requests=1000)))
    progress = (await at(api, "job-1", 600))["jobProgress"]
    assert (progress["totalInputRequests"], progress["totalProcessedRequests"]) == (1000, 1100)
    assert progress["percent"] == 100


async def test_delete_answers_empty_then_cleans_up_then_404(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1", duration=1000.0), JobSpec(id="other")))
    before = await at(api, "job-1", 500)
    batch_name = (await api.batch_job("job-1")).data["name"]
    numeric = NUMERIC_NAME.fullmatch(batch_name)
    assert numeric
    lines = len(api.emu.logs("job-1", include_pending=True))
    reply = await api.delete("job-1")
    assert (reply.status, reply.body) == (200, b"{}")
    deleting = await at(api, "job-1", 501)
    assert deleting["state"] == "JOB_STATE_DELETING_CLEANING_UP"
    assert deleting["jobProgress"] == before["jobProgress"]
    assert deleting["status"] == {"code": "OK", "message": ""}
    assert (await api.batch_job("job-1")).data["state"] == "DELETING"
    assert (await api.logs("job-1")).status == 200
    assert len(api.emu.logs("job-1", include_pending=True)) == lines  # the workers stopped at once
    assert (await api.delete("job-1")).body == b"{}"  # again: no change
    listed = (await api.list_jobs()).data["batchInferenceJobs"]
    assert [j["state"] for j in listed if j["name"].endswith("/job-1")] == ["JOB_STATE_DELETING_CLEANING_UP"]
    api.emu.clock.advance_to_ns(T0 + 505 * S)
    gone = [
        await api.job("job-1"),
        await api.logs("job-1"),
        await api.batch_job("job-1"),
        await api.get(api.logs_path(numeric.group(1), cluster="emulator-cluster")),
        await api.delete("job-1"),
    ]
    assert [r.status for r in gone] == [404] * 5
    assert all(r.data == {"code": 5, "details": [], "message": "resource not found"} for r in gone)
    listed = (await api.list_jobs()).data
    assert [j["name"].rsplit("/", 1)[1] for j in listed["batchInferenceJobs"]] == ["other"]
    assert listed["totalSize"] == 1
    with pytest.raises(ValueError, match="deleted"):
        api.emu.job("job-1")


async def test_deleting_a_finished_job_keeps_its_status_while_it_cleans_up(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1", duration=100.0, outcome="FAILED", status_message="boom")))
    await at(api, "job-1", 200)
    api.emu.delete_job("job-1")
    job = await at(api, "job-1", 201)
    assert job["state"] == "JOB_STATE_DELETING_CLEANING_UP"
    assert job["status"] == {"code": "INTERNAL", "message": "boom"}
    assert job["lifecycle"]["endTime"] == stamp(100)
    with pytest.raises(ValueError, match="deleted"):
        api.emu.set_outcome_now("job-1", "COMPLETED")


async def test_the_batch_job_follows_the_inference_job_on_its_own_enum(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1", duration=1000.0, ranks=3)))
    seen = []
    for seconds in range(0, 1001, 10):
        api.emu.clock.advance_to_ns(T0 + seconds * S)
        seen.append((await api.batch_job("job-1")).data)
    assert distinct([b["state"] for b in seen]) == ["QUEUED", "CREATING", "RUNNING", "COMPLETED"]
    first, last = seen[0], seen[-1]
    assert NUMERIC_NAME.fullmatch(first["name"])
    assert (first["numRanks"], first["createTime"], first["createdBy"]) == (3, stamp(0), "user@example.com")
    assert (first["startTime"], first["endTime"], first["status"]) == (None, None, "")
    assert (last["startTime"], last["endTime"]) == (stamp(100), stamp(1000))
    assert last == api.emu.batch_job("job-1")


async def test_the_batch_job_answers_under_every_name(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1", duration=100.0)))
    api.emu.clock.advance(60)
    by_inference_id = await api.batch_job("job-1")
    number = NUMERIC_NAME.fullmatch(by_inference_id.data["name"])
    assert number
    by_number = await api.batch_job(number.group(1))
    by_cluster = await api.batch_job(number.group(1), cluster="emulator-cluster")
    assert by_inference_id.data == by_number.data == by_cluster.data
    logs = [
        await api.logs("job-1"),
        await api.logs(number.group(1)),
        await api.get(api.logs_path(number.group(1), cluster="emulator-cluster")),
        await api.get(api.logs_path("job-1", cluster="emulator-cluster")),
    ]
    assert logs[0].entries()
    assert all(reply.entries() == logs[0].entries() for reply in logs)
    assert api.emu.logs(number.group(1)) == api.emu.logs("job-1")
    assert (await api.batch_job(number.group(1), cluster="elsewhere")).status == 404
    assert (await api.get(api.logs_path("job-1", cluster="elsewhere"))).status == 404


async def test_a_batch_job_id_set_in_the_spec_is_the_only_name(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="inference-1", batch_job_id="4242")))
    reply = await api.batch_job("4242", cluster="emulator-cluster")
    assert reply.data["name"] == f"accounts/{ACCOUNT}/clusters/emulator-cluster/batchJobs/4242"
    assert (await api.batch_job("inference-1")).status == 404


async def test_numeric_ids_come_from_the_seed(serve: Serve) -> None:
    names = []
    for seed in (1, 1, 2):
        api = await serve(scenario(JobSpec(id="job-1"), JobSpec(id="job-2"), seed=seed))
        names.append([(await api.batch_job(j)).data["name"] for j in ("job-1", "job-2")])
    assert names[0] == names[1]
    assert names[0] != names[2]
    assert len(set(names[0])) == 2


async def test_read_mask_on_a_batch_job(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1")))
    reply = await api.batch_job("job-1", {"readMask": "state,num_ranks,start_time"})
    assert reply.data == {"state": "QUEUED", "numRanks": 4, "startTime": None}
    assert (await api.batch_job("job-1", {"readMask": "bogus"})).status == 400
