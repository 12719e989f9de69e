"""Watching, waiting for and following jobs against the emulator, over real HTTP, in virtual time.

Client and emulator share a VirtualClock: every wait advances emulated time once all tasks have settled, so jobs
of minutes run in a moment and many jobs can be followed at once. Ground truth for logs comes from a second,
unstarted emulator of the same scenario with its clock moved past the jobs' ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter, defaultdict
from collections.abc import AsyncIterator

import pytest
from jobworld import job, world
from virtualtime import VirtualClock

import fwbatch_async as fw
from fwbatch_async._core import listing
from fwbatch_async.emulator import Emulator, Faults, LateLines, ManualClock, Realism, Scenario

Line = tuple[str, int, str]
FINISHED = ["COMPLETED", "FAILED", "EXPIRED", "CANCELLED"]


def ground_truth(scenario: Scenario, job_id: str, after: float = 10_000.0) -> Counter[Line]:
    truth = Emulator(scenario, clock=ManualClock())
    truth.clock.advance(after)
    return Counter(truth.logs(job_id, include_pending=True))


def line(event: fw.LogLine) -> Line:
    entry = event.entry
    return (entry.log_time.text, entry.rank, entry.message)


# --- watching and waiting -----------------------------------------------------------------------------------------


async def test_a_watch_reports_every_change_in_order_and_ends_with_the_finished_state() -> None:
    async with world([job("j")]) as (emu, client):
        updates = [update async for update in client.watch_job("j")]
        reads = emu.stats.requests["job"]
    assert fw.Change.FIRST in updates[0].changes
    states = [u.state for u in updates]
    assert states[-1] is fw.JobState.COMPLETED
    assert fw.JobState.RUNNING in states
    assert fw.JobState.WRITING_RESULTS in states
    for before, after in itertools.pairwise(updates):
        assert after.previous_state is before.state
        assert after.changes
    processed = [u.job.job_progress.total_processed_requests for u in updates if u.job.job_progress]
    assert processed == sorted(processed)
    assert processed[-1] == 1000
    assert reads <= 70  # a 60 s job: about one read a second while it moves, fewer while it waits


@pytest.mark.parametrize("outcome", ["FAILED", "EXPIRED", "CANCELLED"])
async def test_waiting_for_a_job_that_ends_badly_raises_with_the_job_and_its_reason(outcome: str) -> None:
    async with world([job("j", outcome)]) as (_, client):
        with pytest.raises(fw.JobFailedError) as failure:
            await client.wait_for_job("j")
        ended = await client.wait_for_job("j", raise_on_failure=False)
    assert failure.value.job is not None
    assert failure.value.job.state.short_name == outcome
    assert failure.value.job.status is not None
    assert failure.value.job.status.message in str(failure.value)
    assert ended.state.short_name == outcome


async def test_waiting_for_a_completed_job_returns_it_read_in_full() -> None:
    async with world([job("j")]) as (emu, client):
        finished = await client.wait_for_job("j")
        expected = emu.job("j")
    assert finished.state is fw.JobState.COMPLETED
    assert finished.model == expected["model"]
    assert finished.job_progress is not None
    assert finished.job_progress.total_processed_requests == 1000


async def test_a_wait_that_times_out_raises_with_the_job_as_last_seen() -> None:
    async with world([job("j", duration=600.0)]) as (emu, client):
        with pytest.raises(fw.WaitTimeoutError) as timeout:
            await client.wait_for_job("j", timeout=120.0)
        waited = emu.clock.monotonic()
    assert timeout.value.job is not None
    assert not timeout.value.job.state.is_finished
    assert timeout.value.timeout == 120.0
    assert 120.0 <= waited <= 122.0


async def test_a_job_running_without_progress_is_reported_as_stalled() -> None:
    # STUCK: RUNNING forever, progress frozen at 40 % of the duration (here 40 s).
    async with world([job("j", "STUCK", duration=100.0)]) as (emu, client):
        with pytest.raises(fw.JobStalledError) as stalled:
            await client.wait_for_job("j", stall_after=30.0)
        when = emu.clock.monotonic()
        reported = [u async for u in _until_stalled(client.watch_job("j", stall_after=30.0, raise_on_stall=False))]
    assert stalled.value.job is not None
    assert stalled.value.job.state is fw.JobState.RUNNING
    assert stalled.value.stalled_for >= 30.0
    assert 70.0 <= when <= 75.0  # frozen at 40 s, plus 30 s
    assert fw.Change.STALLED in reported[-1].changes


async def _until_stalled(updates: AsyncIterator[fw.JobUpdate]) -> AsyncIterator[fw.JobUpdate]:
    async for update in updates:
        yield update
        if fw.Change.STALLED in update.changes:
            return


async def test_an_unknown_state_is_shown_raw_and_does_not_end_the_watch() -> None:
    # WARMING_UP lasts 2.5 % of the run: 75 s here, longer than the longest wait between reads (a minute while
    # the job waits for capacity, PENDING just before).
    async with world([job("j", duration=3000.0, lines_per_second=1.0)], realism=Realism(unknown_state=True)) as (
        _,
        client,
    ):
        states = [u.state async for u in client.watch_job("j")]
    unknown = [s for s in states if not s.is_known]
    assert [s.value for s in unknown] == ["JOB_STATE_WARMING_UP"]
    assert not unknown[0].is_finished
    assert states[-1] is fw.JobState.COMPLETED


async def test_waiting_for_many_jobs_collects_every_failure_after_all_have_ended() -> None:
    jobs = [job("ok-1"), job("ok-2", duration=90.0), job("bad", "FAILED", duration=30.0)]
    async with world(jobs) as (_, client):
        with pytest.raises(ExceptionGroup) as group:
            await client.wait_for_jobs(["ok-1", "ok-2", "bad", "missing"])
        finished = await client.wait_for_jobs(["ok-1", "ok-2", "bad"], raise_on_failure=False)
    kinds = sorted(type(e).__name__ for e in group.value.exceptions)
    assert kinds == ["JobFailedError", "NotFoundError"]
    assert [j.state.short_name for j in finished.values()] == ["COMPLETED", "COMPLETED", "FAILED"]


# --- following jobs -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", FINISHED)
async def test_following_a_job_delivers_every_line_once_and_ends_after_the_drain(outcome: str) -> None:
    spec = job("j", outcome, batch_job_id="b-77")
    scenario = Scenario(account="acct", seed=3, jobs=[spec])
    events: list[fw.JobEvent] = []
    async with world([spec]) as (emu, client):
        async with client.follow_job("j", "b-77", from_start=True, lookback=3.0) as stream:
            events = [event async for event in stream]
        ended_at = emu.clock.monotonic()
    lines = Counter(line(e) for e in events if isinstance(e, fw.LogLine))
    assert lines == ground_truth(scenario, "j")
    ended = events[-1]
    assert isinstance(ended, fw.JobEnded)
    assert ended.error is None
    assert ended.job is not None
    assert ended.job.state.short_name == outcome
    assert ended.succeeded is (outcome == "COMPLETED")
    updates = [e for e in events if isinstance(e, fw.JobUpdate)]
    assert updates[-1].finished
    assert sum(isinstance(e, fw.JobUpdate) and e.finished for e in events) == 1
    # Never before the job finished (60 s), never long after: the lookback plus a few polls.
    assert 60.0 <= ended_at <= 60.0 + 3.0 + 12.0


async def test_a_job_waiting_for_capacity_is_read_rarely_and_its_log_only_once() -> None:
    """A job queued for about an hour (VALIDATING, PENDING, CREATING): its state read with a backoff to a minute, its
    log only by the first read (the tail, and the read forward from it) until it runs."""
    async with world([job("queued", duration=40_000.0)]) as (emu, client):
        updates: list[fw.JobState] = []

        async def follow() -> None:
            async with client.follow_jobs(["queued"]) as events:
                async for event in events:  # each kept as it comes: the task is cancelled, not ended
                    if isinstance(event, fw.JobUpdate):
                        updates.append(event.state)  # noqa: PERF401

        following = asyncio.create_task(follow())
        await emu.clock.sleep(3_900.0)  # CREATING ends at 4,000 s (10 % of the duration)
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
    assert updates == [fw.JobState.VALIDATING, fw.JobState.PENDING, fw.JobState.CREATING]
    assert emu.stats.requests["logs"] <= 2
    assert emu.stats.requests["job"] <= 3_900 / 60 + 3 * 10  # a minute apart, after a short backoff at each change


async def follow_many(
    count: int, *, wait: bool = False, age: float = 0.0
) -> tuple[dict[str, list[fw.JobEvent]], Scenario, Emulator[VirtualClock]]:
    """Follow (or wait for) ``count`` jobs of 60 s, ``age`` s old, to their ends: each job's events, the scenario,
    the emulator."""
    specs = [
        job(f"j{i:02d}", ("COMPLETED", "FAILED")[i % 2], lines_per_second=5.0, start_after=-age) for i in range(count)
    ]
    events: dict[str, list[fw.JobEvent]] = defaultdict(list)
    async with world(specs) as (emu, client):
        if wait:
            with contextlib.suppress(ExceptionGroup):  # the FAILED ones
                await client.wait_for_jobs([spec.id for spec in specs])
        else:
            async with client.follow_jobs([spec.id for spec in specs], from_start=True, lookback=3.0) as stream:
                async for event in stream:
                    events[event.job_id].append(event)
    return events, Scenario(account="acct", seed=3, jobs=specs), emu


async def test_many_running_jobs_are_read_with_one_listing_and_nothing_is_missed() -> None:
    """20 jobs: while they run, one listing a few seconds apart reads all of them instead of a read each; every line,
    every change of state and every end comes as it does without the listing."""
    events, scenario, emu = await follow_many(20)
    for job_id, seen in events.items():
        assert Counter(line(e) for e in seen if isinstance(e, fw.LogLine)) == ground_truth(scenario, job_id)
        states = [e.state for e in seen if isinstance(e, fw.JobUpdate)]
        assert fw.JobState.RUNNING in states
        assert states[-1].is_finished
        progress = [
            e.job.job_progress for e in seen if isinstance(e, fw.JobUpdate) and e.job.state.short_name == "RUNNING"
        ]
        assert len(progress) >= 5  # progress kept coming from the listings
        ended = seen[-1]
        assert isinstance(ended, fw.JobEnded)
        assert ended.error is None
    assert emu.stats.requests["list"] >= 10
    # Measured: 149 reads of the jobs without the listing (3 s apart while a job changes, up to 10 s while not),
    # 84 and 14 listings with it: the first read, the waiting phases, and the reads that see each job's end.
    assert emu.stats.requests["job"] + emu.stats.requests["list"] <= 20 * 5


async def test_jobs_running_when_the_stream_starts_are_first_read_from_the_listing() -> None:
    events, scenario, emu = await follow_many(20, age=10.0)  # RUNNING from 6 s of their lives
    for job_id, seen in events.items():
        assert Counter(line(e) for e in seen if isinstance(e, fw.LogLine)) == ground_truth(scenario, job_id, 200.0)
        first = next(e for e in seen if isinstance(e, fw.JobUpdate))
        assert fw.Change.FIRST in first.changes
        assert first.state is fw.JobState.RUNNING
    # Each job read on its own only once it left RUNNING: to see its end (and, for some, the state after).
    assert emu.stats.requests["job"] <= 20 * 3


async def test_a_wait_for_many_jobs_lists_them_too() -> None:
    _, _, emu = await follow_many(20, wait=True)
    assert emu.stats.requests["list"] >= 10
    # Measured: 644 reads without the listing (a wait reads a changing job every second), 162 and 19 listings with it.
    assert emu.stats.requests["job"] + emu.stats.requests["list"] <= 20 * 10


async def test_a_listing_the_server_refuses_falls_back_to_reading_each_job(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(listing, "RUNNING_FILTER", 'state != "JOB_STATE_RUNNING"')  # the emulator answers 400
    events, scenario, emu = await follow_many(6)
    assert emu.stats.requests["list"] == 1
    assert emu.stats.responses[400] == 1
    assert sum("listing the running jobs failed" in r.getMessage() for r in caplog.records) == 1
    for job_id, seen in events.items():
        assert Counter(line(e) for e in seen if isinstance(e, fw.LogLine)) == ground_truth(scenario, job_id)
        ended = seen[-1]
        assert isinstance(ended, fw.JobEnded)
        assert ended.error is None


async def test_one_failing_job_does_not_stop_the_others_and_jobs_can_be_added() -> None:
    jobs = [job("a", duration=40.0), job("b", "FAILED", duration=30.0), job("late", duration=30.0)]
    scenario = Scenario(account="acct", seed=3, jobs=jobs)
    per_job: defaultdict[str, Counter[Line]] = defaultdict(Counter)
    ends: dict[str, fw.JobEnded] = {}
    async with world(jobs) as (_, client), client.follow_jobs(["a", "b", "missing"], from_start=True) as stream:
        async for event in stream:
            if isinstance(event, fw.LogLine):
                per_job[event.job_id][line(event)] += 1
                if event.job_id == "a" and "late" not in ends and sum(per_job["a"].values()) == 10:
                    stream.add("late")
            elif isinstance(event, fw.JobEnded):
                assert event.job_id not in ends
                ends[event.job_id] = event
    assert set(ends) == {"a", "b", "missing", "late"}
    assert isinstance(ends["missing"].error, fw.NotFoundError)
    assert ends["missing"].job is None
    assert [ends[j].job.state.short_name for j in ("a", "b", "late")] == ["COMPLETED", "FAILED", "COMPLETED"]  # type: ignore[union-attr]
    for job_id in ("a", "b", "late"):
        assert per_job[job_id] == ground_truth(scenario, job_id)
    with pytest.raises(RuntimeError, match="ended"):
        stream.add("another")


async def test_an_exception_in_the_body_propagates_unchanged_and_leaves_no_task() -> None:
    class StopError(Exception):
        pass

    async def consume(client: fw.AsyncClient) -> None:
        async with client.follow_jobs(["a", "b"], from_start=True) as stream:
            async for event in stream:
                if isinstance(event, fw.LogLine):
                    raise StopError

    async with world([job("a"), job("b")]) as (_, client):
        before = client_side_tasks()
        with pytest.raises(StopError):
            await consume(client)
        assert client_side_tasks() == before


def client_side_tasks() -> set[asyncio.Task[object]]:
    """Every task but the emulator's connection handlers (keep-alive connections outlive requests)."""
    return {
        task for task in asyncio.all_tasks() if getattr(task.get_coro(), "__qualname__", "") != "RequestHandler.start"
    }


