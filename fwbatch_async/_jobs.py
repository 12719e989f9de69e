"""The client's job methods: watching a job, waiting for jobs, and following jobs (their logs and updates together).

Mixed into :class:`~fwbatch_async.AsyncClient`: like the rest of the client, each method checks its arguments,
builds the plan of the machines that serve it, and hands them to a driver (``_drive``, ``_fanout``).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Unpack

from ._config import ClientConfig, unique_ids
from ._core.following import FollowStart
from ._core.jobs import WATCH_FIELDS, WATCH_POLL, JobUpdate
from ._core.models import BatchInferenceJob
from ._core.plans import FollowPlan, WatchPlan
from ._core.polling import PollPolicy
from ._core.selection import LineFilter
from ._core.timestamps import Timestamp
from ._drive import finished_job, job_updates
from ._fanout import FANOUT_PAGE_SIZE, FANOUT_POLL, FANOUT_WATCH, JobEvents, JobTarget, wait_all
from ._sender import Sender

__all__ = ["JobMethods"]


class JobMethods:
    """Watching, waiting for and following jobs; the methods of :class:`~fwbatch_async.AsyncClient` for jobs."""

    _config: ClientConfig
    _sender: Sender

    def watch_job(
        self,
        job_id: str,
        *,
        poll: PollPolicy | None = None,
        stall_after: float | None = None,
        raise_on_stall: bool = True,
        read_mask: str | Iterable[str] | None = WATCH_FIELDS,
    ) -> AsyncGenerator[JobUpdate]:
        """Updates of a job as it changes, until (and including) the one that shows it finished.

        The first update shows the job as first read; then one comes whenever its state, progress counters or
        status change. A state this client does not know keeps the watch going (its raw value in
        ``update.state``); failures that retrying can fix are waited out, however long they last.

        Args:
            job_id: the batch inference job's id or full name.
            poll: when to read the job again (1 s after it changed, backing off to 10 s).
            stall_after: seconds a RUNNING job may go without progress before it counts as stalled (not while it
                waits on capacity: that is reported as :attr:`Change.CAPACITY`).
            raise_on_stall: on a stall, raise :class:`JobStalledError` (default), or yield an update with
                :attr:`Change.STALLED` and keep watching.
            read_mask: the fields read each time (those watching needs; ``None``: all).

        Raises:
            JobStalledError: the job stalled (with ``stall_after`` and ``raise_on_stall``).
            NotFoundError: no such job.

        Example:
            >>> import fwbatch_async as fw
            >>> async def show_progress(client: fw.AsyncClient) -> None:
            ...     async for update in client.watch_job("my-job"):
            ...         progress = update.job.job_progress
            ...         print(update.state.short_name, progress.percent if progress else 0, "%")
        """
        plan = WatchPlan.create(
            self._config.account_id,
            read_mask,
            poll=poll or WATCH_POLL,
            retry=self._sender.retry,
            stall_after=stall_after,
            raise_on_stall=raise_on_stall,
        )
        return job_updates(plan.machine(job_id, self._sender.random), self._sender)

    async def wait_for_job(
        self,
        job_id: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - on the client's clock, and the error carries the job
        pending_timeout: float | None = None,
        raise_on_failure: bool = True,
        stall_after: float | None = None,
        poll: PollPolicy | None = None,
    ) -> BatchInferenceJob:
        """Wait until a job finishes and return it, read in full.

        Args:
            job_id: the batch inference job's id or full name.
            timeout: seconds to wait at most, outages and throttling included; ``None`` waits as long as it takes.
            pending_timeout: seconds the job may take to start running (validation, waiting for capacity, its
                deployment: hours, at times); ``None`` bounds only the whole wait.
            raise_on_failure: raise :class:`JobFailedError` when the job finishes without success (FAILED,
                EXPIRED, CANCELLED, DELETED...); with ``False`` the finished job is returned whatever its state. A
                job deleted while waited for ends ``DELETED``.
            stall_after: raise :class:`JobStalledError` if the job runs this long without progress (not while it
                waits on capacity).
            poll: when to read the job again (see :meth:`watch_job`).

        Raises:
            JobFailedError: the job finished without success; ``error.job`` is the job, its status says why.
            WaitTimeoutError: ``timeout`` passed first; ``error.job`` is the job as last seen.
            PendingTimeoutError: ``pending_timeout`` passed before the job ran (a :class:`WaitTimeoutError`).
            JobStalledError: the job stalled (with ``stall_after``).
            NotFoundError: no such job.

        Example:
            >>> import fwbatch_async as fw
            >>> async def run_report(client: fw.AsyncClient) -> None:
            ...     job = await client.wait_for_job("my-job", timeout=6 * 3600, pending_timeout=3600)
            ...     print(job.output_dataset_id)
        """
        plan = self._wait_plan(timeout, pending_timeout, stall_after, poll)
        return await finished_job(
            plan.machine(job_id, self._sender.random), self._sender, raise_on_failure=raise_on_failure
        )

    def _wait_plan(
        self, timeout: float | None, pending_timeout: float | None, stall_after: float | None, poll: PollPolicy | None
    ) -> WatchPlan:
        return WatchPlan.create(
            self._config.account_id,
            WATCH_FIELDS,
            poll=poll or WATCH_POLL,
            retry=self._sender.retry,
            stall_after=stall_after,
            timeout=timeout,
            pending_timeout=pending_timeout,
            final_read=True,
        )

    def follow_job(
        self,
        job_id: str,
        batch_job_id: str | None = None,
        *,
        last: int | None = None,
        since: Timestamp | datetime | timedelta | str | None = None,
        from_start: bool = False,
        lookback: float = 10.0,
        stall_after: float | None = None,
        **lines: Unpack[LineFilter],
    ) -> JobEvents:
        """A job's log lines and its updates in one stream, which ends once the job finished and its log drained.

        The same as :meth:`follow_jobs` with one job; see there for the events and for how the stream ends.

        Example:
            >>> import fwbatch_async as fw
            >>> async def follow(client: fw.AsyncClient) -> None:
            ...     async with client.follow_job("my-job", last=20) as events:
            ...         async for event in events:
            ...             match event:
            ...                 case fw.LogLine(entry=entry):
            ...                     print(entry.rank, entry.message)
            ...                 case fw.JobEnded(job=job, error=error):
            ...                     print("ended:", job.state.short_name if job else error)
        """
        return self.follow_jobs(
            [job_id],
            batch_job_ids=None if batch_job_id is None else {job_id: batch_job_id},
            last=last,
            since=since,
            from_start=from_start,
            lookback=lookback,
            stall_after=stall_after,
            **lines,
        )

    def follow_jobs(
        self,
        job_ids: Iterable[str],
        *,
        batch_job_ids: Mapping[str, str] | None = None,
        last: int | None = None,
        since: Timestamp | datetime | timedelta | str | None = None,
        from_start: bool = False,
        lookback: float = 10.0,
        stall_after: float | None = None,
        **lines: Unpack[LineFilter],
    ) -> JobEvents:
        """Follow many jobs at once: their log lines, updates and ends in one stream.

        Use it with ``async with`` and iterate it. For each job it yields :class:`JobUpdate` (as
        :meth:`watch_job`), :class:`LogLine` (every line exactly once, as :meth:`follow_logs`) and last one
        :class:`JobEnded`: once the job finished and its log drained, or with ``error`` set when it could not be
        followed. One job's error does not stop the others. The stream ends when every job has ended; more can be
        added while it runs (:meth:`JobEvents.add`). All jobs share this client's send rate (``max_rate``): when
        they want more requests than it allows, each is read less often, a log whose lines flow before a quiet one
        and a job that waits for capacity rarely.

        Args:
            job_ids: the batch inference jobs' ids or full names.
            batch_job_ids: the batch job id whose log to follow, per job id, where it differs from the job id.
            last: start each log with its last ``last`` lines (10 when no start is given).
            since: start each log from this time, or this long ago.
            from_start: start each log from its first line.
            lookback: seconds re-read behind the newest line (see :meth:`follow_logs`).
            stall_after: report a job RUNNING this long without progress (:attr:`Change.STALLED`; still followed).
            lines: the line filters ``ranks=`` and ``filter=`` (:class:`LineFilter`).

        Raises:
            ValueError: when called: an id is malformed, ``job_ids`` is empty, or a setting is out of range.
            TypeError: ``job_ids`` is a single string (which would be followed character by character).

        Example:
            >>> import fwbatch_async as fw
            >>> async def follow_all(client: fw.AsyncClient, ids: list[str]) -> None:
            ...     async with client.follow_jobs(ids) as events:
            ...         async for event in events:
            ...             if isinstance(event, fw.LogLine):
            ...                 print(event.job_id, event.entry.message)
        """
        mapping = dict(batch_job_ids or {})
        targets = [JobTarget(job_id, mapping.get(job_id, job_id)) for job_id in unique_ids(job_ids)]
        now_ns = self._sender.server_now_ns()  # a since= duration counts back on the server's clock
        follow = FollowPlan.create(
            self._config.account_id,
            lines,
            start=FollowStart.create(last=last, since=since, from_start=from_start, cursor=None, now_ns=now_ns),
            page_size=FANOUT_PAGE_SIZE,
            lookback=lookback,
            max_window=200_000,
            poll=FANOUT_POLL,
            retry=self._sender.retry,
        )
        watch = WatchPlan.create(
            self._config.account_id,
            WATCH_FIELDS,
            poll=FANOUT_WATCH,
            retry=self._sender.retry,
            stall_after=stall_after,
            raise_on_stall=False,
        )
        return JobEvents(
            targets, sender=self._sender, watch=watch, follow=follow, page_slots=self._config.max_in_flight
        )

    async def wait_for_jobs(
        self,
        job_ids: Iterable[str],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - on the client's clock, and the error carries the job
        pending_timeout: float | None = None,
        raise_on_failure: bool = True,
        stall_after: float | None = None,
    ) -> dict[str, BatchInferenceJob]:
        """Wait until every job finishes; the finished jobs, read in full, by id (in the order given).

        Every job is waited for even when others fail; the errors come together at the end.

        Args:
            job_ids: the batch inference jobs' ids or full names.
            timeout: seconds to wait at most for each job (all are waited for at once).
            pending_timeout: seconds each job may take to start running (see :meth:`wait_for_job`).
            raise_on_failure: treat a job that finished without success as an error (see :meth:`wait_for_job`).
            stall_after: treat a job running this long without progress as an error.

        Raises:
            ValueError: before anything is sent: an id or a setting is malformed, or ``job_ids`` is empty.
            TypeError: ``job_ids`` is a single string.
            ExceptionGroup: one error per job that did not finish as asked (:class:`JobFailedError`,
                :class:`WaitTimeoutError`, :class:`NotFoundError`...), after all have been waited for.

        Example:
            >>> import fwbatch_async as fw
            >>> async def nightly(client: fw.AsyncClient) -> None:
            ...     jobs = await client.wait_for_jobs(["shard-1", "shard-2"], raise_on_failure=False)
            ...     print({job_id: job.state.short_name for job_id, job in jobs.items()})
        """
        ids = unique_ids(job_ids)
        plan = self._wait_plan(timeout, pending_timeout, stall_after, None)
        return await wait_all(
            ids, plan, self._sender, raise_on_failure=raise_on_failure, in_flight=self._config.max_in_flight
        )
