from __future__ import annotations

import attrs
import pytest

from fwbatch_async import BatchInferenceJob, Change, JobProgress, JobState, Status
from fwbatch_async._core.jobs import JobWatcher, failure_message

NAME = "accounts/acme/batchInferenceJobs/nightly"


def job(state: JobState = JobState.RUNNING, processed: int = 0, message: str = "") -> BatchInferenceJob:
    return BatchInferenceJob(
        name=NAME,
        state=state,
        job_progress=JobProgress(total_input_requests=100, total_processed_requests=processed),
        status=Status("OK", message),
    )


def test_the_first_read_is_an_update_and_an_unchanged_job_is_not() -> None:
    watcher = JobWatcher()
    first = watcher.observe(job(), 0.0)
    assert first is not None
    assert first.changes == {Change.FIRST}
    assert first.previous is None
    assert watcher.observe(job(), 1.0) is None


@pytest.mark.parametrize(
    ("after", "changes"),
    [
        (job(JobState.WRITING_RESULTS), {Change.STATE}),
        (job(processed=5), {Change.PROGRESS}),
        (job(message="slow"), {Change.STATUS}),
        (job(JobState.FAILED, processed=5, message="boom"), {Change.STATE, Change.PROGRESS, Change.STATUS}),
    ],
)
def test_each_kind_of_change_is_named(after: BatchInferenceJob, changes: set[Change]) -> None:
    watcher = JobWatcher()
    watcher.observe(job(), 0.0)
    update = watcher.observe(after, 1.0)
    assert update is not None
    assert update.changes == changes
    assert update.previous_state is JobState.RUNNING
    assert update.state is after.state


def test_unknown_fields_of_progress_do_not_count_as_progress() -> None:
    watcher = JobWatcher()
    watcher.observe(job(), 0.0)
    noisy = attrs.evolve(job(), job_progress=JobProgress(total_input_requests=100, extra={"new": 1}))
    assert watcher.observe(noisy, 1.0) is None


def test_a_running_job_without_progress_stalls_once_and_progress_ends_the_stall() -> None:
    watcher = JobWatcher(stall_after=60.0)
    watcher.observe(job(), 0.0)
    assert watcher.next_check_within(10.0) == 50.0
    assert watcher.observe(job(), 59.0) is None
    stalled = watcher.observe(job(), 60.0)
    assert stalled is not None
    assert stalled.changes == {Change.STALLED}
    assert stalled.stalled_for == 60.0
    assert watcher.observe(job(), 200.0) is None  # reported once
    assert watcher.next_check_within(200.0) is None
    moved = watcher.observe(job(processed=1), 210.0)
    assert moved is not None
    assert moved.changes == {Change.PROGRESS}
    again = watcher.observe(job(processed=1), 270.0)
    assert again is not None
    assert again.stalled_for == 60.0


def test_only_a_running_job_can_stall_and_a_new_state_restarts_the_clock() -> None:
    watcher = JobWatcher(stall_after=60.0)
    watcher.observe(job(JobState.PENDING), 0.0)
    assert watcher.observe(job(JobState.PENDING), 500.0) is None
    assert watcher.next_check_within(500.0) is None
    started = watcher.observe(job(JobState.RUNNING), 501.0)
    assert started is not None
    assert Change.STALLED not in started.changes
    stalled = watcher.observe(job(JobState.RUNNING), 561.0)
    assert stalled is not None
    assert Change.STALLED in stalled.changes


def test_a_stall_deadline_a_nanosecond_away_counts_as_reached() -> None:
    # A clock with whole nanoseconds cannot sleep 1e-14 s; the watcher must not ask it to, again and again.
    watcher = JobWatcher(stall_after=0.1 + 0.2)
    watcher.observe(job(), 0.0)
    stalled = watcher.observe(job(), 0.3)
    assert stalled is not None
    assert Change.STALLED in stalled.changes


def test_an_unknown_state_is_kept_raw_and_is_not_finished() -> None:
    watcher = JobWatcher()
    watcher.observe(job(), 0.0)
    update = watcher.observe(job(JobState("JOB_STATE_WARMING_UP")), 1.0)
    assert update is not None
    assert update.state.value == "JOB_STATE_WARMING_UP"
    assert not update.finished


@pytest.mark.parametrize("stall_after", [0, -1.0])
def test_stall_after_must_be_positive(stall_after: float) -> None:
    with pytest.raises(ValueError, match="stall_after"):
        JobWatcher(stall_after=stall_after)


def test_a_failure_message_gives_the_state_code_and_reason() -> None:
    failed = BatchInferenceJob(name=NAME, state=JobState.FAILED, status=Status("INTERNAL", "CUDA error"))
    assert failure_message(failed) == "job nightly ended FAILED (INTERNAL): CUDA error"
    assert failure_message(BatchInferenceJob(name=NAME, state=JobState.EXPIRED)) == (
        "job nightly ended EXPIRED: no reason given"
    )
