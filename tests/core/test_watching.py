"""The watch machine's rules, one table row each: no clock, no event loop, no server (issue 15)."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest

import fwbatch_async as fw
from fwbatch_async._core.actions import DONE, Wait
from fwbatch_async._core.jobs import JobWatcher
from fwbatch_async._core.plans import WatchPlan
from fwbatch_async._core.requests import Request
from fwbatch_async._core.watching import WatchMachine

POLL = fw.PollPolicy(min_interval=1.0, max_interval=8.0, backoff=2.0, jitter=0.0)
NAME = "accounts/acct/batchInferenceJobs/job-1"


def job(state: str = "RUNNING", processed: int = 0, message: str = "") -> fw.BatchInferenceJob:
    return fw.BatchInferenceJob(
        name=NAME,
        state=fw.JobState(f"JOB_STATE_{state}"),
        job_progress=fw.JobProgress(total_processed_requests=processed),
        status=fw.Status(code="OK", message=message),
    )


def machine(**settings: object) -> WatchMachine:
    arguments: dict[str, object] = {"poll": POLL, "retry": fw.RetryPolicy(base_delay=1.0, max_delay=8.0)} | settings
    plan = WatchPlan.create("acct", ["state", "jobProgress"], **arguments)  # type: ignore[arg-type]
    return plan.machine("job-1", random=lambda: 1.0)


def read(watch: WatchMachine, now: float, answer: fw.BatchInferenceJob) -> fw.JobUpdate | None:
    action = watch.next_request(now)
    assert isinstance(action, Request), f"expected a request at {now}, got {action!r}"
    return watch.on_job(answer, now)


def until(watch: WatchMachine, now: float) -> float:
    action = watch.next_request(now)
    assert isinstance(action, Wait), action
    return action.until


def changes(update: fw.JobUpdate | None) -> set[str]:
    return set() if update is None else {change.value for change in update.changes}


def test_the_request_reads_only_what_a_watch_needs() -> None:
    action = machine().next_request(0.0)
    assert isinstance(action, Request)
    assert action.target == "/v1/accounts/acct/batchInferenceJobs/job-1?readMask=state%2CjobProgress"


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ([job()], [{"first"}]),
        ([job(), job()], [{"first"}, set()]),
        ([job("PENDING"), job("RUNNING")], [{"first"}, {"state"}]),
        ([job(processed=1), job(processed=5)], [{"first"}, {"progress"}]),
        ([job(), job(message="warming up")], [{"first"}, {"status"}]),
        ([job("PENDING"), job("RUNNING", 3)], [{"first"}, {"state", "progress"}]),
    ],
)
def test_what_each_read_reports(answers: list[fw.BatchInferenceJob], expected: list[set[str]]) -> None:
    watch, now, got = machine(), 0.0, []
    for answer in answers:
        got.append(changes(read(watch, now, answer)))
        now = until(watch, now)
    assert got == expected


def test_reads_back_off_while_nothing_changes_and_come_back_after_a_change() -> None:
    watch, now, waits = machine(), 0.0, []
    for answer in [job(), job(), job(), job(), job(), job(processed=1), job(processed=1)]:
        read(watch, now, answer)
        nxt = until(watch, now)
        waits.append(nxt - now)
        now = nxt
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0, 1.0, 2.0]


@pytest.mark.parametrize("state", ["COMPLETED", "FAILED", "EXPIRED", "CANCELLED", "DELETED"])
def test_the_watch_ends_with_the_first_finished_read(state: str) -> None:
    watch = machine()
    read(watch, 0.0, job())
    update = read(watch, 1.0, job(state))
    assert update is not None
    assert update.finished
    assert watch.next_request(1.0) is DONE


def test_a_wait_reads_the_whole_job_once_it_finished() -> None:
    watch = machine(final_read=True)
    read(watch, 0.0, job("COMPLETED"))
    final = watch.next_request(0.0)
    assert isinstance(final, Request)
    assert final.target == "/v1/accounts/acct/batchInferenceJobs/job-1"
    whole = attrs.evolve(job("COMPLETED"), output_dataset_id="results")
    assert watch.on_job(whole, 0.0) is None
    assert watch.next_request(0.0) is DONE
    assert watch.last == whole


def test_a_stall_raises_once_the_job_runs_without_progress_for_long_enough() -> None:
    watch = machine(stall_after=5.0)
    read(watch, 0.0, job(processed=1))
    now = until(watch, 0.0)
    read(watch, now, job(processed=1))
    assert until(watch, now) <= 5.0  # never sleeps past the moment a stall is due
    with pytest.raises(fw.JobStalledError) as raised:
        read(watch, 5.0, job(processed=1))
    assert raised.value.stalled_for == 5.0


def test_a_stall_can_be_reported_instead_and_progress_ends_it() -> None:
    watch = machine(stall_after=5.0, raise_on_stall=False)
    read(watch, 0.0, job(processed=1))
    assert changes(read(watch, 5.0, job(processed=1))) == {"stalled"}
    assert changes(read(watch, until(watch, 5.0), job(processed=2))) == {"progress"}


@pytest.mark.parametrize(
    ("error", "wait"),
    [
        (fw.ServerError("unavailable", status=503), 1.0),
        (fw.RateLimitError("slow down", status=429, retry_after=6.0), 6.0),
        (fw.APITimeoutError("no answer"), 1.0),
    ],
)
def test_failures_that_retrying_can_fix_are_waited_out(error: fw.FwBatchError, wait: float) -> None:
    watch = machine()
    watch.next_request(0.0)
    watch.on_failure(error, 0.0)
    assert watch.next_request(0.0) == Wait(wait)


def test_a_failure_that_retrying_cannot_fix_ends_the_watch() -> None:
    watch = machine()
    watch.next_request(0.0)
    with pytest.raises(fw.NotFoundError):
        watch.on_failure(fw.NotFoundError("no such job", status=404), 0.0)


def outage(watch: WatchMachine, start: float) -> Callable[[], float]:
    """Answer every request with a 503; each call makes one request and returns when the next is due."""
    now = start

    def once() -> float:
        nonlocal now
        action = watch.next_request(now)
        if isinstance(action, Wait):
            now = action.until
            return now
        watch.on_failure(fw.ServerError("unavailable", status=503), now)
        return now

    return once


def test_a_waits_timeout_holds_through_an_outage() -> None:
    """wait_for_job(timeout=60) during a 503 outage must still raise at 60 s (issue 15)."""
    watch = machine(timeout=60.0)
    read(watch, 0.0, job())
    step = outage(watch, until(watch, 0.0))
    seen: list[float] = []

    def until_it_raises() -> None:
        while True:
            seen.append(step())

    with pytest.raises(fw.WaitTimeoutError) as raised:
        until_it_raises()
    assert max(seen) == 60.0  # no wait it asks for goes past the deadline, and it is kept
    assert raised.value.job == job()
    assert raised.value.timeout == 60.0


def test_a_request_given_up_at_the_deadline_times_the_wait_out() -> None:
    watch = machine(timeout=10.0)
    read(watch, 0.0, job())
    watch.next_request(until(watch, 0.0))
    watch.deadline_passed()  # the driver's race: the deadline came before the answer
    with pytest.raises(fw.WaitTimeoutError):
        watch.next_request(1.0)  # whatever the clock says


def test_no_timeout_once_the_job_was_seen_finished() -> None:
    watch = machine(timeout=10.0, final_read=True)
    read(watch, 9.0, job("COMPLETED"))
    assert isinstance(watch.next_request(11.0), Request)  # the whole job is still read


@pytest.mark.parametrize(
    ("settings", "problem"),
    [({"stall_after": 0}, "stall_after"), ({"timeout": -1.0}, "timeout"), ({"timeout": "60"}, "timeout")],
)
def test_bad_settings_are_refused(settings: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        machine(**settings)


def test_one_request_at_a_time() -> None:
    watch = machine()
    watch.next_request(0.0)
    with pytest.raises(RuntimeError, match="a request is out"):
        watch.next_request(0.0)
    watch.on_job(job(), 0.0)
    with pytest.raises(RuntimeError, match="no request is out"):
        watch.on_job(job(), 0.0)


def test_a_job_waiting_for_capacity_is_read_rarely_backing_off_to_a_minute() -> None:
    watch, now, waits = machine(), 0.0, []
    for _ in range(10):
        read(watch, now, job("PENDING"))
        nxt = until(watch, now)
        waits.append(round(nxt - now, 1))
        now = nxt
    assert all(60.0 <= wait <= 66.0 for wait in waits[-3:])  # a minute, jittered by up to 10 %
    assert sum(waits) > 5 * 60  # ten reads over more than five minutes, not ten seconds
    assert watch.weight < 1.0  # and the least urgent of a fan-out's requests
    read(watch, now, job("RUNNING"))
    assert until(watch, now) - now == 1.0  # running: read again soon


def test_a_listing_is_taken_as_an_answer_of_the_watchs_own() -> None:
    watch = machine()
    read(watch, 0.0, job("RUNNING", 1))
    update = watch.on_listed(job("RUNNING", 5), 2.0)
    assert changes(update) == {"progress"}
    assert until(watch, 2.0) == 3.0  # its next read, as after a read of its own that saw a change


def test_a_listing_is_ignored_while_a_read_of_its_own_is_out_and_after_the_end() -> None:
    watch = machine()
    read(watch, 0.0, job("RUNNING", 1))
    assert isinstance(watch.next_request(1.0), Request)
    assert watch.on_listed(job("RUNNING", 5), 1.5) is None  # its own answer is coming, and is the fresher
    assert changes(watch.on_job(job("COMPLETED", 9), 2.0)) == {"state", "progress"}
    assert watch.on_listed(job("RUNNING", 5), 3.0) is None


def test_a_job_that_left_a_listing_is_read_at_once() -> None:
    watch = machine()
    read(watch, 0.0, job("RUNNING", 1))
    assert until(watch, 0.5) == 1.0
    watch.expedite(0.5)
    assert isinstance(watch.next_request(0.5), Request)


def test_a_waits_timeout_counts_from_its_start_and_expires_without_a_request() -> None:
    watch = machine(timeout=5.0)
    watch.start(0.0)
    assert watch.deadline == 5.0
    assert watch.expire(4.0) is None
    error = watch.expire(5.0)
    assert isinstance(error, fw.WaitTimeoutError)
    assert "has not finished after 5s (last seen never read)" in str(error)
    assert watch.next_request(5.0) is DONE


def test_a_watch_with_a_request_out_learns_of_its_timeout_from_the_answer() -> None:
    watch = machine(timeout=5.0)
    assert isinstance(watch.next_request(0.0), Request)
    assert watch.expire(6.0) is None
    watch.deadline_passed()
    with pytest.raises(fw.WaitTimeoutError):
        watch.next_request(6.0)


# --- issue 16: the live wire ----------------------------------------------------------------------------------------

GONE = fw.NotFoundError("resource not found", status=404)


def test_a_job_deleted_while_watched_ends_the_watch_as_deleted_not_as_an_error() -> None:
    watch = machine()
    read(watch, 0.0, job("RUNNING", 3))
    assert isinstance(watch.next_request(until(watch, 0.0)), Request)
    update = watch.on_failure(GONE, 1.0)
    assert update is not None
    assert (update.state, update.job.status) == (fw.JobState.DELETED, fw.Status("NOT_FOUND", "resource not found"))
    assert update.job.job_progress == fw.JobProgress(total_processed_requests=3)  # as last seen
    assert changes(update) == {"state", "status"}
    assert watch.next_request(1.0) is DONE


def test_a_job_deleted_between_its_end_and_the_full_read_returns_the_end_as_seen() -> None:
    watch = machine(final_read=True)
    read(watch, 0.0, job("COMPLETED", 9))
    assert isinstance(watch.next_request(0.0), Request)
    assert watch.on_failure(GONE, 0.0) is None
    assert watch.next_request(0.0) is DONE
    assert watch.last == job("COMPLETED", 9)


def test_a_job_never_seen_is_not_found_not_deleted() -> None:
    watch = machine()
    watch.next_request(0.0)
    with pytest.raises(fw.NotFoundError):
        watch.on_failure(GONE, 0.0)


def waiting(on_capacity: bool, state: str = "RUNNING", processed: int = 0) -> fw.BatchInferenceJob:
    return attrs.evolve(job(state, processed), waiting_on_capacity=on_capacity)


def test_a_job_waiting_on_capacity_is_not_stalled_and_the_wait_is_reported() -> None:
    watcher = JobWatcher(stall_after=5.0)
    watcher.observe(waiting(False), 0.0)
    assert changes(watcher.observe(waiting(True), 4.0)) == {"capacity"}
    assert watcher.next_check_within(4.0) is None  # nothing to wake up for while it waits
    for now in (10.0, 30.0, 300.0):  # no progress for minutes, but no capacity either
        assert watcher.observe(waiting(True), now) is None
    assert changes(watcher.observe(waiting(False), 301.0)) == {"capacity"}
    assert watcher.observe(waiting(False), 305.0) is None  # the stall clock started again when capacity came
    assert changes(watcher.observe(waiting(False), 306.0)) == {"stalled"}


def test_a_pending_timeout_ends_a_wait_for_a_job_that_never_runs() -> None:
    watch = machine(pending_timeout=60.0, timeout=3600.0)
    read(watch, 0.0, waiting(True, "PENDING"))
    now = until(watch, 0.0)
    while now < 60.0:
        read(watch, now, waiting(True, "PENDING"))
        now = until(watch, now)
    assert now == 60.0  # no wait goes past the pending deadline
    with pytest.raises(fw.PendingTimeoutError) as raised:
        watch.next_request(now)
    assert raised.value.timeout == 60.0
    assert "has not started running after 60s (last seen PENDING, waiting on capacity)" in str(raised.value)
    assert isinstance(raised.value, fw.WaitTimeoutError)


def test_a_pending_timeout_no_longer_holds_once_the_job_runs() -> None:
    watch = machine(pending_timeout=60.0, timeout=3600.0)
    read(watch, 0.0, job("VALIDATING"))
    read(watch, until(watch, 0.0), job("RUNNING"))
    assert watch.deadline == 3600.0
    now = 0.0
    while now < 120.0:
        now = until(watch, now)
        read(watch, now, job("RUNNING", int(now)))


def test_the_whole_waits_timeout_wins_when_it_comes_first() -> None:
    watch = machine(pending_timeout=60.0, timeout=30.0)
    read(watch, 0.0, job("PENDING"))
    with pytest.raises(fw.WaitTimeoutError) as raised:
        watch.next_request(30.0)
    assert type(raised.value) is fw.WaitTimeoutError


def test_a_server_that_refuses_the_newer_fields_is_read_without_them() -> None:
    plan = WatchPlan.create("acct", ["state", "waitingOnCapacity"], poll=POLL, retry=fw.RetryPolicy())
    watch = plan.machine("job-1", random=lambda: 1.0)
    watch.next_request(0.0)
    assert watch.on_failure(fw.BadRequestError("invalid read_mask path", status=400), 0.0) is None
    older = watch.next_request(0.0)
    assert isinstance(older, Request)
    assert older.target == "/v1/accounts/acct/batchInferenceJobs/job-1?readMask=state"
    with pytest.raises(fw.BadRequestError):  # refused again: not the fields' fault
        watch.on_failure(fw.BadRequestError("bad", status=400), 0.0)
