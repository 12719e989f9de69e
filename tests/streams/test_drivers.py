"""The streams layer on its own: the drivers, FollowLogs and the fan-out over a fake sender, in virtual time.

No HTTP and no emulator: a fake sender answers each request from a script, so what a driver sends, when it waits,
what it holds and how it ends are checked exactly (issue 15).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

import anyio
import attrs
import pytest
from testkit import RecordingClock

import fwbatch_async as fw
from fwbatch_async._core.following import FollowSettings, FollowStart
from fwbatch_async._core.plans import FollowPlan, WatchPlan
from fwbatch_async._core.requests import Request
from fwbatch_async._core.selection import LogSelection
from fwbatch_async._core.window import WindowSettings
from fwbatch_async._drive import finished_job, follow_batches, job_updates
from fwbatch_async._fanout import JobEvents, JobTarget
from fwbatch_async._logs import FollowLogs
from fwbatch_async._sender import Reply

T = TypeVar("T")
T0 = 1_795_320_000 * 10**9
Answer = Callable[[Request], Awaitable[object]]


class FakeSender:
    """Answers each attempt with what ``answer`` returns (an exception is raised); counts the requests."""

    def __init__(self, clock: RecordingClock, answer: Answer) -> None:
        self.clock = clock
        self.random = lambda: 0.5
        self.answer = answer
        self.sent: list[Request] = []
        self.turns = 0

    async def turn(self, deadline: float | None = None) -> None:
        self.turns += 1

    async def attempt(
        self, request: Request, model: type[T], *, turn_taken: bool = False, deadline: float | None = None
    ) -> Reply[T]:
        self.turns += not turn_taken
        self.sent.append(request)
        result = await self.answer(request)
        if isinstance(result, BaseException):
            raise result
        return Reply(cast("T", result), self.clock.now_ns)


def job_of(request: Request) -> str:
    return request.path.split("/")[-1].split(":")[0]


def follow_plan(page_size: int = 10) -> FollowPlan:
    return FollowPlan(
        account_id="acct",
        selection=LogSelection(page_size=page_size),
        start=FollowStart(),
        settings=FollowSettings(
            window=WindowSettings(lookback=1.0, audit=1.0),
            poll=fw.PollPolicy(min_interval=0.5, max_interval=1.0, jitter=0.0),
            retry=fw.RetryPolicy(base_delay=1.0).patient(),
            page_size=page_size,
        ),
    )


def three_lines(job: str) -> fw.LogPage:
    return fw.LogPage(tuple(fw.LogEntry(fw.Timestamp(T0 + i), 0, f"{job} line {i}") for i in range(3)))


async def test_a_follower_keeps_its_slot_until_its_page_was_taken_and_others_wait_for_it(clock: RecordingClock) -> None:
    async def answer(request: Request) -> object:
        return three_lines(job_of(request)) if "startTime" not in request.query else fw.LogPage(())

    sender = FakeSender(clock, answer)
    slots = asyncio.Semaphore(1)
    a = follow_batches(follow_plan().machine("a", sender.random), sender, label="a", slots=slots)
    b = follow_batches(follow_plan().machine("b", sender.random), sender, label="b", slots=slots)
    async with contextlib.aclosing(a), contextlib.aclosing(b):
        assert [e.message for e in await anext(a)] == ["a line 0", "a line 1", "a line 2"]  # a holds the slot
        waiting = asyncio.ensure_future(anext(b))
        for _ in range(10):  # b runs until it blocks: on the slot, not on a request
            await asyncio.sleep(0)
        assert [job_of(r) for r in sender.sent] == ["a"]
        assert slots.locked()
        assert not waiting.done()
        # Asking a for more lets its page go: b gets the slot and reads, while a waits for its turn to poll.
        a_next = asyncio.ensure_future(anext(a))
        assert [e.message for e in await waiting] == ["b line 0", "b line 1", "b line 2"]
        assert [job_of(r) for r in sender.sent][:2] == ["a", "b"]
        a_next.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await a_next


async def test_a_follower_waiting_out_failures_holds_no_slot(clock: RecordingClock) -> None:
    """32 jobs with failing requests must not stall the healthy ones (head-of-line blocking, issue 15)."""

    async def answer(request: Request) -> object:
        if job_of(request) == "failing":
            return fw.ServerError("unavailable", status=503)
        return three_lines(job_of(request))

    sender = FakeSender(clock, answer)
    slots = asyncio.Semaphore(1)
    failing = follow_batches(follow_plan().machine("failing", sender.random), sender, label="f", slots=slots)
    healthy = follow_batches(follow_plan().machine("healthy", sender.random), sender, label="h", slots=slots)
    async with contextlib.aclosing(failing), contextlib.aclosing(healthy):
        stuck = asyncio.ensure_future(anext(failing))
        for _ in range(10):  # the failing follower has sent, failed and begun to wait
            await asyncio.sleep(0)
        assert [job_of(r) for r in sender.sent][:1] == ["failing"]
        got = await anext(healthy)
        assert [e.message for e in got] == ["healthy line 0", "healthy line 1", "healthy line 2"]
        stuck.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stuck


async def test_follow_logs_hands_out_entries_with_a_cursor_that_counts_exactly_what_was_taken(
    clock: RecordingClock,
) -> None:
    async def answer(request: Request) -> object:
        return three_lines("j")

    sender = FakeSender(clock, answer)
    async with FollowLogs(follow_plan().machine("j", sender.random), sender, label="j") as logs:
        entries = aiter(logs)
        assert (await anext(entries)).message == "j line 0"
        cursor = logs.cursor
    assert logs.stats.entries_delivered == 1
    plan = attrs.evolve(follow_plan(), start=FollowStart(cursor=cursor))
    again = FollowLogs(plan.machine("j", sender.random), FakeSender(clock, answer), label="j")
    async with again:
        entries = aiter(again)
        taken = [(await anext(entries)).message for _ in range(2)]
    assert taken == ["j line 1", "j line 2"]


async def test_a_finished_follow_ends_its_iteration(clock: RecordingClock) -> None:
    async def answer(request: Request) -> object:
        return three_lines("j")

    sender = FakeSender(clock, answer)
    async with FollowLogs(follow_plan().machine("j", sender.random), sender, label="j") as logs:
        logs.finish()
        got = [entry.message async for entry in logs]
    assert got == ["j line 0", "j line 1", "j line 2"]
    assert clock.monotonic() - T0 / 1e9 >= 1.0  # the lookback (1 s) was waited out on the clock


def watch_plan(*, timeout: float | None = None) -> WatchPlan:
    poll = fw.PollPolicy(min_interval=1.0, max_interval=1.0, jitter=0.0)
    return WatchPlan.create(
        "acct", ["state"], poll=poll, retry=fw.RetryPolicy(base_delay=1.0), timeout=timeout, final_read=True
    )


def running(job_id: str, state: str = "RUNNING") -> fw.BatchInferenceJob:
    return fw.BatchInferenceJob(
        name=f"accounts/acct/batchInferenceJobs/{job_id}", state=fw.JobState(f"JOB_STATE_{state}")
    )


async def test_a_request_that_hangs_past_a_waits_deadline_is_given_up_and_the_wait_times_out(
    clock: RecordingClock,
) -> None:
    hang = asyncio.Event()

    async def answer(request: Request) -> object:
        if len(sender.sent) == 1:
            return running("j")
        await hang.wait()  # never answers
        return running("j")

    sender = FakeSender(clock, answer)
    # The time left is waited on the event loop's clock: a hanging request is cut once it runs out.
    with pytest.raises(fw.WaitTimeoutError):
        await finished_job(watch_plan(timeout=1.05).machine("j", sender.random), sender, raise_on_failure=True)
    assert len(sender.sent) == 2


async def test_a_wait_returns_the_whole_job_read_once_it_finished(clock: RecordingClock) -> None:
    answers = iter([running("j"), running("j", "COMPLETED"), running("j", "COMPLETED")])

    async def answer(request: Request) -> object:
        return next(answers)

    sender = FakeSender(clock, answer)
    job = await finished_job(watch_plan().machine("j", sender.random), sender, raise_on_failure=True)
    assert job.state.short_name == "COMPLETED"
    assert "readMask" not in sender.sent[-1].query  # the last read is of the whole job


async def test_watch_updates_stop_at_the_finished_state(clock: RecordingClock) -> None:
    answers = iter([running("j"), running("j"), running("j", "FAILED")])

    async def answer(request: Request) -> object:
        return next(answers)

    sender = FakeSender(clock, answer)
    plan = WatchPlan.create("acct", None, poll=fw.PollPolicy(jitter=0.0), retry=fw.RetryPolicy())
    states = [u.state.short_name async for u in job_updates(plan.machine("j", sender.random), sender)]
    assert states == ["RUNNING", "FAILED"]


async def test_a_bug_in_one_jobs_task_ends_that_job_with_an_error_and_the_others_go_on(clock: RecordingClock) -> None:
    """A non-FwBatchError must not surface as a bare ExceptionGroup cancelling the user's body (issue 15)."""

    async def answer(request: Request) -> object:
        if job_of(request) == "broken":
            raise ZeroDivisionError("a bug")
        if request.path.endswith(":getLogs"):
            return three_lines(job_of(request))
        return running(job_of(request), "COMPLETED")

    sender = FakeSender(clock, answer)
    poll = fw.PollPolicy(jitter=0.0)
    watch = WatchPlan.create("acct", None, poll=poll, retry=fw.RetryPolicy())
    events = JobEvents(
        [JobTarget("broken", "broken"), JobTarget("fine", "fine")],
        sender=sender,
        watch=watch,
        follow=follow_plan(),
        page_slots=4,
    )
    body_ran_to_its_end = False
    async with events:
        ends = [event async for event in events if isinstance(event, fw.JobEnded)]
        body_ran_to_its_end = True
    assert body_ran_to_its_end
    by_job = {end.job_id: end for end in ends}
    assert by_job["fine"].succeeded
    broken = by_job["broken"].error
    assert isinstance(broken, fw.FwBatchError)
    assert "unexpected error while following job broken" in str(broken)
    assert isinstance(broken.__cause__, ZeroDivisionError)


