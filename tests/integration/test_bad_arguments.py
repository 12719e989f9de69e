"""Bad arguments to every public method raise before any request reaches the server, naming the argument.

Methods that return a generator or a context manager raise when called, not on first iteration or on enter;
coroutines raise when awaited (the earliest they can), still before anything is sent. A bad value raises
``ValueError``; a value of the wrong type (``ranks=["1"]``) raises ``TypeError``, as documented. The client clamps
nothing: a ``page_size`` above the server's maximum (10,000 for logs, 200 for jobs), which the server would
silently coerce, is refused.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

import fwbatch_async as fw
from fwbatch_async.emulator import Emulator, ManualClock, Scenario

Call = Callable[[fw.AsyncClient], object]
NAIVE = datetime(2026, 11, 22, 4, 0)
BAD_IDS = {
    "slash": "a/b",
    "dot-dot": "..",
    "dot": ".",
    "query": "job?x=1",
    "fragment": "job#x",
    "percent": "job%2Fx",
    "backslash": "a\\b",
    "space": "a b",
    "newline": "job\n",
    "nul": "job\x00",
    "escape": "job\x1b[2J",
    "del": "job\x7f",
    "empty": "",
    "10 kB": "j" * 10_000,
    "bad full name": "accounts/acct/otherThings/x",
    "name with slash": "accounts/acct/batchInferenceJobs/a/b",
}


def id_cases() -> list[tuple[str, Call, str]]:
    """Every method that takes a job id, with every bad id."""
    by_method: dict[str, tuple[Callable[[fw.AsyncClient, str], object], str]] = {
        "get_batch_inference_job": (lambda c, i: c.get_batch_inference_job(i), "job_id"),
        "get_batch_job_logs": (lambda c, i: c.get_batch_job_logs(i), "batch_job_id"),
        "iter_log_pages": (lambda c, i: c.iter_log_pages(i), "batch_job_id"),
        "iter_logs": (lambda c, i: c.iter_logs(i), "batch_job_id"),
        "tail_logs": (lambda c, i: c.tail_logs(i), "batch_job_id"),
        "follow_logs": (lambda c, i: c.follow_logs(i), "batch_job_id"),
        "watch_job": (lambda c, i: c.watch_job(i), "job_id"),
        "wait_for_job": (lambda c, i: c.wait_for_job(i), "job_id"),
        "follow_job": (lambda c, i: c.follow_job(i), "job_id"),
        "follow_job batch id": (lambda c, i: c.follow_job("job-1", i), "batch_job_id"),
        "follow_jobs": (lambda c, i: c.follow_jobs(["job-1", i]), "job_id"),
        "follow_jobs batch ids": (lambda c, i: c.follow_jobs(["job-1"], batch_job_ids={"job-1": i}), "batch_job_id"),
        "wait_for_jobs": (lambda c, i: c.wait_for_jobs(["job-1", i]), "job_id"),
    }
    return [
        (f"{method}[{label}]", lambda c, f=call, i=bad: f(c, i), name)  # type: ignore[misc]
        for method, (call, name) in by_method.items()
        for label, bad in BAD_IDS.items()
    ]


VALUE_CASES: list[tuple[str, Call, str]] = [
    # page sizes: refused, not clamped
    *[
        (f"{method}[page_size={size}]", call, "page_size")
        for size in (0, -1, 10_001)
        for method, call in {
            "get_batch_job_logs": lambda c, s=size: c.get_batch_job_logs("job-1", page_size=s),
            "iter_log_pages": lambda c, s=size: c.iter_log_pages("job-1", page_size=s),
            "iter_logs": lambda c, s=size: c.iter_logs("job-1", page_size=s),
            "follow_logs": lambda c, s=size: c.follow_logs("job-1", page_size=s),
        }.items()
    ],
    ("list[page_size=201]", lambda c: c.list_batch_inference_jobs(page_size=201), "page_size"),
    ("list[page_size=0]", lambda c: c.list_batch_inference_jobs(page_size=0), "page_size"),
    # naive datetimes
    ("get_batch_job_logs[naive]", lambda c: c.get_batch_job_logs("job-1", start_time=NAIVE), "start_time"),
    ("iter_log_pages[naive]", lambda c: c.iter_log_pages("job-1", start_time=NAIVE), "start_time"),
    ("iter_logs[naive]", lambda c: c.iter_logs("job-1", start_time=NAIVE), "start_time"),
    ("follow_logs[naive]", lambda c: c.follow_logs("job-1", since=NAIVE), "since"),
    ("follow_job[naive]", lambda c: c.follow_job("job-1", since=NAIVE), "since"),
    ("follow_jobs[naive]", lambda c: c.follow_jobs(["job-1"], since=NAIVE), "since"),
    ("iter_logs[bad time text]", lambda c: c.iter_logs("job-1", start_time="yesterday"), "start_time"),
    # ranks
    ("get_batch_job_logs[rank -1]", lambda c: c.get_batch_job_logs("job-1", ranks=[-1]), "ranks"),
    ("iter_logs[rank 2**31]", lambda c: c.iter_logs("job-1", ranks=[2**31]), "ranks"),
    ("iter_logs[no ranks]", lambda c: c.iter_logs("job-1", ranks=[]), "ranks"),
    ("tail_logs[rank -1]", lambda c: c.tail_logs("job-1", ranks=[-1]), "ranks"),
    ("follow_logs[rank -1]", lambda c: c.follow_logs("job-1", ranks=[-1]), "ranks"),
    ("follow_job[rank -1]", lambda c: c.follow_job("job-1", ranks=[-1]), "ranks"),
    ("follow_jobs[rank -1]", lambda c: c.follow_jobs(["job-1"], ranks=[-1]), "ranks"),
    # counts, directions, windows
    ("tail_logs[n=-1]", lambda c: c.tail_logs("job-1", -1), "n"),
    ("iter_logs[direction]", lambda c: c.iter_logs("job-1", direction="up"), "direction"),  # type: ignore[arg-type]
    ("follow_logs[last=-1]", lambda c: c.follow_logs("job-1", last=-1), "last"),
    ("follow_logs[two starts]", lambda c: c.follow_logs("job-1", last=5, from_start=True), "at most one"),
    ("follow_logs[lookback]", lambda c: c.follow_logs("job-1", lookback=-1.0), "lookback"),
    ("follow_logs[max_window]", lambda c: c.follow_logs("job-1", max_window=0), "max_window"),
    ("follow_logs[cursor]", lambda c: c.follow_logs("job-1", cursor="{not json"), "cursor"),
    ("follow_jobs[lookback]", lambda c: c.follow_jobs(["job-1"], lookback=float("nan")), "lookback"),
    ("get_batch_inference_job[read_mask]", lambda c: c.get_batch_inference_job("job-1", read_mask=[""]), "read_mask"),
    # empty job lists
    ("follow_jobs[empty]", lambda c: c.follow_jobs([]), "job_ids"),
    ("wait_for_jobs[empty]", lambda c: c.wait_for_jobs([]), "job_ids"),
    # durations
    *[
        (f"{method}[{name}={value}]", call, name)
        for value in (0, -1.0, float("nan"), "5", True)
        for method, name, call in [
            ("wait_for_job", "timeout", lambda c, v=value: c.wait_for_job("job-1", timeout=v)),
            ("wait_for_job", "stall_after", lambda c, v=value: c.wait_for_job("job-1", stall_after=v)),
            ("wait_for_jobs", "timeout", lambda c, v=value: c.wait_for_jobs(["job-1"], timeout=v)),
            ("wait_for_jobs", "stall_after", lambda c, v=value: c.wait_for_jobs(["job-1"], stall_after=v)),
            ("watch_job", "stall_after", lambda c, v=value: c.watch_job("job-1", stall_after=v)),
            ("follow_job", "stall_after", lambda c, v=value: c.follow_job("job-1", stall_after=v)),
            ("follow_jobs", "stall_after", lambda c, v=value: c.follow_jobs(["job-1"], stall_after=v)),
        ]
    ],
]
TYPE_CASES: list[tuple[str, Call, str]] = [
    ("follow_jobs[a string]", lambda c: c.follow_jobs("job-1"), "job_ids"),
    ("wait_for_jobs[a string]", lambda c: c.wait_for_jobs("job-1"), "job_ids"),
    ("get_batch_job_logs[rank '1']", lambda c: c.get_batch_job_logs("job-1", ranks=["1"]), "ranks"),  # type: ignore[list-item]
    ("iter_logs[rank 1.0]", lambda c: c.iter_logs("job-1", ranks=[1.0]), "ranks"),  # type: ignore[list-item]
    ("follow_logs[rank True]", lambda c: c.follow_logs("job-1", ranks=[True]), "ranks"),
    ("follow_logs[ranks '01']", lambda c: c.follow_logs("job-1", ranks="01"), "ranks"),  # type: ignore[arg-type]
    ("get_batch_inference_job[id 5]", lambda c: c.get_batch_inference_job(5), "job_id"),  # type: ignore[arg-type]
    ("iter_logs[page_size 1.5]", lambda c: c.iter_logs("job-1", page_size=1.5), "page_size"),  # type: ignore[arg-type]
    ("iter_logs[filter 5]", lambda c: c.iter_logs("job-1", filter=5), "filter"),  # type: ignore[arg-type]
    ("follow_logs[since 5]", lambda c: c.follow_logs("job-1", since=5), "since"),  # type: ignore[arg-type]
]
CLIENT_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("empty key", {"api_key": ""}, "api_key"),
    ("key with newline", {"api_key": "k\n"}, "api_key"),
    ("account with slash", {"account_id": "a/b"}, "account_id"),
    ("account 10 kB", {"account_id": "a" * 10_000}, "account_id"),
    ("empty account", {"account_id": ""}, "account_id"),
    ("timeout 0", {"timeout": 0}, "timeout"),
    ("timeout nan", {"timeout": float("nan")}, "timeout"),
    ("timeout text", {"timeout": "30"}, "timeout"),
    ("timeout bool", {"timeout": True}, "timeout"),
    ("max_in_flight 0", {"max_in_flight": 0}, "max_in_flight"),
    ("max_in_flight 1.5", {"max_in_flight": 1.5}, "max_in_flight"),
    ("base_url ftp", {"base_url": "ftp://127.0.0.1"}, "base_url"),
    ("base_url with a query", {"base_url": "https://api.fireworks.ai/?x=1"}, "base_url"),
    ("plain http elsewhere", {"base_url": "http://api.fireworks.ai"}, "allow_insecure_http"),
]


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator[ManualClock]]:
    async with Emulator(Scenario.named("small"), clock=ManualClock(), api_key="k") as emu:
        yield emu


@pytest.fixture
async def client(emulator: Emulator[ManualClock]) -> AsyncIterator[fw.AsyncClient]:
    emulator.stats.reset()
    async with fw.AsyncClient(api_key="k", account_id=emulator.account_id, base_url=emulator.base_url) as client:
        yield client
    assert sum(emulator.stats.requests.values()) == 0, "a request reached the server"


async def raised_by(call: Call, client: fw.AsyncClient) -> BaseException:
    """The error ``call`` raises: at call time, or, for a coroutine, when awaited. Fails if it raises later."""
    try:
        result = call(client)
    except Exception as error:
        return error
    assert inspect.iscoroutine(result), f"{result!r} did not raise when called"
    try:
        await result
    except Exception as error:
        return error
    pytest.fail("awaiting it raised nothing")


BAD_VALUES = id_cases() + VALUE_CASES


@pytest.mark.parametrize(("case", "call", "argument"), BAD_VALUES, ids=[case for case, _, _ in BAD_VALUES])
async def test_a_bad_value_raises_argument_error_naming_it_before_any_request(
    client: fw.AsyncClient, case: str, call: Call, argument: str
) -> None:
    error = await raised_by(call, client)
    assert type(error) is fw.ArgumentError, f"{case}: {error!r}"  # a ValueError, and marked as the caller's
    assert argument in str(error)
    assert len(str(error)) < 500  # a 10 kB id is not echoed whole


@pytest.mark.parametrize(("case", "call", "argument"), TYPE_CASES, ids=[case for case, _, _ in TYPE_CASES])
async def test_a_value_of_the_wrong_type_raises_type_error_naming_it_before_any_request(
    client: fw.AsyncClient, case: str, call: Call, argument: str
) -> None:
    error = await raised_by(call, client)
    assert type(error) is TypeError, f"{case}: {error!r}"
    assert argument in str(error)


@pytest.mark.parametrize(("case", "kwargs", "argument"), CLIENT_CASES, ids=[case for case, _, _ in CLIENT_CASES])
def test_a_bad_client_setting_raises_value_error_naming_it(case: str, kwargs: dict[str, Any], argument: str) -> None:
    settings = {"api_key": "k", "account_id": "acct", **kwargs}
    with pytest.raises(ValueError, match=argument) as raised:
        fw.AsyncClient(**settings)
    assert len(str(raised.value)) < 500


async def test_good_edge_values_are_accepted(emulator: Emulator[ManualClock]) -> None:
    """The limits themselves are valid: the checks above refuse only what is out of range."""
    for timeout in (1, 0.001, aiohttp.ClientTimeout(total=5)):  # accepted; no request depends on how fast it is
        async with fw.AsyncClient(api_key="k", base_url=emulator.base_url, timeout=timeout) as timed:
            assert timed._config.timeout == timeout
    async with fw.AsyncClient(api_key="k", account_id=emulator.account_id, base_url=emulator.base_url) as client:
        await client.get_batch_job_logs("job-1", page_size=10_000, ranks=[0, 2**31 - 1])
        await client.get_batch_job_logs(f"accounts/{emulator.account_id}/batchJobs/job-1", page_size=1)
        assert await client.tail_logs("job-1", 0) == []
        async with client.follow_logs("job-1", last=0, since=None, lookback=0.0, page_size=1):
            pass
        async with client.follow_jobs(["job-1", "job-1"], since=timedelta(seconds=5), stall_after=1e-9):
            pass
        [_ async for _ in client.list_batch_inference_jobs(page_size=200)]
