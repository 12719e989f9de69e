"""Driving the machines: the only place a follow's or a watch's requests are sent and its waits are slept.

A driver asks its machine what to do, sends the request through the client's :class:`~fwbatch_async._sender.Sender`
(one attempt: the machine decides about retries), feeds the answer back, and hands out what the machine returns.
Both drivers are async generators that pull: nothing runs between the consumer's steps but the current request or
wait, and closing the generator leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, aclosing, nullcontext
from typing import Protocol, TypeVar

from ._core.actions import Done, Wait
from ._core.errors import FwBatchError, JobFailedError
from ._core.following import FollowMachine
from ._core.jobs import JobUpdate, failure_message
from ._core.models import BatchInferenceJob, LogEntry, LogPage
from ._core.requests import Request
from ._core.watching import WatchMachine
from ._sender import Reply
from .clock import Clock

__all__ = ["Attempts", "before", "finished_job", "follow_batches", "job_updates"]

T = TypeVar("T")
_LOG = logging.getLogger("fwbatch_async.logs")


class Attempts(Protocol):
    """What a driver needs of a sender: its clock, its jitter, and one attempt of a request."""

    @property
    def clock(self) -> Clock:
        """The clock the driver waits on."""
        ...

    @property
    def random(self) -> Callable[[], float]:
        """Uniform numbers in [0, 1), for the machines' jitter."""
        ...

    async def turn(self, deadline: float | None = None) -> None:
        """Wait until the client's send rate allows one more request."""
        ...

    async def attempt(
        self, request: Request, model: type[T], *, turn_taken: bool = False, deadline: float | None = None
    ) -> Reply[T]:
        """Send ``request`` once (after its turn, unless taken); the answer as ``model``, or a :class:`FwBatchError`.

        A ``TimeoutError`` when ``deadline`` comes before the turn.
        """
        ...


async def follow_batches(
    machine: FollowMachine,
    sender: Attempts,
    *,
    label: str,
    slots: AbstractAsyncContextManager[object] | None = None,
) -> AsyncGenerator[list[LogEntry]]:
    """The new entries of each page, until the machine is done.

    With ``slots`` (a fan-out's), one is held from before a request until its page's entries have been taken, and
    never while waiting: followers that wait out failures keep no slot that others need.
    """
    clock = sender.clock
    hold = slots if slots is not None else nullcontext()
    while True:
        async with hold:
            action = machine.next_request(clock.monotonic())
            if not isinstance(action, (Wait, Done)):
                try:
                    reply = await sender.attempt(action, LogPage)
                except FwBatchError as error:
                    machine.on_failure(error, clock.monotonic())
                    new = []
                else:
                    new = machine.on_page(reply.value, clock.monotonic(), reply.server_time)
                    del reply  # not kept while the entries are handed out
                for notice in machine.take_notices():
                    _LOG.warning("%s: %s", label, notice)
                if new:
                    yield new
                continue
        if isinstance(action, Done):
            return
        await clock.sleep(max(0.0, action.until - clock.monotonic()))


async def job_updates(machine: WatchMachine, sender: Attempts) -> AsyncGenerator[JobUpdate]:
    """The machine's updates of its job, until it is done (a request out at a wait's deadline is given up)."""
    clock = sender.clock
    while True:
        action = machine.next_request(clock.monotonic())
        if isinstance(action, Done):
            return
        if isinstance(action, Wait):
            await clock.sleep(max(0.0, action.until - clock.monotonic()))
            continue
        answered, update = await read_job(machine, action, sender)
        if answered and update is not None:
            yield update


async def read_job(
    machine: WatchMachine, request: Request, sender: Attempts, *, turn_taken: bool = False
) -> tuple[bool, JobUpdate | None]:
    """Send the watch's read and feed it the answer: whether one came, and the update it made.

    A failure is fed to the machine (it waits it out, raises, or, for a deleted job, makes its last update); a
    request out at a wait's deadline is given up.
    """
    clock = sender.clock
    try:
        sending = sender.attempt(request, BatchInferenceJob, turn_taken=turn_taken, deadline=machine.deadline)
        reply = await before(machine.deadline, clock, sending)
    except FwBatchError as error:
        gone = machine.on_failure(error, clock.monotonic())  # an update only when a 404 says the job was deleted
        return gone is not None, gone
    if reply is None:
        machine.deadline_passed()  # the next step raises WaitTimeoutError
        return False, None
    return True, machine.on_job(reply.value, clock.monotonic(), reply.server_time)


async def finished_job(machine: WatchMachine, sender: Attempts, *, raise_on_failure: bool) -> BatchInferenceJob:
    """Drive ``machine`` (a watch with a final read) to its end: the finished job, read in full.

    Raises:
        JobFailedError: the job finished without success, with ``raise_on_failure``.
    """
    async with aclosing(job_updates(machine, sender)) as updates:
        async for _ in updates:
            pass
    job = machine.last
    if job is None:  # pragma: no cover - the machine ends only after it read the job
        raise RuntimeError("the watch ended without reading the job")
    if raise_on_failure and not job.state.is_success:
        raise JobFailedError(failure_message(job), job_id=job.job_id, job=job)
    return job


async def before(deadline: float | None, clock: Clock, call: Awaitable[Reply[T]]) -> Reply[T] | None:
    """The result of ``call``, or ``None`` if the deadline comes first (``call`` is then cancelled).

    The time left is measured on ``clock`` and waited on the event loop's: the same for the system clock, and with
    a virtual clock (tests) a request to a local server takes no virtual time, so only one that hangs is cut. A
    call's own wait on ``clock`` (its turn in the send rate) keeps the deadline itself, with a ``TimeoutError``.
    """
    if deadline is None:
        return await call
    try:
        async with asyncio.timeout(max(0.0, deadline - clock.monotonic())):
            return await call
    except TimeoutError:
        return None
