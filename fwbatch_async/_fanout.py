"""Following many jobs at once: one stream of log lines, job updates and job ends, one task group behind it.

Each job runs as one task that drives its watch machine and its follow machine, under one anyio task group that
lives exactly as long as the ``async with`` block (entered with ``async with``; no task group spans a ``yield``).
Events reach the consumer through a bounded memory stream, so a slow consumer slows the followers down instead of
piling entries up. A job that cannot be followed (404, a stall, an unexpected error) ends with a
:class:`~fwbatch_async.JobEnded` event carrying the error; the others go on. Requests of every job share the
client's request budget, and decoded pages wait for the consumer in at most ``max_in_flight`` page slots.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from contextlib import AsyncExitStack, aclosing
from typing import Final, Self

import anyio
import attrs
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._core.errors import ArgumentError, FwBatchError
from ._core.events import JobEnded, JobEvent, LogLine
from ._core.following import FollowMachine
from ._core.jobs import WATCH_POLL
from ._core.models import BatchInferenceJob
from ._core.plans import FollowPlan, WatchPlan
from ._core.polling import PollPolicy
from ._core.watching import WatchMachine
from ._drive import Attempts, finished_job, follow_batches, job_updates

__all__ = ["FANOUT_PAGE_SIZE", "FANOUT_POLL", "FANOUT_WATCH", "JobEvents", "JobTarget", "wait_all"]

_LOG = logging.getLogger("fwbatch_async.fanout")
# Enough to keep every job's follower busy while the consumer handles a burst; small enough to bound memory.
_BUFFER: Final = 1024
FANOUT_PAGE_SIZE: Final = 2_000
"""A fan-out holds at most max_in_flight decoded pages of this size while its consumer catches up (about 20 MB at
the defaults), where 1,000 jobs catching up from their start used to hold a page of up to 10,000 entries each."""
FANOUT_POLL: Final = PollPolicy(min_interval=1.0, max_interval=2.0)
"""A fan-out's logs are read 1 s after new lines, not 0.5 s (half the requests for a thousand jobs), and at most 2 s
apart while quiet, so the first lines of a job that starts running wait no longer than that."""
FANOUT_WATCH: Final = attrs.evolve(WATCH_POLL, min_interval=3.0)
"""Its jobs are read every 3 s while they change, not every second: progress a few seconds old is fine for a
thousand jobs, and a job's end is still seen well within its log's lookback drain."""


@attrs.frozen
class JobTarget:
    """A job to follow: its batch inference job id, and the batch job id its logs are under."""

    job_id: str
    batch_job_id: str


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

    def __init__(
        self,
        targets: Iterable[JobTarget],
        *,
        sender: Attempts,
        watch: WatchPlan,
        follow: FollowPlan | None,
        page_slots: int,
    ) -> None:
        self._sender = sender
        self._watch = watch
        self._follow = follow
        self._prepared = [(target, *self._machines(target)) for target in targets]  # bad ids raise now
        self._stack: AsyncExitStack | None = None
        self._task_group: TaskGroup | None = None
        self._send: MemoryObjectSendStream[JobEvent] | None = None
        self._receive: MemoryObjectReceiveStream[JobEvent] | None = None
        self._slots = asyncio.Semaphore(page_slots)
        self._running: set[str] = set()
        self._ended: dict[str, JobEnded] = {}
        self._accepting = False

    async def __aenter__(self) -> Self:
        if self._stack is not None:
            raise RuntimeError("this job stream was already entered")
        self._stack = AsyncExitStack()
        self._task_group = await self._stack.enter_async_context(self._tasks())
        self._send, self._receive = anyio.create_memory_object_stream[JobEvent](_BUFFER)
        self._accepting = True
        for target, watch, follow in self._prepared:
            self._start(target, watch, follow)
        self._prepared = []
        if not self._running:
            self._close_sending()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        stack, receive = self._stack, self._receive
        if stack is None or receive is None:
            return
        try:
            await stack.aclose()  # cancels every job's task and waits for them
        finally:
            receive.close()
            self._close_sending()

    @contextlib.asynccontextmanager
    async def _tasks(self) -> AsyncIterator[TaskGroup]:
        """The task group of the jobs, cancelled when the block ends (their tasks follow forever otherwise)."""
        async with anyio.create_task_group() as task_group:
            yield task_group
            task_group.cancel_scope.cancel()

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
            ValueError: the job is already in the stream, or an id is malformed.
        """
        if not self._accepting:
            raise RuntimeError("the job stream is not open, or has ended")
        if job_id in self._running or job_id in self._ended:
            raise ArgumentError(f"job {job_id!r} is already in this stream")
        target = JobTarget(job_id, batch_job_id or job_id)
        self._start(target, *self._machines(target))

    @property
    def ended(self) -> dict[str, JobEnded]:
        """The jobs that have ended so far, by id, with how they ended."""
        return dict(self._ended)

    def _machines(self, target: JobTarget) -> tuple[WatchMachine, FollowMachine | None]:
        random = self._sender.random
        watch = self._watch.machine(target.job_id, random)
        follow = None if self._follow is None else self._follow.machine(target.batch_job_id, random)
        return watch, follow

    def _start(self, target: JobTarget, watch: WatchMachine, follow: FollowMachine | None) -> None:
        if self._task_group is None or self._send is None:
            raise RuntimeError("the job stream is not open")
        self._running.add(target.job_id)
        self._task_group.start_soon(
            self._run, target, watch, follow, self._send.clone(), name=f"fwbatch job {target.job_id}"
        )

    async def _run(
        self,
        target: JobTarget,
        watch: WatchMachine,
        follow: FollowMachine | None,
        send: MemoryObjectSendStream[JobEvent],
    ) -> None:
        async with send:
            ended = await _follow_one(target, watch, follow, sender=self._sender, send=send, slots=self._slots)
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
    target: JobTarget,
    watch: WatchMachine,
    follow: FollowMachine | None,
    *,
    sender: Attempts,
    send: MemoryObjectSendStream[JobEvent],
    slots: asyncio.Semaphore,
) -> JobEnded:
    """Watch one job and follow its log until it finished and the log drained; how it ended."""
    job_id = target.job_id
    errors: list[FwBatchError] = []

    async def guarded(task_group: TaskGroup, work: AsyncGenerator[None]) -> None:
        """Run ``work``; its error ends this job (and only this job): recorded, and the job's other task stopped."""
        try:
            async with aclosing(work):
                async for _ in work:
                    pass
        except FwBatchError as error:
            errors.append(error)
            task_group.cancel_scope.cancel()
        except Exception as error:  # a bug must not take the user's other jobs (or their code) down with it
            errors.append(_unexpected(error, f"following job {job_id}"))
            task_group.cancel_scope.cancel()

    async def watching() -> AsyncGenerator[None]:
        async with aclosing(job_updates(watch, sender)) as updates:
            async for update in updates:
                await send.send(update)
                yield
        if follow is not None:
            follow.finish(sender.clock.monotonic(), watch.finished_at)

    async def following(machine: FollowMachine) -> AsyncGenerator[None]:
        label = f"logs of {target.batch_job_id}"
        async with aclosing(follow_batches(machine, sender, label=label, slots=slots)) as batches:
            async for batch in batches:
                for entry in batch:
                    machine.stats.entries_delivered += 1
                    await send.send(LogLine(job_id, entry))
                yield

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(guarded, task_group, watching())
        if follow is not None:
            task_group.start_soon(guarded, task_group, following(follow))
    error = errors[0] if errors else None
    if error is not None:
        _LOG.warning("job %s: following stopped: %s", job_id, error)
    return JobEnded(job_id, watch.last, error, None if follow is None else follow.stats)


