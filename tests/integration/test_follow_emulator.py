"""Reading and following logs against the emulator over real HTTP, in the emulator's virtual time.

The client shares the emulator's manual clock: every wait of the follower or of a retry advances emulated time
instead of sleeping, so a job of minutes runs in a second, deterministically. Ground truth comes from a second,
unstarted emulator of the same scenario whose clock is moved past the job's end.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable

import pytest

import fwbatch_async as fw
from fwbatch_async.emulator import Emulator, Faults, JobSpec, LateLines, ManualClock, Realism, Scenario

Line = tuple[str, int, str]


class WatchedClock(ManualClock):
    """The emulator's manual clock, with a deadline in virtual time and a hook after each sleep."""

    def __init__(self, deadline: float = 3600.0) -> None:
        super().__init__()
        self.deadline = deadline
        self.on_sleep: Callable[[], None] | None = None

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds)
        if self.monotonic() > self.deadline:
            raise AssertionError(f"still waiting after {self.deadline:.0f} s of virtual time")
        if self.on_sleep is not None:
            self.on_sleep()


def scenario(**job: object) -> Scenario:
    return Scenario(account="acct", seed=11, jobs=[JobSpec(id="job-1", **job)])  # type: ignore[arg-type]


def ground_truth(world: Scenario, after: float, realism: Realism | None = None) -> list[Line]:
    truth = Emulator(world, clock=ManualClock(), realism=realism)
    truth.clock.advance(after)
    return truth.logs("job-1", include_pending=True)


def lines_of(entries: list[fw.LogEntry]) -> Counter[Line]:
    return Counter((e.log_time.text, e.rank, e.message) for e in entries)


@contextlib.asynccontextmanager
async def world(
    spec: Scenario, *, faults: Faults | None = None, realism: Realism | None = None, deadline: float = 3600.0
) -> AsyncIterator[tuple[Emulator[WatchedClock], fw.AsyncClient]]:
    clock = WatchedClock(deadline)
    async with (
        Emulator(spec, clock=clock, api_key="k", faults=faults, realism=realism) as emu,
        fw.AsyncClient(
            api_key="k", account_id="acct", base_url=emu.base_url, clock=clock, retry=fw.RetryPolicy(max_attempts=4)
        ) as client,
    ):
        yield emu, client


async def collect(logs: fw.FollowLogs, count: int) -> list[fw.LogEntry]:
    got: list[fw.LogEntry] = []
    if count:
        async for entry in logs:
            got.append(entry)
            if len(got) == count:
                break
    return got


BUSY = {
    "duration": 80.0,
    "lines_per_second": 1600.0,
    "ranks": 8,
    "late": LateLines(fraction=0.05, max_delay=2.0),
    "duplicates": 0.02,
    "burst_every": 10.0,
    "burst_size": 1500,  # more than a page of the follow below, all at one timestamp
}


async def test_following_delivers_100k_lines_exactly_once_through_faults_and_wire_quirks() -> None:
    spec = scenario(**BUSY)
    faults = Faults(
        rate=0.15,
        kinds={"429": 1, "429_retry_after": 1, "500": 1, "503": 1, "502_html": 1, "reset": 1, "truncated": 1},
        endpoints=("logs",),
        seed=5,
    )
    realism = Realism(
        int64_as_strings=True,
        fraction_digits={0, 3, 6, 9},
        unknown_fields=True,
        empty_pages_with_token=0.1,
        repeat_end_token=True,
    )
    expected = ground_truth(spec, after=200.0, realism=realism)
    assert len(expected) >= 100_000
    async with world(spec, faults=faults, realism=realism) as (emu, client):
        async with client.follow_logs("job-1", from_start=True, lookback=3.0, page_size=1000) as logs:
            got = await collect(logs, len(expected))
        stats = logs.stats
    assert lines_of(got) == Counter(expected)
    assert stats.possibly_missed == 0
    assert stats.late_entries > 0
    assert stats.retries > 0
    injected = emu.stats.faults
    assert {"429", "429_retry_after", "503", "502_html", "reset", "truncated"} <= set(injected)


