"""Cancelling anything at any point leaves nothing behind: no task, no open connection, no unclosed session, no warning.

Each example runs a follow, a watch or a fan-out against the emulator (faults on, virtual time) and cancels it, or
closes the client under it, at a point hypothesis picks: after a number of the client's sleeps, then a number of
event-loop turns more, which lands the cancellation anywhere, in the middle of an HTTP exchange included. Then:
no asyncio task but the test's own, the client's aiohttp session closed, no connection still open at the
emulator, nothing in flight there, and no ResourceWarning when the garbage is collected.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fwbatch_async as fw
from fwbatch_async.emulator import Emulator, Faults, JobSpec, ManualClock, Scenario

Run = Callable[[fw.AsyncClient], Coroutine[Any, Any, None]]
EXAMPLES = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))


class CountingClock(ManualClock):
    """The emulator's manual clock, which tells a waiter when the client has slept ``count`` times."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeps = 0
        self.reached = asyncio.Event()
        self.cancel_after = 0

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds)
        self.sleeps += 1
        if self.sleeps >= self.cancel_after:
            self.reached.set()
        if self.monotonic() > 7200:
            raise AssertionError("still running after two hours of virtual time")


async def follow_logs(client: fw.AsyncClient) -> None:
    async with client.follow_logs("job-1", from_start=True, lookback=2.0, page_size=50) as logs:
        async for _ in logs:
            pass


async def watch_job(client: fw.AsyncClient) -> None:
    async with contextlib.aclosing(client.watch_job("job-2")) as updates:
        async for _ in updates:
            pass


async def follow_job(client: fw.AsyncClient) -> None:
    async with client.follow_job("job-1", from_start=True, lookback=2.0) as events:
        async for _ in events:
            pass


async def follow_jobs(client: fw.AsyncClient) -> None:
    async with client.follow_jobs(["job-1", "job-2", "job-3"], from_start=True, lookback=2.0) as events:
        async for _ in events:
            pass


async def wait_for_jobs(client: fw.AsyncClient) -> None:
    await client.wait_for_jobs(["job-1", "job-2", "job-3"], raise_on_failure=False)


async def tail_and_iterate(client: fw.AsyncClient) -> None:
    await client.tail_logs("job-1", 500)
    async for _ in client.iter_logs("job-1", page_size=20):
        pass


RUNS: dict[str, Run] = {
    "follow_logs": follow_logs,
    "watch_job": watch_job,
    "follow_job": follow_job,
    "follow_jobs": follow_jobs,
    "wait_for_jobs": wait_for_jobs,
    "tail_and_iterate": tail_and_iterate,
}
WORLD = Scenario(
    account="acct",
    seed=7,
    jobs=[
        JobSpec(id="job-1", duration=40.0, lines_per_second=80.0, ranks=4),
        JobSpec(id="job-2", duration=25.0, lines_per_second=20.0),
        JobSpec(id="job-3", duration=60.0, lines_per_second=40.0, outcome="FAILED"),
    ],
)


async def settle(done: Callable[[], bool]) -> bool:
    """Let the event loop turn (never sleeping) until ``done()``, for a server noticing a closed socket."""
    for _ in range(200):
        if done():
            return True
        await asyncio.sleep(0)
    return done()


async def cancel_later(clock: CountingClock, turns: int, cancel: Callable[[], Awaitable[None]]) -> None:
    await clock.reached.wait()
    for _ in range(turns):
        await asyncio.sleep(0)
    await cancel()


async def run_and_interrupt(run: Run, *, sleeps: int, turns: int, fault_seed: int, close_client: bool) -> None:
    clock = CountingClock()
    clock.cancel_after = sleeps
    faults = Faults(rate=0.2, kinds={"429_retry_after": 1, "503": 1, "reset": 1, "truncated": 1}, seed=fault_seed)
    async with Emulator(WORLD, clock=clock, api_key="k", faults=faults) as emu:
        client = fw.AsyncClient(
            api_key="k", account_id="acct", base_url=emu.base_url, clock=clock, retry=fw.RetryPolicy(max_attempts=3)
        )
        work = asyncio.create_task(run(client))
        sessions: list[aiohttp.ClientSession] = []

        async def interrupt() -> None:
            if client._sender.transport is not None and client._sender.transport._session is not None:
                sessions.append(client._sender.transport._session)
            if close_client:
                await client.aclose()  # while the work still runs: it must end, not hang or leak
            else:
                work.cancel()

        canceller = asyncio.create_task(cancel_later(clock, turns, interrupt))
        # The work may end by itself first (a short wait, say), be cancelled, or fail on the closed client.
        with contextlib.suppress(asyncio.CancelledError, RuntimeError, fw.FwBatchError, ExceptionGroup):
            await work
        canceller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await canceller
        await client.aclose()
        assert client._sender.transport is None
        assert all(session.closed for session in sessions)
        assert await settle(lambda: emu.stats.in_flight == 0), "a request is still being handled"
        server = emu._runner.server if emu._runner is not None else None
        assert server is not None
        assert await settle(lambda: not server.connections), f"{len(server.connections)} connections still open"
    assert [task for task in asyncio.all_tasks() if task is not asyncio.current_task()] == []


def collected_warnings() -> list[str]:
    """Warnings raised while collecting garbage: unclosed sessions and transports warn only from ``__del__``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    return [f"{w.category.__name__}: {w.message}" for w in caught]


@pytest.mark.parametrize("name", RUNS)
@EXAMPLES
@given(sleeps=st.integers(0, 40), turns=st.integers(0, 30), fault_seed=st.integers(0, 2**16))
async def test_cancelling_at_any_point_leaves_nothing_behind(
    name: str, sleeps: int, turns: int, fault_seed: int
) -> None:
    await run_and_interrupt(RUNS[name], sleeps=sleeps, turns=turns, fault_seed=fault_seed, close_client=False)
    assert collected_warnings() == []


@pytest.mark.parametrize("name", ["follow_logs", "follow_jobs", "wait_for_jobs"])
@EXAMPLES
@given(sleeps=st.integers(0, 40), turns=st.integers(0, 30), fault_seed=st.integers(0, 2**16))
async def test_closing_the_client_under_running_work_ends_it_and_leaves_nothing_behind(
    name: str, sleeps: int, turns: int, fault_seed: int
) -> None:
    await run_and_interrupt(RUNS[name], sleeps=sleeps, turns=turns, fault_seed=fault_seed, close_client=True)
    assert collected_warnings() == []


async def test_the_warning_check_sees_an_unclosed_session() -> None:
    """The check above is not blind: a session nobody closed is reported when collected."""
    cycle: list[object] = [aiohttp.ClientSession()]
    cycle.append(cycle)  # freed only by the garbage collector, as a leaked session held by a cycle would be
    del cycle
    assert any("Unclosed client session" in text for text in collected_warnings())
