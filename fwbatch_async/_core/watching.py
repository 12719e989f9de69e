"""The job watch machine: when to read a job, what a read means, and when the watch ends; no I/O, no clock.

A driver asks :meth:`WatchMachine.next_request` what to do at a time, sends the request, and feeds the answer back
(:meth:`~WatchMachine.on_job` or :meth:`~WatchMachine.on_failure`). The machine decides:

- **reads**: 1 s after the job changed, backing off while nothing changes (the poll policy), and never past the
  moment a stall would be due; a job that waits for capacity (PENDING, VALIDATING, CREATING) is read rarely,
  backing off to once a minute;
- **what changed** (state, progress, status) and **stalls** (RUNNING without progress for ``stall_after``): a stall
  raises :class:`~fwbatch_async.JobStalledError`, or is reported once as an update;
- **the end**: the first read in a finished state, then, for a wait, one full read of the job;
- **failures**: anything the retry policy can fix is waited out with its delays (a server's ``Retry-After``
  first); anything else ends the watch;
- **the deadline** of a wait: :class:`~fwbatch_async.WaitTimeoutError` once ``timeout`` seconds have passed since the
  first request, whatever the server does meanwhile; no wait it asks for goes past it. ``pending_timeout`` bounds
  the time before the job runs the same way (:class:`~fwbatch_async.PendingTimeoutError`);
- **a server that refuses the newer fields** of the read mask (400 on the first read) is read without them;
- **a job that disappears**: a 404 after the job was read (it was deleted) ends the watch as if the job had been
  read ``DELETED``, with the server's message as its status: an end, not an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import attrs

from .actions import DONE, Action, Wait
from .enums import JobState
from .errors import (
    BadRequestError,
    FwBatchError,
    JobStalledError,
    NotFoundError,
    PendingTimeoutError,
    WaitTimeoutError,
)
from .jobs import Change, JobUpdate, JobWatcher
from .models import BatchInferenceJob, Status
from .polling import DEADLINE_SLACK, PollPolicy
from .requests import Request
from .retry import RetryPolicy

__all__ = ["WAITING_POLL", "WAITING_STATES", "WatchMachine", "WatchSettings"]

WAITING_STATES: Final = frozenset(
    {JobState.VALIDATING, JobState.PENDING, JobState.CREATING, JobState.CREATING_INPUT_DATASET}
)
"""States of a job that waits for capacity (or its deployment, or its input): it has no lines, and can stay for
hours."""
WAITING_POLL: Final = PollPolicy(min_interval=1.0, max_interval=60.0, backoff=2.0, jitter=0.1)
"""How often a waiting job is read: 1 s after it changed (a short wait is seen to end), backing off to once a minute
within two minutes (a long one costs a read a minute)."""
# How much a watch's next read matters when sends are scarce (the scheduler's weights): its first and its last
# read (the job's end starts its log's drain) come first, a waiting job last.
FIRST_WEIGHT: Final = 8.0
WATCH_WEIGHT: Final = 1.0
WAITING_WEIGHT: Final = 0.5


@attrs.frozen(kw_only=True)
class WatchSettings:
    """How a watch behaves; see :meth:`fwbatch_async.AsyncClient.watch_job`."""

    poll: PollPolicy
    retry: RetryPolicy
    """Decides which failures are waited out, and how long; a patient policy (it never gives up by itself)."""
    stall_after: float | None = None
    raise_on_stall: bool = True
    timeout: float | None = None
    """Seconds after the first request at which the watch raises :class:`WaitTimeoutError` (a wait's timeout)."""
    pending_timeout: float | None = None
    """Seconds after the first request by which the job must have left the waiting states (VALIDATING, PENDING,
    CREATING), or the watch raises :class:`PendingTimeoutError`."""


class WatchMachine:
    """One job's watch; see the module documentation.

    Args:
        job_id: the job, for messages.
        request: the read of the job, with the fields a watch needs.
        settings: poll schedule, stall, timeout and retry policy.
        random: uniform numbers in [0, 1) for jitter.
        final: a read of the whole job, made once after it finished (a wait returns it), or ``None``.
        older: the read without the fields only newer servers know, made instead if the server refuses
            ``request`` (400) before it answered it once; ``None`` if there is no such difference.
    """

    def __init__(
        self,
        *,
        job_id: str,
        request: Request,
        settings: WatchSettings,
        random: Callable[[], float],
        final: Request | None = None,
        older: Request | None = None,
    ) -> None:
        self._job_id = job_id
        self._request = request
        self._older = older
        self._final = final
        self._settings = settings
        self._random = random
        self._watcher = JobWatcher(stall_after=settings.stall_after)
        self._schedule = settings.poll.schedule()
        self._waiting_schedule = WAITING_POLL.schedule()
        self._deadline: float | None = None
        self._pending_deadline: float | None = None  # until the job is seen past the waiting states
        self._started = False
        self._due = float("-inf")
        self._sent: Request | None = None
        self._failures = 0
        self._finished = False  # seen in a finished state
        self._expired = False  # the driver gave up a request at the deadline
        self._done = False
        self.last: BatchInferenceJob | None = None
        """The job as last read (after the end: the full read, for a wait that asked for one)."""
        self.finished_at: int | None = None
        """Nanoseconds, the server's clock (its ``Date``) on the answer that first showed the job finished."""

    @property
    def weight(self) -> float:
        """How much the next read matters now, for a scheduler that shares scarce sends among many watches."""
        if self.last is None or self._finished:
            return FIRST_WEIGHT
        return WAITING_WEIGHT if self.last.state in WAITING_STATES else WATCH_WEIGHT

    def wake(self, now: float) -> float | None:
        """When the watch wants to read next (at or before ``now``: now), or ``None`` once it is done."""
        if self._done:
            return None
        if self._expired:
            return now  # the next step raises the timeout
        deadline = self.deadline
        return self._due if deadline is None else min(self._due, deadline)

    @property
    def times_out(self) -> bool:
        """Whether the watch has a timeout (a wait's): only its own reads keep that time."""
        return self._settings.timeout is not None

    @property
    def deadline(self) -> float | None:
        """The monotonic time at which a wait times out, once the first request was made."""
        if self._pending_deadline is None:
            return self._deadline
        return self._pending_deadline if self._deadline is None else min(self._deadline, self._pending_deadline)

    def next_request(self, now: float) -> Action:
        """What to do at ``now``: send a request, wait until a time, or nothing more.

        Raises:
            WaitTimeoutError: the wait's ``timeout`` has passed.
            RuntimeError: a request is out and has not been answered.
        """
        if self._sent is not None:
            raise RuntimeError("a request is out: answer it with on_job() or on_failure() first")
        if self._done:
            return DONE
        self.start(now)
        deadline = self.deadline
        expired = self._expired or (deadline is not None and now >= deadline - DEADLINE_SLACK)
        if expired and not self._finished:
            raise self._timed_out(now)
        if now < self._due - DEADLINE_SLACK:
            return Wait(self._due if deadline is None else min(self._due, deadline))
        self._sent = self._final if self._finished and self._final is not None else self._request
        return self._sent

    def start(self, now: float) -> None:
        """The watch begins at ``now``: a wait's timeout counts from here (the first request, if not told before)."""
        if not self._started:
            self._started = True
            if self._settings.timeout is not None:
                self._deadline = now + self._settings.timeout
            if self._settings.pending_timeout is not None:
                self._pending_deadline = now + self._settings.pending_timeout

    def expire(self, now: float) -> WaitTimeoutError | None:
        """The timeout's error, and the end of the watch, if its deadline has passed with no request of it out."""
        deadline = self.deadline
        if self._sent is not None or self._done or deadline is None or now < deadline - DEADLINE_SLACK:
            return None
        self._done = True
        return self._timed_out(now)

    def on_job(self, job: BatchInferenceJob, now: float, server_time: int | None = None) -> JobUpdate | None:
        """The answer to the request out: the update to report, or ``None`` when nothing changed.

        Raises:
            JobStalledError: the job stalled, and the watch raises on stalls.
        """
        self._answered()
        self._failures = 0
        return self._observe(job, now, server_time)

    def on_listed(self, job: BatchInferenceJob, now: float, server_time: int | None = None) -> JobUpdate | None:
        """The job as a listing of many jobs showed it: taken as an answer of the watch's own.

        Ignored while a read of its own is out (its answer is the fresher) and once the job was seen finished.

        Raises:
            JobStalledError: the job stalled, and the watch raises on stalls.
        """
        if self._sent is not None or self._finished or self._done:
            return None
        return self._observe(job, now, server_time)

    def expedite(self, now: float) -> None:
        """Read the job now: something else saw it change (it left a listing of running jobs)."""
        self._due = min(self._due, now)

    def _observe(self, job: BatchInferenceJob, now: float, server_time: int | None) -> JobUpdate | None:
        self.last = job
        if job.state not in WAITING_STATES and job.state is not JobState.UNSPECIFIED:
            self._pending_deadline = None
        if self._finished:  # the full read after the end
            self._done = True
            return None
        update = self._watcher.observe(job, now)
        if update is not None and update.stalled_for is not None and self._settings.raise_on_stall:
            raise JobStalledError(
                f"job {self._job_id} has been RUNNING without progress for {update.stalled_for:.0f}s",
                job_id=self._job_id,
                job=job,
                stalled_for=update.stalled_for,
            )
        if job.state.is_finished:
            self._finished, self.finished_at = True, server_time
            self._done = self._final is None
            self._due = now
            return update
        moved = update is not None and bool(update.changes - {Change.STALLED})
        schedule = self._waiting_schedule if job.state in WAITING_STATES else self._schedule
        delay = schedule.next_delay(found_new=moved, random=self._random())
        stall_due = self._watcher.next_check_within(now)
        if stall_due is not None:
            delay = min(delay, stall_due)
        self._due = now + delay
        return update

    def on_failure(self, error: FwBatchError, now: float) -> JobUpdate | None:
        """The request out failed with ``error``: wait it out, or end the watch; the update a 404 makes.

        A 404 after the job was read means it was deleted: the update shows it ``DELETED`` and the watch ends.

        Raises:
            FwBatchError: ``error`` itself, when retrying cannot fix it.
        """
        refused = self._sent is self._request and isinstance(error, BadRequestError)
        self._answered()
        last = self.last
        if refused and self._older is not None and last is None:
            self._request, self._older = self._older, None  # a server that does not know the newer fields
            self._due = now
            return None
        if isinstance(error, NotFoundError) and last is not None:
            if self._finished:  # deleted between its end and the full read: the end as seen is the answer
                self._done = True
                return None
            return self._observe(self._gone(last, error), now, None)
        self._failures += 1
        delay = self._settings.retry.delay_after(error, attempt=self._failures, elapsed=0.0, random=self._random())
        if delay is None:
            raise error
        self._due = now + delay
        return None

    @staticmethod
    def _gone(last: BatchInferenceJob, error: NotFoundError) -> BatchInferenceJob:
        """The job as a read would show it once deleted: DELETED, with the 404's message as its status."""
        return attrs.evolve(last, state=JobState.DELETED, status=Status(code="NOT_FOUND", message=error.message))

    def deadline_passed(self) -> None:
        """The driver gave up the request out because the deadline came first: the next step raises the timeout."""
        self._answered()
        self._expired = True

    def _expired_overall(self, now: float) -> bool:
        return self._deadline is not None and now >= self._deadline - DEADLINE_SLACK

    def _answered(self) -> None:
        if self._sent is None:
            raise RuntimeError("no request is out")
        self._sent = None

    def _timed_out(self, now: float) -> WaitTimeoutError:
        seen = self.last.state.short_name if self.last is not None else "never read"
        pending = self._pending_deadline
        if pending is not None and now >= pending - DEADLINE_SLACK and not self._expired_overall(now):
            waiting = self.last is not None and self.last.waiting_on_capacity
            timeout = self._settings.pending_timeout or 0.0
            return PendingTimeoutError(
                f"job {self._job_id} has not started running after {timeout:g}s (last seen {seen}"
                + (", waiting on capacity)" if waiting else ")"),
                job_id=self._job_id,
                job=self.last,
                timeout=timeout,
            )
        timeout = self._settings.timeout or 0.0
        return WaitTimeoutError(
            f"job {self._job_id} has not finished after {timeout:g}s (last seen {seen})",
            job_id=self._job_id,
            job=self.last,
            timeout=timeout,
        )
