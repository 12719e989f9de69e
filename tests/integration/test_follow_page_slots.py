"""Followers that share page slots (as a fan-out's do) hold at most that many decoded pages between them.

No network: the follows read from a fake fetch, on a virtual clock.
"""

from __future__ import annotations

import asyncio
import contextlib

from testkit import RecordingClock

from fwbatch_async import LogEntry, LogPage, PollPolicy, Timestamp
from fwbatch_async._core.follow import WindowSettings
from fwbatch_async._core.requests import Request, log_query
from fwbatch_async.logs import DatedPage, FollowLogs, FollowSettings, FollowStart, RequestMeter

T0 = 1_795_320_000 * 10**9


def follow(job: str, fetched: list[str], slots: asyncio.Semaphore, clock: RecordingClock) -> FollowLogs:
    async def fetch(request: Request, _meter: RequestMeter | None) -> DatedPage:
        fetched.append(job)
        entries = tuple(LogEntry(Timestamp(T0 + i), 0, f"{job} line {i}") for i in range(3))
        return LogPage(entries=entries if request.query.count("startTime") == 0 else ()), None

    query = log_query(job, "acct", page_size=10, start_from_head=True)
    logs = FollowLogs(
        fetch=fetch,
        forward=query,
        backward=query,
        start=FollowStart(),
        settings=FollowSettings(WindowSettings(), PollPolicy(), page_size=10),
        clock=clock,
        random=lambda: 0.5,
        is_retryable=lambda _error: False,
        fingerprint="f",
        label=job,
    )
    return logs._share_page_slots(slots)


async def test_a_follower_keeps_its_slot_until_its_page_was_taken_and_others_wait_for_it(
    clock: RecordingClock,
) -> None:
    slots = asyncio.Semaphore(1)
    fetched: list[str] = []
    first, second = follow("a", fetched, slots, clock), follow("b", fetched, slots, clock)
    async with first, second:
        a_entries, b_entries = aiter(first), aiter(second)
        assert (await anext(a_entries)).message == "a line 0"  # a holds the only slot: two entries not taken yet
        waiting = asyncio.ensure_future(anext(b_entries))
        for _ in range(10):
            await asyncio.sleep(0)
        assert fetched == ["a"]
        assert not waiting.done()
        assert [(await anext(a_entries)).message for _ in range(2)] == ["a line 1", "a line 2"]
        # Asking a for more lets its page go: b gets the slot and reads, while a waits for its turn to poll.
        a_next = asyncio.ensure_future(anext(a_entries))
        assert (await waiting).message == "b line 0"
        assert fetched[:2] == ["a", "b"]
        a_next.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await a_next
