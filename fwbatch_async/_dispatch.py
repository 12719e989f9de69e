"""Many jobs, one dispatcher: the scheduler's picks sent with one task per request in flight, not two per job.

Each job has a watch machine and, when its log is followed, a follow machine; all of them sit in one
:class:`~fwbatch_async._core.scheduler.Scheduler`. The dispatcher's loop waits until a request is due, takes an
in-flight slot and its turn in the client's send rate, asks the scheduler for the request that matters most, and
sends it in a task of its own. That task feeds the answer to its machine, hands what comes out to the consumer (a
slow consumer keeps the slot, so at most ``in_flight`` answers wait for it), and tells the scheduler. The dispatcher
also connects a job's two machines: a finished job starts its log's drain; a job that waits for capacity has its
log held after the first read (it has no lines yet). With a :class:`~fwbatch_async._core.listing.StateLister`, the
running jobs' states come from listings once that costs fewer requests: their watches are held meanwhile and fed
by the listing, and a job that leaves it is read on its own at once.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import Awaitable, Callable
from typing import Final, Literal

import anyio
import attrs
from anyio.abc import TaskGroup

from ._core.errors import ClientClosedError, FwBatchError
from ._core.events import JobEnded, JobEvent, LogLine
from ._core.following import FollowMachine
from ._core.jobs import ended_at
from ._core.listing import StateLister
from ._core.models import JobListPage, LogPage
from ._core.polling import DEADLINE_SLACK
from ._core.requests import Request
from ._core.scheduler import Scheduler
from ._core.watching import WAITING_STATES, WatchMachine
from ._drive import Attempts, read_job

__all__ = ["Dispatcher", "JobTarget", "unexpected"]

_LOG = logging.getLogger("fwbatch_async.fanout")
Kind = Literal["watch", "logs", "list"]
Key = tuple[str, Kind]
Emit = Callable[[JobEvent], Awaitable[None]]
_WATCH: Final = "watch"
_LOGS: Final = "logs"
_LIST: Final[Key] = ("", "list")  # no job has an empty id


@attrs.frozen
class JobTarget:
    """A job to follow: its batch inference job id, and the batch job id its logs are under."""

    job_id: str
    batch_job_id: str


@attrs.define
class _Job:
    target: JobTarget
    watch: WatchMachine
    follow: FollowMachine | None
    ended: bool = False


def _as_error(error: Exception, job: _Job) -> FwBatchError:
    """A machine's own end (a wait's timeout) as the job's error; anything else is a bug."""
    return error if isinstance(error, FwBatchError) else unexpected(error, f"following job {job.target.job_id}")


def unexpected(error: Exception, doing: str) -> FwBatchError:
    """A library bug met while ``doing`` something, as the error of that one job (logged with its traceback)."""
    _LOG.error("unexpected error while %s", doing, exc_info=error)
    wrapped = FwBatchError(f"unexpected error while {doing}: {error!r}")
    wrapped.__cause__ = error
    return wrapped


