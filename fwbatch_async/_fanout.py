"""Following many jobs at once: one stream of log lines, job updates and job ends.

Every job's watch and log follow are machines of one :class:`~fwbatch_async._dispatch.Dispatcher`, which decides
whose request goes next and sends it in a task of its own, under one anyio task group that lives exactly as long as
the ``async with`` block (entered with ``async with``; no task group spans a ``yield``). Events reach the consumer
through a bounded memory stream, so a slow consumer slows the requests down instead of piling entries up. A job that
cannot be followed (404, a stall, an unexpected error) ends with a :class:`~fwbatch_async.JobEnded` event carrying
the error; the others go on.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AsyncExitStack
from typing import Final, Self

import anyio
import attrs
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._core.errors import ArgumentError, FwBatchError, JobFailedError
from ._core.events import JobEnded, JobEvent
from ._core.following import FollowMachine
from ._core.jobs import WATCH_POLL, failure_message
from ._core.models import BatchInferenceJob
from ._core.plans import FollowPlan, WatchPlan
from ._core.polling import PollPolicy
from ._core.watching import WatchMachine
from ._dispatch import Dispatcher, JobTarget
from ._drive import Attempts

__all__ = ["FANOUT_PAGE_SIZE", "FANOUT_POLL", "FANOUT_WATCH", "JobEvents", "JobTarget", "wait_all"]

# Enough to keep the requests in flight busy while the consumer handles a burst; small enough to bound memory.
_BUFFER: Final = 1024
FANOUT_PAGE_SIZE: Final = 2_000
"""A fan-out holds at most max_in_flight decoded pages of this size while its consumer catches up (about 20 MB at
the defaults), where 1,000 jobs catching up from their start would each hold a page of up to 10,000 entries."""
FANOUT_POLL: Final = PollPolicy(min_interval=1.0, max_interval=2.0)
"""A fan-out's logs are read 1 s after new lines, not 0.5 s (half the requests for a thousand jobs), and at most 2 s
apart while quiet, so the first lines of a job that starts running wait no longer than that."""
FANOUT_WATCH: Final = attrs.evolve(WATCH_POLL, min_interval=3.0)
"""Its jobs are read every 3 s while they change, not every second: progress a few seconds old is fine for a
thousand jobs, and a job's end is still seen well within its log's lookback drain."""


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
        self._dispatcher = Dispatcher(
            sender, emit=self._deliver, in_flight=page_slots, lister=watch.lister(sender.random)
        )
        self._stack: AsyncExitStack | None = None
        self._send: MemoryObjectSendStream[JobEvent] | None = None
        self._receive: MemoryObjectReceiveStream[JobEvent] | None = None
        self._ended: dict[str, JobEnded] = {}
        self._ends_sent = 0
        self._accepting = False

    async def __aenter__(self) -> Self:
        if self._stack is not None:
            raise RuntimeError("this job stream was already entered")
        self._send, self._receive = anyio.create_memory_object_stream[JobEvent](_BUFFER)
        self._stack = AsyncExitStack()
        task_group = await self._stack.enter_async_context(self._tasks())
        task_group.start_soon(self._dispatcher.run, task_group, name="fwbatch dispatcher")
        self._accepting = True
        for target, watch, follow in self._prepared:
            self._dispatcher.add(target, watch, follow)
        self._prepared = []
        if not self._dispatcher.running:
            self._close_sending()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        stack, receive = self._stack, self._receive
        if stack is None or receive is None:
            return
        try:
            await stack.aclose()  # cancels the dispatcher and every request, and waits for them
        finally:
            receive.close()
            self._close_sending()

    @contextlib.asynccontextmanager
    async def _tasks(self) -> AsyncIterator[TaskGroup]:
        """The task group of the dispatcher and its requests, cancelled when the block ends."""
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
        if job_id in self._ended or self._dispatcher.has(job_id):
            raise ArgumentError(f"job {job_id!r} is already in this stream")
        target = JobTarget(job_id, batch_job_id or job_id)
        self._dispatcher.add(target, *self._machines(target))

    @property
    def ended(self) -> dict[str, JobEnded]:
        """The jobs that have ended so far, by id, with how they ended."""
        return dict(self._ended)

    def _machines(self, target: JobTarget) -> tuple[WatchMachine, FollowMachine | None]:
        random = self._sender.random
        watch = self._watch.machine(target.job_id, random)
        follow = None if self._follow is None else self._follow.machine(target.batch_job_id, random)
        return watch, follow

    async def _deliver(self, event: JobEvent) -> None:
        if self._send is None:
            return
        if isinstance(event, JobEnded):
            self._ended[event.job_id] = event
            await self._send.send(event)
            self._ends_sent += 1
            # Every job's end is in the stream (not only marked: another end may still wait for room in it):
            # iteration ends once the consumer took what is left.
            if self._ends_sent == self._dispatcher.added:
                self._close_sending()
            return
        await self._send.send(event)

    def _close_sending(self) -> None:
        self._accepting = False
        if self._send is not None:
            self._send.close()


async def wait_all(
    ids: Sequence[str], plan: WatchPlan, sender: Attempts, *, raise_on_failure: bool, in_flight: int
) -> dict[str, BatchInferenceJob]:
    """Wait for every job at once (``plan`` reads each in full at the end); the finished jobs, by id, in order.

    Raises:
        ExceptionGroup: one error per job that did not finish as asked, after all have been waited for.
    """
    ends: dict[str, JobEnded] = {}
    done = anyio.Event()

    async def record(event: JobEvent) -> None:
        if isinstance(event, JobEnded):
            ends[event.job_id] = event
            if len(ends) == len(ids):
                done.set()

    dispatcher = Dispatcher(sender, emit=record, in_flight=in_flight, lister=plan.lister(sender.random))
    for job_id in ids:
        dispatcher.add(JobTarget(job_id, job_id), plan.machine(job_id, sender.random), None)  # bad ids raise now
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(dispatcher.run, task_group)
        await done.wait()
        task_group.cancel_scope.cancel()
    jobs: dict[str, BatchInferenceJob] = {}
    errors: dict[str, FwBatchError] = {}
    for job_id, end in ends.items():
        if end.error is not None or end.job is None:
            errors[job_id] = end.error or FwBatchError(f"job {job_id} ended without being read")
        elif raise_on_failure and not end.job.state.is_success:
            errors[job_id] = JobFailedError(failure_message(end.job), job_id=job_id, job=end.job)
        else:
            jobs[job_id] = end.job
    if errors:
        raise ExceptionGroup(
            f"{len(errors)} of {len(ids)} jobs did not finish as asked", [errors[i] for i in ids if i in errors]
        )
    return {job_id: jobs[job_id] for job_id in ids}
