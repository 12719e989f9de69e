"""Watching a job: what changed between two reads of it, when it counts as stalled, and how soon to read it again.

Pure: the caller reads the job, passes it in with the time (monotonic seconds), and does the waiting. A job is
*stalled* when it is RUNNING and its progress counters have not moved for ``stall_after`` seconds of the watcher's
clock, however fresh its state looks ("state alone lies"); the stall is reported once, and progress ends it. A job
that says it waits on capacity (``waitingOnCapacity``) is waiting, not stalled: the change is reported as
:attr:`Change.CAPACITY`, and the stall clock starts again when it has capacity.
"""

from __future__ import annotations

import enum
from typing import Final

import attrs

from .enums import JobState
from .models import BatchInferenceJob, JobProgress
from .polling import DEADLINE_SLACK, PollPolicy

__all__ = [
    "NEWER_WATCH_FIELDS",
    "WATCH_FIELDS",
    "WATCH_POLL",
    "Change",
    "JobUpdate",
    "JobWatcher",
    "ended_at",
    "failure_message",
    "failure_reason",
]

WATCH_FIELDS: Final = ("name", "state", "status", "jobProgress", "updateTime", "waitingOnCapacity")
"""The fields a watch reads (``readMask``): what changes, and what says why it ended."""
NEWER_WATCH_FIELDS: Final = frozenset({"waitingOnCapacity"})
"""Fields of :data:`WATCH_FIELDS` that only newer servers know: a watch whose read mask a server refuses reads
again without them."""

WATCH_POLL: Final = PollPolicy(min_interval=1.0, max_interval=10.0, backoff=1.5, jitter=0.1)
"""How often a job is read: 1 s after it changed, backing off by 1.5x to 10 s while nothing changes.

A running job publishes progress every few seconds, so it is read about that often; a pending or idle job backs off
to one read every 10 s.

Example:
    A watch that reads a busy job more often (``poll=`` of :meth:`~fwbatch_async.AsyncClient.watch_job`)::

        eager = attrs.evolve(fw.WATCH_POLL, max_interval=2.0)
        async for update in client.watch_job("my-job", poll=eager): ...
"""


class Change(enum.Enum):
    """What a :class:`JobUpdate` reports.

    Example:
        >>> import fwbatch_async as fw
        >>> async def on_stall(client: fw.AsyncClient) -> None:
        ...     async for update in client.watch_job("my-job", stall_after=900, raise_on_stall=False):
        ...         if fw.Change.STALLED in update.changes:
        ...             print("no progress for 15 minutes")
    """

    FIRST = "first"
    """The first read of the job in this watch."""
    STATE = "state"
    """The state changed (:attr:`JobUpdate.previous_state` holds the old one)."""
    PROGRESS = "progress"
    """A progress counter changed."""
    STATUS = "status"
    """The status (code or message) changed."""
    CAPACITY = "capacity"
    """The job started or stopped waiting on capacity (:attr:`BatchInferenceJob.waiting_on_capacity`)."""
    STALLED = "stalled"
    """The job has been RUNNING without progress for longer than the watch allows (not while it waits on
    capacity)."""


@attrs.frozen
class JobUpdate:
    """A change seen in a watched job: the job as read now, the previous read, and what differs.

    Example:
        >>> before = BatchInferenceJob(name="accounts/a/batchInferenceJobs/j", state=JobState.PENDING)
        >>> now = attrs.evolve(before, state=JobState.RUNNING)
        >>> update = JobUpdate(now, before, frozenset({Change.STATE}))
        >>> update.job_id, update.previous_state.short_name, update.state.short_name, update.finished
        ('j', 'PENDING', 'RUNNING', False)
    """

    job: BatchInferenceJob
    """The job as read now."""
    previous: BatchInferenceJob | None
    """The job as read at the previous update (``None`` for the first)."""
    changes: frozenset[Change]
    """What changed since :attr:`previous`."""
    stalled_for: float | None = None
    """With :attr:`Change.STALLED`: seconds the job has been running without progress."""

    @property
    def job_id(self) -> str:
        """The job's id."""
        return self.job.job_id

    @property
    def state(self) -> JobState:
        """The job's state now."""
        return self.job.state

    @property
    def previous_state(self) -> JobState | None:
        """The state at the previous update, ``None`` for the first."""
        return None if self.previous is None else self.previous.state

    @property
    def finished(self) -> bool:
        """Whether the job has reached a finished state (see :attr:`JobState.is_finished`)."""
        return self.job.state.is_finished


def _counters(progress: JobProgress | None) -> tuple[int, ...]:
    if progress is None:
        return ()
    return attrs.astuple(progress, filter=lambda attribute, _: attribute.name != "extra")