async def test_bad_arguments_fail_before_anything_is_sent() -> None:
    async with world([job("a")]) as (emu, client):
        with pytest.raises(ValueError, match="job"):
            client.follow_jobs(["a", "x/../y"])
        with pytest.raises(ValueError, match="stall_after"):
            client.watch_job("a", stall_after=0)
        with pytest.raises(ValueError, match="timeout"):
            await client.wait_for_job("a", timeout=-1)
        with pytest.raises(ValueError, match="at most one"):
            async with client.follow_job("a", last=5, from_start=True):
                pass
        assert sum(emu.stats.requests.values()) == 0


async def test_a_thousand_jobs_are_followed_to_their_ends_under_throttling() -> None:
    jobs = [
        job(
            f"job-{i:04d}",
            duration=10.0,
            lines_per_second=3.0,
            ranks=2,
            late=LateLines(fraction=0.05, max_delay=1.5),
            start_after=-(i % 7),
        )
        for i in range(1000)
    ]
    # Slow answers (5 ms of real time) keep requests open at the server, so they overlap there.
    faults = Faults(
        rate=0.12,
        kinds={"429": 5, "429_retry_after": 5, "slow": 2},
        endpoints=("job", "logs"),
        seed=9,
        slow_seconds=0.005,
    )
    scenario = Scenario(account="acct", seed=3, jobs=jobs)
    per_job: defaultdict[str, Counter[Line]] = defaultdict(Counter)
    ended: dict[str, fw.JobEnded] = {}
    async with world(jobs, faults=faults, max_in_flight=16) as (emu, client):
        ids = [spec.id for spec in jobs]
        async with client.follow_jobs(ids, from_start=True, lookback=2.0) as stream:
            async for event in stream:
                if isinstance(event, fw.LogLine):
                    per_job[event.job_id][line(event)] += 1
                elif isinstance(event, fw.JobEnded):
                    ended[event.job_id] = event
        requests = sum(emu.stats.requests.values())
        throttled = emu.stats.faults["429"] + emu.stats.faults["429_retry_after"]
    assert 1 < emu.stats.max_in_flight <= 16  # the client's cap held across all 1,000 jobs
    assert len(ended) == 1000
    assert all(e.succeeded for e in ended.values())
    truth = Emulator(scenario, clock=ManualClock())
    truth.clock.advance(1000.0)
    assert all(per_job[i] == Counter(truth.logs(i, include_pending=True)) for i in ids)
    assert throttled > 0
    # A 10 s job (started up to 7 s ago): about one job read a second while it changes, a log read
    # every 0.5-5 s, a 2 s drain, and retries of the throttled tenth: bounded by 80 requests a job.
    assert requests <= 80 * 1000