async def test_a_follow_resumed_from_a_cursor_yields_exactly_the_missing_lines() -> None:
    spec = scenario(duration=60.0, lines_per_second=300.0, late=LateLines(fraction=0.1, max_delay=2.0))
    expected = ground_truth(spec, after=200.0)
    async with world(spec) as (emu, client):
        async with client.follow_logs("job-1", from_start=True, lookback=3.0, page_size=500) as logs:
            before = await collect(logs, len(expected) // 3)
            saved = logs.cursor.to_json()
        emu.clock.advance(15.0)  # stopped for 15 s while lines, late ones included, kept coming
        async with (
            fw.AsyncClient(api_key="k", account_id="acct", base_url=emu.base_url, clock=emu.clock) as second,
            second.follow_logs("job-1", cursor=saved, lookback=3.0, page_size=500) as resumed,
        ):
            after = await collect(resumed, len(expected) - len(before))
    assert lines_of(before) + lines_of(after) == Counter(expected)
    assert resumed.stats.possibly_missed == 0


async def test_last_n_shows_the_tail_then_every_new_line() -> None:
    spec = scenario(duration=40.0, lines_per_second=50.0, late=LateLines(fraction=0.0))
    expected = ground_truth(spec, after=100.0)
    async with world(spec) as (emu, client):
        emu.clock.advance(20.0)
        shown = emu.logs("job-1")
        async with client.follow_logs("job-1", last=5) as logs:
            got = await collect(logs, 5 + len(expected) - len(shown))
    assert [(e.log_time.text, e.rank, e.message) for e in got[:5]] == shown[-5:]
    assert lines_of(got[5:]) == Counter(expected) - Counter(shown)


async def test_finite_reads_and_the_tail_against_the_emulator() -> None:
    spec = scenario(duration=50.0, lines_per_second=1000.0, late=LateLines(fraction=0.0))
    async with world(spec) as (emu, client):
        emu.clock.advance(100.0)
        truth = emu.logs("job-1")
        forward = [e async for e in client.iter_logs("job-1", page_size=10_000)]
        backward = [e async for e in client.iter_logs("job-1", direction="backward", page_size=7_000)]
        tail = await client.tail_logs("job-1", 25_000)
        since = truth[len(truth) // 2][0]
        later = [e async for e in client.iter_logs("job-1", start_time=since, ranks=[0, 1], filter="step")]
    as_lines = [(e.log_time.text, e.rank, e.message) for e in forward]
    assert len(truth) > 25_000
    assert as_lines == truth
    assert [(e.log_time.text, e.rank, e.message) for e in backward] == truth[::-1]
    assert [(e.log_time.text, e.rank, e.message) for e in tail] == truth[-25_000:]
    since_ns = fw.Timestamp.parse(since).ns
    expected_later = [
        line for line in truth if fw.Timestamp.parse(line[0]).ns >= since_ns and line[1] in {0, 1} and "step" in line[2]
    ]
    assert [(e.log_time.text, e.rank, e.message) for e in later] == expected_later


@pytest.mark.parametrize("seed", range(12))
async def test_cancelling_a_follow_at_a_random_point_leaves_nothing_behind(seed: int) -> None:
    rng = random.Random(seed)
    spec = scenario(duration=30.0, lines_per_second=200.0)
    faults = Faults(rate=0.2, kinds={"429_retry_after": 1, "503": 1, "reset": 1}, endpoints=("logs",), seed=seed)
    async with world(spec, faults=faults) as (emu, client):
        logs = client.follow_logs("job-1", from_start=True, lookback=3.0, page_size=rng.choice([50, 500]))
        task = asyncio.create_task(collect(logs, 10**9))
        stop_after = rng.randint(1, 40)
        sleeps = {"count": 0}

        def cancel_at_a_random_sleep() -> None:
            sleeps["count"] += 1
            if sleeps["count"] == stop_after:
                task.cancel()

        emu.clock.on_sleep = cancel_at_a_random_sleep
        with pytest.raises(asyncio.CancelledError):
            await task
        emu.clock.on_sleep = None
        await logs.aclose()
        # The same client goes on working after the cancelled follow (faults off: this read checks the client, not
        # its retries, and four faults in a row at 20% do happen across CI runs).
        faults.rate = 0.0
        job_page = await client.get_batch_job_logs("job-1", page_size=1)
        assert len(job_page.entries) == 1
    gc.collect()
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


@pytest.mark.parametrize("seed", range(6))
async def test_breaking_out_mid_page_and_resuming_repeats_nothing(seed: int) -> None:
    rng = random.Random(seed)
    spec = scenario(duration=20.0, lines_per_second=400.0, late=LateLines(fraction=0.1, max_delay=1.5))
    expected = ground_truth(spec, after=100.0)
    got: list[fw.LogEntry] = []
    async with world(spec) as (emu, client):
        cursor: fw.FollowCursor | str | None = None
        while len(got) < len(expected):
            start = {"cursor": cursor} if cursor is not None else {"from_start": True}
            async with client.follow_logs("job-1", lookback=3.0, page_size=rng.choice([7, 100, 1000]), **start) as logs:
                got += await collect(logs, min(rng.randint(1, 900), len(expected) - len(got)))
                cursor = logs.cursor.to_json() if rng.random() < 0.5 else logs.cursor
            emu.clock.advance(rng.uniform(0.0, 4.0))
    assert lines_of(got) == Counter(expected)
