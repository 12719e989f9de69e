"""The events of a job stream (:meth:`fwbatch_async.AsyncClient.follow_jobs`): log lines, job updates, job ends."""

from __future__ import annotations

import attrs

from .errors import FwBatchError
from .jobs import JobUpdate
from .models import BatchInferenceJob, LogEntry
from .window import FollowStats

__all__ = ["JobEnded", "JobEvent", "LogLine"]


@attrs.frozen(slots=True)
class LogLine:
    """A line of a job's log.

    Example:
        >>> import fwbatch_async as fw
        >>> entry = fw.LogEntry(log_time=fw.Timestamp.parse("2026-01-02T03:04:05Z"), rank=1, message="done")
        >>> fw.LogLine(job_id="my-job", entry=entry).entry.message
        'done'
    """

    job_id: str
    """The batch inference job the line belongs to."""
    entry: LogEntry


@attrs.frozen
class JobEnded:
    """The last event of a job: it finished and its log drained, or it could not be followed.

    Example:
        >>> from fwbatch_async import JobState
        >>> done = BatchInferenceJob(name="accounts/a/batchInferenceJobs/j", state=JobState.COMPLETED)
        >>> JobEnded("j", done, None).succeeded
        True
    """

    job_id: str
    job: BatchInferenceJob | None
    """The job as last read (``None`` if it could never be read, e.g. it does not exist)."""
    error: FwBatchError | None
    """Why following it stopped early (``None`` when it finished): a ``NotFoundError``, a ``JobStalledError``..."""
    log_stats: FollowStats | None = None
    """Counters of its log follow, if one ran."""

    @property
    def succeeded(self) -> bool:
        """Whether the job finished successfully (COMPLETED) and was followed to its end."""
        return self.error is None and self.job is not None and self.job.state.is_success


JobEvent = LogLine | JobUpdate | JobEnded
"""Anything a job stream yields; every event says which job it is about (``job_id``).

Example:
    One ``match`` handles every kind::

        async for event in events:
            match event:
                case fw.LogLine(job_id=job_id, entry=entry): print(job_id, entry.message)
                case fw.JobUpdate(job_id=job_id, state=state): print(job_id, state.short_name)
                case fw.JobEnded(job_id=job_id): print(job_id, "ended")
"""