async def wait_all(
    ids: Sequence[str], plan: WatchPlan, sender: Attempts, *, raise_on_failure: bool
) -> dict[str, BatchInferenceJob]:
    """Wait for every job at once (``plan`` reads each in full at the end); the finished jobs, by id, in order.

    Raises:
        ExceptionGroup: one error per job that did not finish as asked, after all have been waited for.
    """
    machines = {job_id: plan.machine(job_id, sender.random) for job_id in ids}  # bad ids raise now
    results: dict[str, BatchInferenceJob] = {}
    errors: dict[str, FwBatchError] = {}

    async def wait(job_id: str) -> None:
        try:
            results[job_id] = await finished_job(machines[job_id], sender, raise_on_failure=raise_on_failure)
        except FwBatchError as error:
            errors[job_id] = error
        except Exception as error:  # a bug waiting for one job must not cancel the waits for the others
            errors[job_id] = _unexpected(error, f"waiting for job {job_id}")

    async with anyio.create_task_group() as task_group:
        for job_id in ids:
            task_group.start_soon(wait, job_id)
    if errors:
        raise ExceptionGroup(
            f"{len(errors)} of {len(ids)} jobs did not finish as asked", [errors[i] for i in ids if i in errors]
        )
    return {job_id: results[job_id] for job_id in ids}


def _unexpected(error: Exception, doing: str) -> FwBatchError:
    """A library bug met while ``doing`` something, as the error of that one job (logged with its traceback)."""
    _LOG.error("unexpected error while %s", doing, exc_info=error)
    unexpected = FwBatchError(f"unexpected error while {doing}: {error!r}")
    unexpected.__cause__ = error
    return unexpected
