"""Following many jobs at once: one stream of log lines, job updates and job ends, one task group behind it.

Each job runs as two tasks, one watching the job and one following its log, under one anyio task group that lives
exactly as long as the ``async with`` block (no task group spans a ``yield``). Events reach the consumer through a
bounded memory stream, so a slow consumer slows the followers down instead of piling entries up. A job that fails
to be followed (404, a stall) ends with a :class:`~fwbatch_async.JobEnded` event carrying the error; the others go
on. Requests of every job share the client's request budget.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Iterable
from contextlib import AsyncExitStack, aclosing
from typing import Final, Self

import anyio
import attrs
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._core.errors import FwBatchError
from ._core.events import JobEnded, JobEvent, LogLine
from ._core.jobs import JobUpdate
from ._core.models import BatchInferenceJob
from .logs import FollowLogs

__all__ = ["JobEvents", "JobTarget"]

_LOG = logging.getLogger(__name__)
# Enough to keep every job's follower busy while the consumer handles a burst; small enough to bound memory.
_BUFFER: Final = 1024


@attrs.frozen
class JobTarget:
    """A job to follow: its batch inference job id, and the batch job id its logs are under."""

    job_id: str
    batch_job_id: str


OpenWatch = Callable[[str], AsyncGenerator[JobUpdate]]
OpenLogs = Callable[[str], FollowLogs]


class JobEvents:
    """A stream of events from one or more jobs; made by :meth:`fwbatch_async.AsyncClient.follow_jobs`.

    Use it with ``async with`` and iterate it: it yields :class:`~fwbatch_async.LogLine`,
    :class:`~fwbatch_async.JobUpdate` and, last for each job, :class:`~fwbatch_async.JobEnded`. Iteration ends
    when every job added so far has ended. Leaving the block early (``break``, an exception in its body,
    cancellation) stops every task; an exception in the body propagates unchanged.

    Example:
        >>> import fwbatch_async as fw
        >>> async def follow(client: fw.AsyncClient) -> None:
        ...     async with client.follow_jobs(["job-a"]) as events:
        ...         events.add("job-b")  # more jobs, while it runs
        ...         async for event in events:
        ...             if isinstance(event, fw.JobEnded):
        ...                 print(event.job_id, event.succeeded)
        ...     print(sorted(events.ended))
    """

    def __init__(self, targets: Iterable[JobTarget], *, open_watch: OpenWatch, open_logs: OpenLogs | None) -> None:
        self._initial = list(targets)
        self._open_watch = open_watch
        self._open_logs = open_logs
        self._task_group: TaskGroup | None = None
        self._send: MemoryObjectSendStream[JobEvent] | None = None
        self._receive: MemoryObjectReceiveStream[JobEvent] | None = None
        self._running: set[str] = set()
        self._ended: dict[str, JobEnded] = {}
        self._accepting = False

    async def __aenter__(self) -> Self:
        if self._task_group is not None:
            raise RuntimeError("this job stream was already entered")
        prepared = [self._prepare(target) for target in self._initial]  # bad arguments raise before anything opens
        self._send, self._receive = anyio.create_memory_object_stream[JobEvent](_BUFFER)
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        self._accepting = True
        for target, (updates, logs) in zip(self._initial, prepared, strict=True):
            self._start(target, updates, logs)
        if not self._running:
            self._close_sending()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        task_group, receive = self._task_group, self._receive
        if task_group is None or receive is None:
            return
        task_group.cancel_scope.cancel()
        try:
            await task_group.__aexit__(None, None, None)
        finally:
            receive.close()
            self._close_sending()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> JobEvent:
        if self._receive is None:
            raise RuntimeError("use the job stream with 'async with' before iterating it")
        try:
            return await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None

    def add(self, job_id: str, batch_job_id: str | None = None) -> None:
        """Follow one more job in this stream (e.g. one found by listing jobs).

        Raises:
            RuntimeError: the stream is not open, or has ended (every job it had ended).
            ValueError: the job is already in the stream.
        """
        if not self._accepting:
            raise RuntimeError("the job stream is not open, or has ended")
        if job_id in self._running or job_id in self._ended:
            raise ValueError(f"job {job_id!r} is already in this stream")
        target = JobTarget(job_id, batch_job_id or job_id)
        self._start(target, *self._prepare(target))

    @property
    def ended(self) -> dict[str, JobEnded]:
        """The jobs that have ended so far, by id, with how they ended."""
        return dict(self._ended)

    def _prepare(self, target: JobTarget) -> tuple[AsyncGenerator[JobUpdate], FollowLogs | None]:
        """The watch and the log follow of a job, made in the caller's task so bad arguments raise there."""
        updates = self._open_watch(target.job_id)
        logs = None if self._open_logs is None else self._open_logs(target.batch_job_id)
        return updates, logs

    def _start(self, target: JobTarget, updates: AsyncGenerator[JobUpdate], logs: FollowLogs | None) -> None:
        if self._task_group is None or self._send is None:
            raise RuntimeError("the job stream is not open")
        self._running.add(target.job_id)
        self._task_group.start_soon(
            self._run, target, updates, logs, self._send.clone(), name=f"fwbatch job {target.job_id}"
        )

    async def _run(
        self,
        target: JobTarget,
        updates: AsyncGenerator[JobUpdate],
        logs: FollowLogs | None,
        send: MemoryObjectSendStream[JobEvent],
    ) -> None:
        async with send:
            ended = await _follow_one(target.job_id, updates, logs, send)
            self._ended[target.job_id] = ended
            self._running.discard(target.job_id)
            if not self._running:
                self._close_sending()  # the last job: once its clone is closed too, iteration ends
            await send.send(ended)

    def _close_sending(self) -> None:
        self._accepting = False
        if self._send is not None:
            self._send.close()


async def _follow_one(
    job_id: str,
    updates: AsyncGenerator[JobUpdate],
    logs: FollowLogs | None,
    send: MemoryObjectSendStream[JobEvent],
) -> JobEnded:
    """Watch one job and follow its log until it finished and the log drained; how it ended."""
    last: list[BatchInferenceJob] = []
    errors: list[FwBatchError] = []

    async def watch(task_group: TaskGroup) -> None:
        try:
            async with aclosing(updates):
                async for update in updates:
                    last[:] = [update.job]
                    await send.send(update)
        except FwBatchError as error:
            errors.append(error)
            task_group.cancel_scope.cancel()
            return
        if logs is not None:
            logs.finish()

    async def follow(task_group: TaskGroup, logs: FollowLogs) -> None:
        try:
            async for entry in logs:
                await send.send(LogLine(job_id, entry))
        except FwBatchError as error:
            errors.append(error)
            task_group.cancel_scope.cancel()

    async with AsyncExitStack() as stack:
        if logs is not None:
            await stack.enter_async_context(logs)
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(watch, task_group)
            if logs is not None:
                task_group.start_soon(follow, task_group, logs)
    error = errors[0] if errors else None
    if error is not None:
        _LOG.warning("job %s: following stopped: %s", job_id, error)
    return JobEnded(job_id, last[0] if last else None, error, None if logs is None else logs.stats)
