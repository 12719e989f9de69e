"""Conformance of GET batchInferenceJobs (list): paging, the state filter, ordering, readMask."""

from __future__ import annotations

import pytest

from fwbatch_async.emulator import JobSpec, Scenario

from .conftest import Serve
from .helpers import Api, error_of


def many(n: int, **kw: object) -> Scenario:
    """``n`` jobs created one second apart, without logs."""
    jobs = [JobSpec(id=f"job-{i:03d}", start_after=float(i), generate_logs=False, **kw) for i in range(n)]  # type: ignore[arg-type]
    return Scenario(account="test-account", jobs=jobs)


def ids(reply_data: dict[str, object]) -> list[str]:
    jobs = reply_data.get("batchInferenceJobs", [])
    assert isinstance(jobs, list)
    return [job["name"].rsplit("/", 1)[1] for job in jobs]


async def list_all(api: Api, params: dict[str, str]) -> tuple[list[str], int]:
    collected: list[str] = []
    pages, token = 0, None
    while True:
        reply = await api.list_jobs({**params, "pageToken": token} if token else params)
        assert reply.status == 200, reply.body
        pages += 1
        collected += ids(reply.data)
        token = reply.token
        if token is None:
            return collected, pages


async def test_only_created_jobs_are_listed_oldest_first(serve: Serve) -> None:
    api = await serve(many(10))
    api.emu.clock.advance(4.5)
    reply = await api.list_jobs()
    assert ids(reply.data) == [f"job-{i:03d}" for i in range(5)]
    assert reply.data["totalSize"] == 5
    assert reply.token is None


async def test_default_page_size_is_50_and_tokens_page_through_everything(serve: Serve) -> None:
    api = await serve(many(120))
    api.emu.clock.advance(200)
    first = await api.list_jobs()
    assert len(ids(first.data)) == 50
    assert first.data["totalSize"] == 120
    everything, pages = await list_all(api, {})
    assert everything == [f"job-{i:03d}" for i in range(120)]
    assert pages == 3


@pytest.mark.parametrize(("size", "expected"), [("300", 200), ("200", 200), ("0", 50), ("7", 7)])
async def test_page_size_is_coerced_to_200(serve: Serve, size: str, expected: int) -> None:
    api = await serve(many(250))
    api.emu.clock.advance(300)
    reply = await api.list_jobs({"pageSize": size})
    assert len(ids(reply.data)) == expected


@pytest.mark.parametrize("size", ["-5", "x", "2.0"])
async def test_bad_page_size_is_400(serve: Serve, size: str) -> None:
    api = await serve(many(1))
    assert (await api.list_jobs({"pageSize": size})).status == 400


@pytest.mark.parametrize("order", ["create_time desc", "createTime desc", " create_time  desc "])
async def test_order_by_create_time_descending(serve: Serve, order: str) -> None:
    api = await serve(many(30))
    api.emu.clock.advance(100)
    everything, _ = await list_all(api, {"orderBy": order, "pageSize": "7"})
    assert everything == [f"job-{i:03d}" for i in reversed(range(30))]
    ascending, _ = await list_all(api, {"orderBy": "create_time asc", "pageSize": "7"})
    assert ascending == everything[::-1]


@pytest.mark.parametrize("order", ["name", "update_time desc", "create_time sideways", "create_time,name"])
async def test_unsupported_order_is_400(serve: Serve, order: str) -> None:
    api = await serve(many(1))
    reply = await api.list_jobs({"orderBy": order})
    assert reply.status == 400
    assert error_of(reply)[0] == 3


@pytest.mark.parametrize(
    "text",
    [
        'state = "JOB_STATE_RUNNING"',
        'state="JOB_STATE_RUNNING"',
        "state = JOB_STATE_RUNNING",
        ' state =  "JOB_STATE_RUNNING" ',
    ],
)
async def test_state_filter(serve: Serve, text: str) -> None:
    jobs = [
        JobSpec(id="running", duration=1000.0, generate_logs=False),
        JobSpec(id="done", duration=50.0, generate_logs=False),
        JobSpec(id="stuck", duration=100.0, outcome="STUCK", generate_logs=False),
        JobSpec(id="failed", duration=60.0, outcome="FAILED", generate_logs=False),
    ]
    api = await serve(Scenario(account="test-account", jobs=jobs))
    api.emu.clock.advance(200)
    reply = await api.list_jobs({"filter": text})
    assert sorted(ids(reply.data)) == ["running", "stuck"]
    assert reply.data["totalSize"] == 2
    assert all(job["state"] == "JOB_STATE_RUNNING" for job in reply.data["batchInferenceJobs"])
    failed = await api.list_jobs({"filter": 'state = "JOB_STATE_FAILED"'})
    assert ids(failed.data) == ["failed"]
    nothing = await api.list_jobs({"filter": 'state = "JOB_STATE_PAUSED"'})
    assert nothing.data == {"batchInferenceJobs": [], "nextPageToken": "", "totalSize": 0}


@pytest.mark.parametrize(
    "text",
    ['model = "x"', "state", 'state != "JOB_STATE_RUNNING"', 'state = "RUNNING"', 'state = "JOB_STATE_RUNNING" AND x'],
)
async def test_unsupported_filter_is_400(serve: Serve, text: str) -> None:
    api = await serve(many(1))
    reply = await api.list_jobs({"filter": text})
    assert reply.status == 400
    assert error_of(reply)[0] == 3


async def test_list_token_must_match_the_other_parameters(serve: Serve) -> None:
    api = await serve(many(20))
    api.emu.clock.advance(100)
    first = await api.list_jobs({"pageSize": "5"})
    assert first.token is not None
    assert (await api.list_jobs({"pageSize": "5", "pageToken": first.token})).status == 200
    for change in ({"pageSize": "6"}, {"orderBy": "create_time desc"}, {"filter": 'state = "JOB_STATE_RUNNING"'}):
        reply = await api.list_jobs({"pageSize": "5", **change, "pageToken": first.token})
        assert reply.status == 400
        assert error_of(reply) == (3, "INVALID_PAGE_TOKEN")
    assert (await api.list_jobs({"pageToken": "junk"})).status == 400


async def test_list_read_mask(serve: Serve) -> None:
    api = await serve(many(3))
    api.emu.clock.advance(100)
    reply = await api.list_jobs({"readMask": "name,jobProgress.totalInputRequests"})
    for job in reply.data["batchInferenceJobs"]:
        assert set(job) == {"name", "jobProgress"}
        assert job["jobProgress"] == {"totalInputRequests": 1000}
    assert (await api.list_jobs({"readMask": "nope"})).status == 400


async def test_jobs_created_while_paging_appear_on_later_pages(serve: Serve) -> None:
    api = await serve(many(10))
    api.emu.clock.advance(4)
    first = await api.list_jobs({"pageSize": "3"})
    api.emu.clock.advance(10)
    rest, _ = await list_all(api, {"pageSize": "3", "pageToken": first.token or ""})
    assert ids(first.data) + rest == [f"job-{i:03d}" for i in range(10)]
