"""Watching one job: an update per change until it finishes, and waiting for its end.

Like following logs, watching pulls: each step of the generator reads the job once, so leaving the loop stops it.
The decisions (what changed, whether it stalled) are made by the pure :class:`~fwbatch_async._core.jobs.JobWatcher`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable

import attrs

from ._core.errors import JobStalledError, WaitTimeoutError
from ._core.jobs import Change, JobUpdate, JobWatcher
from ._core.models import BatchInferenceJob
from ._core.polling import DEADLINE_SLACK, PollPolicy
from ._persist import outlast_failures
from .clock import Clock

__all__ = ["WatchSettings", "watch_job"]

FetchJob = Callable[[], Awaitable[BatchInferenceJob]]


@attrs.frozen
class WatchSettings:
    """How a watch behaves; see :meth:`fwbatch_async.AsyncClient.watch_job`."""

    poll: PollPolicy
    stall_after: float | None = None
    raise_on_stall: bool = True
    timeout: float | None = None
    """Seconds after which the watch raises :class:`WaitTimeoutError` (used by waits)."""


async def watch_job(
    fetch: FetchJob,
    settings: WatchSettings,
    *,
    job_id: str,
    clock: Clock,
    random: Callable[[], float],
    is_retryable: Callable[[BaseException], bool],
) -> AsyncGenerator[JobUpdate]:
    """Updates of one job until, and including, the first one in a finished state."""
    watcher = JobWatcher(stall_after=settings.stall_after)
    schedule = settings.poll.schedule()
    deadline = None if settings.timeout is None else clock.monotonic() + settings.timeout
    label = f"job {job_id}"
    while True:
        job = await outlast_failures(
            fetch, is_retryable=is_retryable, clock=clock, wait=settings.poll.max_interval, label=label
        )
        now = clock.monotonic()
        update = watcher.observe(job, now)
        if update is not None:
            if update.stalled_for is not None and settings.raise_on_stall:
                raise JobStalledError(
                    f"job {job_id} has been RUNNING without progress for {update.stalled_for:.0f}s",
                    job_id=job_id,
                    job=job,
                    stalled_for=update.stalled_for,
                )
            yield update
        if job.state.is_finished:
            return
        moved = update is not None and bool(update.changes - {Change.STALLED})
        delay = schedule.next_delay(found_new=moved, random=random())
        stall_due = watcher.next_check_within(clock.monotonic())
        if stall_due is not None:
            delay = min(delay, stall_due)
        if deadline is not None:
            remaining = deadline - clock.monotonic()
            if remaining <= DEADLINE_SLACK:
                raise WaitTimeoutError(
                    f"job {job_id} has not finished after {settings.timeout:g}s (last seen {job.state.short_name})",
                    job_id=job_id,
                    job=job,
                    timeout=settings.timeout or 0.0,
                )
            delay = min(delay, remaining)
        await clock.sleep(delay)