class Dispatcher:
    """Sends the requests of many jobs' machines; see the module documentation.

    Args:
        sender: sends one attempt (its turn taken by the dispatcher) and tells the time.
        emit: hands an event to the consumer (it may wait: that is the backpressure).
        in_flight: the most requests (and answers waiting for the consumer) at once.
        lister: reads the running jobs' states from listings when that costs fewer requests, or ``None``.
    """

    def __init__(self, sender: Attempts, *, emit: Emit, in_flight: int, lister: StateLister | None = None) -> None:
        self._sender = sender
        self._emit = emit
        self._slots = asyncio.Semaphore(in_flight)
        self._scheduler = Scheduler[Key]()
        self._jobs: dict[str, _Job] = {}
        self._wake = asyncio.Event()
        self._lister = lister
        self._listed: dict[str, str] = {}  # the covered jobs: short id -> the id the job was added with
        self._listing = False  # the lister is worth it: it runs, and the covered jobs' own reads are held
        self._deadlines: list[tuple[float, str]] = []  # (deadline, job id) of the waits with a timeout, a heap
        if lister is not None:
            now = sender.clock.monotonic()
            self._scheduler.add(_LIST, lister, now)
            self._scheduler.hold(_LIST, now, held=True)

    @property
    def running(self) -> int:
        """Jobs added and not ended."""
        return sum(not job.ended for job in self._jobs.values())

    @property
    def added(self) -> int:
        """Jobs added, ended or not."""
        return len(self._jobs)

    def has(self, job_id: str) -> bool:
        """Whether the job was added (ended or not)."""
        return job_id in self._jobs

    def add(self, target: JobTarget, watch: WatchMachine, follow: FollowMachine | None) -> None:
        """Start on a job (its machines made, so bad ids raised already)."""
        now = self._sender.clock.monotonic()
        self._jobs[target.job_id] = _Job(target, watch, follow)
        self._scheduler.add((target.job_id, _WATCH), watch, now)
        if follow is not None:
            self._scheduler.add((target.job_id, _LOGS), follow, now)
        self._cover(self._jobs[target.job_id], target.job_id, now)
        watch.start(now)  # a wait's timeout counts from now, even if its first request must wait for a turn
        if watch.deadline is not None:
            heapq.heappush(self._deadlines, (watch.deadline, target.job_id))
        self._wake.set()

    async def run(self, task_group: TaskGroup) -> None:
        """Send due requests, each in a task of ``task_group``, until cancelled."""
        clock, scheduler = self._sender.clock, self._scheduler
        while True:
            self._wake.clear()
            due = scheduler.due(clock.monotonic())
            if due is None or due > clock.monotonic() + DEADLINE_SLACK:
                await self._sleep_until(due)
                continue
            await self._slots.acquire()
            try:
                await self._sender.turn(self._next_deadline())
                pick = scheduler.next(clock.monotonic())
            except TimeoutError:  # a wait's timeout came while the client waited for its turn to send
                self._slots.release()
                await self._expire(clock.monotonic())
                continue
            except BaseException:
                self._slots.release()
                raise
            if pick is None:
                self._slots.release()
                continue
            key, action = pick
            task_group.start_soon(self._send, key, action, name=f"fwbatch {key[1]} {key[0]}")

    def _next_deadline(self) -> float | None:
        """The earliest timeout of a job's wait, which a wait for a turn to send must not pass.

        A wait's deadline only moves later (a pending timeout no longer holds once the job runs) or goes: an entry
        that is out of date is put back at the job's deadline now, if it has one.
        """
        deadlines = self._deadlines
        while deadlines:
            deadline, job_id = deadlines[0]
            job = self._jobs[job_id]
            now_due = None if job.ended else job.watch.deadline
            if now_due == deadline:
                return deadline
            heapq.heappop(deadlines)
            if now_due is not None:
                heapq.heappush(deadlines, (now_due, job_id))
        return None

    async def _expire(self, now: float) -> None:
        """End the jobs whose wait timed out (those with a request out find out from its answer)."""
        for job in list(self._jobs.values()):
            if not job.ended and (error := job.watch.expire(now)) is not None:
                await self._end(job, error)

    async def _sleep_until(self, due: float | None) -> None:
        """Until ``due`` (on the client's clock) or until something changes (an answer, a job added)."""
        if due is None:
            await self._wake.wait()
            return
        async with anyio.create_task_group() as race:

            async def timer() -> None:
                await self._sender.clock.sleep(max(0.0, due - self._sender.clock.monotonic()))
                race.cancel_scope.cancel()

            async def woken() -> None:
                await self._wake.wait()
                race.cancel_scope.cancel()

            race.start_soon(timer)
            race.start_soon(woken)

    async def _send(self, key: Key, action: Request | Exception) -> None:
        if key == _LIST:
            await self._send_listing(action)
            return
        job = self._jobs[key[0]]
        try:
            if isinstance(action, Exception):
                await self._end(job, _as_error(action, job))
                return
            if key[1] == _LOGS and job.follow is not None:
                await self._read_logs(job, job.follow, action)
            else:
                await self._read_job(job, action)
            self._scheduler.answered(key, self._sender.clock.monotonic())
            await self._end_if_done(job)
        except FwBatchError as error:
            await self._end(job, error)
        except ClientClosedError:
            raise  # the whole stream ends: its client is gone
        except Exception as error:  # a bug must not take the user's other jobs (or their code) down with it
            await self._end(job, unexpected(error, f"following job {job.target.job_id}"))
        finally:
            self._slots.release()
            self._wake.set()

    async def _read_logs(self, job: _Job, follow: FollowMachine, request: Request) -> None:
        clock = self._sender.clock
        try:
            reply = await self._sender.attempt(request, LogPage, turn_taken=True)
        except FwBatchError as error:
            follow.on_failure(error, clock.monotonic())
            return
        entries = follow.on_page(reply.value, clock.monotonic(), reply.server_time)
        del reply
        for notice in follow.take_notices():
            _LOG.warning("logs of %s: %s", job.target.batch_job_id, notice)
        for entry in entries:
            if job.ended:
                return
            follow.stats.entries_delivered += 1
            await self._emit(LogLine(job.target.job_id, entry))
        self._hold_logs(job, clock.monotonic())

    async def _read_job(self, job: _Job, request: Request) -> None:
        answered, update = await read_job(job.watch, request, self._sender, turn_taken=True)
        if not answered:
            return
        if update is not None and not job.ended:
            await self._emit(update)
        self._watched(job, self._sender.clock.monotonic())

    def _watched(self, job: _Job, now: float) -> None:
        """The job was read (on its own or in a listing): start its log's drain, or hold it, and place its watch."""
        if job.watch.wake(now) is None and job.follow is not None:
            # The job has finished: its log drains and ends, at once when it ended more than a lookback ago.
            job.follow.finish(now, job.watch.finished_at, ended_at(job.watch.last))
            self._scheduler.hold((job.target.job_id, _LOGS), now, held=False)
            self._scheduler.touch((job.target.job_id, _LOGS), now)
        else:
            self._hold_logs(job, now)
        self._place(job, now)

    async def _send_listing(self, action: Request | Exception) -> None:
        try:
            if isinstance(action, Request) and self._lister is not None:
                await self._read_listing(self._lister, action)
            else:  # the lister raised when asked: a bug; every job is read on its own
                self._stop_listing(unexpected(action, "listing jobs") if isinstance(action, Exception) else None)
        except ClientClosedError:
            raise
        except Exception as error:  # a bug in listing must not end the jobs: they can be read on their own
            self._stop_listing(unexpected(error, "listing jobs"))
        finally:
            self._slots.release()
            self._wake.set()

    async def _read_listing(self, lister: StateLister, request: Request) -> None:
        clock = self._sender.clock
        try:
            reply = await self._sender.attempt(request, JobListPage, turn_taken=True)
        except FwBatchError as error:
            lister.on_failure(error, clock.monotonic())
            if lister.refused is not None:
                self._stop_listing(error)
            else:
                self._scheduler.answered(_LIST, clock.monotonic())
            return
        now = clock.monotonic()
        listed, missed = lister.on_page(reply.value, now)
        for seen in listed:
            job = self._jobs.get(self._listed.get(seen.job_id, ""))
            if job is None or job.ended:
                continue
            try:
                update = job.watch.on_listed(seen, now, reply.server_time)
            except FwBatchError as error:  # a stall, for a watch that raises on stalls
                await self._end(job, error)
                continue
            if update is not None:
                await self._emit(update)
            self._watched(job, now)
            await self._end_if_done(job)
        for short_id in missed:  # they left RUNNING: their own watches read them now
            job = self._jobs.get(self._listed.pop(short_id, ""))
            if job is not None and not job.ended:
                job.watch.expedite(now)
                self._release_watch(job, now)
        self._scheduler.answered(_LIST, now)
        self._relist(now)

    def _place(self, job: _Job, now: float) -> None:
        """Cover the job by the listing if it can show it (running, no deadline), else take it out of the cover."""
        lister, last = self._lister, job.watch.last
        if lister is None or last is None:
            return
        short_id = last.job_id
        if not job.ended and lister.can_cover(last):
            self._cover(job, short_id, now)
        elif self._listed.pop(short_id, None) is not None:
            lister.uncover(short_id)
            self._release_watch(job, now)
            self._relist(now)

    def _cover(self, job: _Job, short_id: str, now: float) -> None:
        """Read the job from the listing (one not read yet is tried: it may be running), unless it has a timeout."""
        lister = self._lister
        if lister is None or lister.refused is not None or job.watch.times_out or lister.covers(short_id):
            return
        if "/" in short_id:  # a full name, not read yet: maybe another account's; it reads itself
            return
        lister.cover(short_id)
        self._listed[short_id] = job.target.job_id
        if self._listing:
            self._scheduler.hold((job.target.job_id, _WATCH), now, held=True)
        self._relist(now)

    def _relist(self, now: float) -> None:
        """Run the lister and hold the covered jobs' own reads while it is worth it; the other way round when not."""
        lister = self._lister
        if lister is None or lister.worth_it == self._listing:
            return
        self._listing = lister.worth_it
        self._scheduler.hold(_LIST, now, held=not self._listing)
        for job_id in self._listed.values():
            self._scheduler.hold((job_id, _WATCH), now, held=self._listing)

    def _stop_listing(self, error: FwBatchError | None) -> None:
        """Listing is off for good: every covered job is read on its own again."""
        if error is not None:
            _LOG.warning("listing the running jobs failed (%s): each job is read on its own", error)
        now = self._sender.clock.monotonic()
        self._scheduler.remove(_LIST)
        self._listing = False
        for job_id in self._listed.values():
            job = self._jobs[job_id]
            if not job.ended:
                self._release_watch(job, now)
        self._listed.clear()
        if self._lister is not None and self._lister.refused is None:
            self._lister.refused = error or FwBatchError("listing stopped")

    def _release_watch(self, job: _Job, now: float) -> None:
        key: Key = (job.target.job_id, _WATCH)
        self._scheduler.hold(key, now, held=False)
        self._scheduler.touch(key, now)

    async def _end_if_done(self, job: _Job) -> None:
        """End the job once neither of its machines has anything left to send."""
        if not job.ended and not any((job.target.job_id, kind) in self._scheduler for kind in (_WATCH, _LOGS)):
            await self._end(job, None)

    def _hold_logs(self, job: _Job, now: float) -> None:
        """A job that waits for capacity has no lines: its log is read once, then held until the job moves on."""
        last, follow = job.watch.last, job.follow
        if follow is not None and last is not None:
            waiting = last.state in WAITING_STATES and follow.stats.reads > 0 and not follow.done
            self._scheduler.hold((job.target.job_id, _LOGS), now, held=waiting)

    async def _end(self, job: _Job, error: FwBatchError | None) -> None:
        if job.ended:
            return
        job.ended = True
        job_id = job.target.job_id
        self._scheduler.remove((job_id, _WATCH))
        self._scheduler.remove((job_id, _LOGS))
        last = job.watch.last
        if self._lister is not None and last is not None and self._listed.pop(last.job_id, None) is not None:
            self._lister.uncover(last.job_id)
            self._relist(self._sender.clock.monotonic())
        if error is not None:
            _LOG.warning("job %s: following stopped: %s", job_id, error)
        stats = None if job.follow is None else job.follow.stats
        await self._emit(JobEnded(job_id, job.watch.last, error, stats))