def _status(job: BatchInferenceJob) -> tuple[str, str]:
    return ("OK", "") if job.status is None else (job.status.code, job.status.message)


class JobWatcher:
    """The state of one watch: the last read, and when the job last made progress.

    Example:
        >>> running = BatchInferenceJob(name="accounts/a/batchInferenceJobs/j", state=JobState.RUNNING)
        >>> watcher = JobWatcher(stall_after=60.0)
        >>> sorted(c.value for c in watcher.observe(running, now=0.0).changes)
        ['first']
        >>> watcher.observe(running, now=30.0) is None  # nothing changed, not stalled yet
        True
        >>> watcher.observe(running, now=61.0).stalled_for
        61.0
    """

    def __init__(self, *, stall_after: float | None = None) -> None:
        if stall_after is not None and not stall_after > 0:
            raise ValueError(f"stall_after must be positive seconds, got {stall_after!r}")
        self._stall_after = stall_after
        self._last: BatchInferenceJob | None = None
        self._progress_at = 0.0
        self._stall_reported = False

    @property
    def last(self) -> BatchInferenceJob | None:
        """The job as last read, if it has been read."""
        return self._last

    def observe(self, job: BatchInferenceJob, now: float) -> JobUpdate | None:
        """Take a fresh read of the job; the update to report, or ``None`` when there is nothing to say."""
        previous, self._last = self._last, job
        if previous is None:
            self._progress_at = now
            return JobUpdate(job, None, frozenset({Change.FIRST}))
        changes: set[Change] = set()
        if job.state != previous.state:
            changes.add(Change.STATE)
        if _counters(job.job_progress) != _counters(previous.job_progress):
            changes.add(Change.PROGRESS)
        if _status(job) != _status(previous):
            changes.add(Change.STATUS)
        if job.waiting_on_capacity != previous.waiting_on_capacity:
            changes.add(Change.CAPACITY)
        if changes & {Change.PROGRESS, Change.STATE, Change.CAPACITY}:
            # A new state starts the stall clock again: RUNNING after PENDING has had no chance to progress yet.
            self._progress_at, self._stall_reported = now, False
        stalled_for = self._stalled_for(job, now)
        if stalled_for is not None:
            self._stall_reported = True
            changes.add(Change.STALLED)
        if not changes:
            return None
        return JobUpdate(job, previous, frozenset(changes), stalled_for)

    def _stalled_for(self, job: BatchInferenceJob, now: float) -> float | None:
        stall_after = self._stall_after
        if stall_after is None or not self._may_stall(job):
            return None
        idle = now - self._progress_at
        return max(idle, stall_after) if idle >= stall_after - DEADLINE_SLACK else None

    def next_check_within(self, now: float) -> float | None:
        """Seconds until a stall would be due, so a watch does not sleep past it; ``None`` if none can be."""
        job, stall_after = self._last, self._stall_after
        if stall_after is None or job is None or not self._may_stall(job):
            return None
        return max(0.0, self._progress_at + stall_after - now)

    def _may_stall(self, job: BatchInferenceJob) -> bool:
        """Whether a stall can be due: none was reported, and the job runs with capacity."""
        return not self._stall_reported and job.state is JobState.RUNNING and not job.waiting_on_capacity


def failure_reason(job: BatchInferenceJob) -> str:
    """How a job ended without success: its state, its status code and the server's message.

    Example:
        >>> from fwbatch_async import Status
        >>> failure_reason(BatchInferenceJob(state=JobState.FAILED, status=Status("INVALID_ARGUMENT", "bad row 7")))
        'FAILED (INVALID_ARGUMENT): bad row 7'
    """
    status = job.status
    code = f" ({status.code})" if status is not None and status.code not in {"", "OK"} else ""
    reason = status.message if status is not None and status.message else "no reason given"
    return f"{job.state.short_name}{code}: {reason}"


def failure_message(job: BatchInferenceJob) -> str:
    """One line on how a job ended without success: its state and the server's reason."""
    return f"job {job.job_id} ended {failure_reason(job)}"


def ended_at(job: BatchInferenceJob | None) -> int | None:
    """When a finished job ended (ns, the server's clock): its lifecycle's end, else its last update, if it says.

    A later update than the end only makes the time later, which keeps a drain that relies on it safe.

    Example:
        >>> from fwbatch_async import Timestamp
        >>> ended_at(BatchInferenceJob(update_time=Timestamp(5)))
        5
    """
    if job is None:
        return None
    lifecycle_end = job.lifecycle.end_time if job.lifecycle is not None else None
    end = lifecycle_end or job.update_time
    return None if end is None else end.ns