async def test_ends_that_wait_together_for_room_in_the_stream_all_reach_it(clock: RecordingClock) -> None:
    """Two jobs end at once while the consumer is busy: the first end taken must not close the stream on the second
    (marked ended, not yet in the stream), which would withdraw it."""

    async def nothing_is_sent(request: Request) -> object:
        raise AssertionError(request)

    watch = WatchPlan.create("acct", None, poll=fw.PollPolicy(jitter=0.0), retry=fw.RetryPolicy())
    targets = [JobTarget("a", "a"), JobTarget("b", "b")]
    events = JobEvents(targets, sender=FakeSender(clock, nothing_is_sent), watch=watch, follow=None, page_slots=4)
    send, receive = anyio.create_memory_object_stream[fw.JobEvent](0)  # no room: every end waits for the consumer
    events._send, events._receive, events._accepting = send, receive, True
    for target, machine, follow in events._prepared:
        events._dispatcher.add(target, machine, follow)
    for job in events._dispatcher._jobs.values():
        job.ended = True  # both ended: their ends are on their way
    delivering = [asyncio.create_task(events._deliver(fw.JobEnded(job_id, None, None, None))) for job_id in "ab"]
    await asyncio.sleep(0)
    taken = [(await receive.receive()).job_id]
    await asyncio.sleep(0)  # the first delivery resumes: the stream must stay open for the second
    taken += [event.job_id async for event in receive]
    await asyncio.gather(*delivering)
    receive.close()
    assert taken == ["a", "b"]
