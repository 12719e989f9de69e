"""The log follow machine: every decision of ``tail -f`` over getLogs, with no I/O and no clock of its own.

A driver asks :meth:`FollowMachine.next_request` what to do at a time, sends the request it gets, and feeds the
answer back: :meth:`~FollowMachine.on_page` (which returns the entries to hand over) or
:meth:`~FollowMachine.on_failure`. The machine decides:

- **the start**: the last ``N`` lines (read backwards, newest first, far enough to cover them and the lookback
  window), from a time, from the first line, or from a saved cursor;
- **reads** (see :class:`~fwbatch_async._core.follow.LogFollower` for the window and the counts): a read follows page
  tokens with every other parameter unchanged; it ends without a token, with the token it sent coming back (caught
  up), with a short page at the head (some servers always send a token), or after 100 empty pages in a row;
- **when to read again**: at once after a read that ended on a full page or was cut short and found new lines, else
  after the poll schedule's delay (short after new lines, backing off while nothing comes);
- **failures**: a rejected page token restarts the read from the window (the counts make that safe; three
  rejections in a row end the follow, the server cannot page); anything the retry policy can fix is waited out with
  its delays (a server's ``Retry-After`` first), for as long as it takes; anything else ends the follow;
- **the drain**: after :meth:`~FollowMachine.finish`, the follow ends at the first complete read that finds nothing
  new and began a lookback after the job ended, on the server's clock (its ``Date``, against the job's end time when
  known, so a job that ended long ago drains at once) or, if that comes first, on the follower's;
- **a deleted job**: a 404 after the log was read ends the follow (with a notice): its job was deleted, and
  nothing more can come.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Final

import attrs

from .actions import DONE, Action, Wait
from .cursor import FollowCursor
from .errors import ArgumentError, BadRequestError, FwBatchError, InvalidResponseError, NotFoundError
from .follow import LogFollower
from .models import LogEntry, LogPage
from .polling import DEADLINE_SLACK, PollPolicy
from .requests import MAX_LOG_PAGE_SIZE, LogQuery, Request, to_timestamp
from .retry import RetryPolicy
from .timestamps import Timestamp
from .window import FollowStats, ReadOutcome, WindowSettings

__all__ = ["FollowMachine", "FollowSettings", "FollowStart", "tail_page_size"]

_NS: Final = 1_000_000_000
MAX_EMPTY_PAGES: Final = 100
"""A read that keeps getting empty pages with new tokens is treated as caught up after this many."""
MAX_TOKEN_RESTARTS: Final = 3
"""Reads restarted in a row because the server rejected their page token, before the follow gives up."""
# How much a follow's next request matters when sends are scarce (the scheduler's weights): finishing a read and
# reading a log whose lines flow come first, then the first read and a drain after the end, then a quiet log.
FLOWING_WEIGHT: Final = 10.0
FIRST_WEIGHT: Final = 8.0
DRAIN_WEIGHT: Final = 6.0
QUIET_WEIGHT: Final = 2.0


def tail_page_size(last: int | None) -> int:
    """Entries per backward page when a follow starts with its last ``last`` lines: room for them and the window."""
    return min(MAX_LOG_PAGE_SIZE, max(100, 2 * (last or 0)))


@attrs.frozen(kw_only=True)
class FollowStart:
    """Where a follow begins: the last ``last`` entries, from ``since_ns``, from the first entry, or a cursor."""

    last: int | None = None
    since_ns: int | None = None
    cursor: FollowCursor | None = None

    @classmethod
    def create(
        cls,
        *,
        last: int | None,
        since: Timestamp | datetime | timedelta | str | None,
        from_start: bool,
        cursor: FollowCursor | str | None,
        now_ns: int,
    ) -> FollowStart:
        """The start a follow's arguments ask for: the last 10 lines when none is given.

        ``now_ns`` (the server's clock as best known, ns) resolves a ``since`` given as a duration.

        Raises:
            ValueError: more than one start, a negative ``last``, a malformed ``since`` or cursor.
        """
        if sum([last is not None, since is not None, from_start, cursor is not None]) > 1:
            raise ArgumentError("give at most one of last=, since=, from_start=True and cursor=")
        if last is not None and (type(last) is not int or last < 0):
            raise ArgumentError(f"last must be a non-negative int, got {last!r}")
        if cursor is not None:
            return cls(cursor=FollowCursor.from_json(cursor) if isinstance(cursor, str) else cursor)
        if isinstance(since, timedelta):
            return cls(since_ns=now_ns - since // timedelta(microseconds=1) * 1000)
        if since is not None:
            return cls(since_ns=to_timestamp(since, "since").ns)
        return cls() if from_start else cls(last=10 if last is None else last)


@attrs.frozen(kw_only=True)
class FollowSettings:
    """How a follow behaves; see :meth:`fwbatch_async.AsyncClient.follow_logs`."""

    window: WindowSettings
    poll: PollPolicy
    retry: RetryPolicy
    """Decides which failures are waited out, and how long; a patient policy (it never gives up by itself)."""
    page_size: int = MAX_LOG_PAGE_SIZE
    """The forward query's page size: a page this full means more may be waiting."""


class FollowMachine:
    """One log follow; see the module documentation.

    Args:
        forward: the query of every forward read (its start time is set per read).
        backward: the query that reads the tail, newest first, when the follow starts with its last lines.
        start: where to begin.
        settings: window, poll schedule and retry policy.
        fingerprint: the query digest its cursors carry.
        random: uniform numbers in [0, 1) for jitter.
    """

    def __init__(
        self,
        *,
        forward: LogQuery,
        backward: LogQuery,
        start: FollowStart,
        settings: FollowSettings,
        fingerprint: str,
        random: Callable[[], float],
    ) -> None:
        self._forward = forward
        self._backward = backward
        self._settings = settings
        self._lookback_ns = round(settings.window.lookback * _NS)
        self._fingerprint = fingerprint
        self._random = random
        self.stats = FollowStats()
        self._schedule = settings.poll.schedule()
        self._notices: list[str] = []
        self._follower: LogFollower | None = None
        self._last = start.last
        self._tail: list[LogEntry] = []
        self._tail_newest: int | None = None
        if start.cursor is not None:
            self._follower = LogFollower.from_cursor(start.cursor, settings.window, self.stats)
        elif start.last is None:
            self._follower = LogFollower(settings.window, self.stats, start=start.since_ns, floor=start.since_ns)
        self._done = False
        self._pages = 0  # pages answered: a 404 after one means the job was deleted
        self._due = float("-inf")  # nothing may be sent before this time
        self._sent: Request | None = None  # the request out, not answered yet
        self._reading = False
        self._flowing = False  # the last read found new lines
        self._ended_on_full_page: bool | None = None  # the read ended with the last page (on a full one?)
        self._query = forward
        self._token: str | None = None
        self._empty_pages = 0
        self._read_began = 0.0  # the follower's clock when the read in progress (or the last) began
        self._read_server_time: int | None = None
        self._server_time: int | None = None  # the newest Date seen
        self._failures = 0  # in a row: the retry policy's attempt count
        self._restarts = 0  # reads restarted in a row after a rejected token
        self._drain_at: float | None = None  # the follower's clock: when a finished job has nothing late to wait for
        self._drain_server_at: int | None = None  # the same in the server's time, when it is known

    # --- what the driver reads ---------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """Whether the follow has ended (it drained after :meth:`finish`)."""
        return self._done

    @property
    def weight(self) -> float:
        """How much the next request matters now, for a scheduler that shares scarce sends among many follows."""
        if self._reading or self._flowing:
            return FLOWING_WEIGHT
        if self.stats.reads == 0:
            return FIRST_WEIGHT
        return DRAIN_WEIGHT if self._drain_at is not None else QUIET_WEIGHT

    def wake(self, now: float) -> float | None:
        """When the follow wants to send next (at or before ``now``: now), or ``None`` once it is done."""
        self._settle(now)
        return None if self._done else self._due

    @property
    def started(self) -> bool:
        """Whether the follow knows where it is (a ``last`` start has read its tail)."""
        return self._follower is not None

    def cursor(self, pending: Iterable[LogEntry] = ()) -> FollowCursor:
        """The state to resume from, as if the ``pending`` entries had not been read.

        ``pending`` are entries :meth:`on_page` handed out that the consumer has not taken yet.

        Raises:
            RuntimeError: a follow from ``last=`` has not read its tail yet.
        """
        if self._follower is None:
            raise RuntimeError("the follow has not started: iterate it before asking for a cursor")
        return self._follower.cursor(self._fingerprint, pending)

    def take_notices(self) -> list[str]:
        """Warnings for the user since the last call: lines that may have been missed, a rejected page token."""
        notices, self._notices = self._notices, []
        return notices

    # --- the protocol ------------------------------------------------------------------------------------------

    def next_request(self, now: float) -> Action:
        """What to do at ``now``: send a request, wait until a time, or nothing more.

        Raises:
            RuntimeError: a request is out and has not been answered (:meth:`on_page` / :meth:`on_failure`).
        """
        if self._sent is not None:
            raise RuntimeError("a request is out: answer it with on_page() or on_failure() first")
        self._settle(now)
        if self._done:
            return DONE
        if now < self._due - DEADLINE_SLACK:
            return Wait(self._due)
        if self._follower is None:
            request = self._backward.request(self._token)
        else:
            if not self._reading:
                self._begin_read(self._follower, now)
            request = self._query.request(self._token)
        self.stats.requests += 1
        self.stats.retries += self._failures > 0
        self._sent = request
        return request

    def on_page(self, page: LogPage, now: float, server_time: int | None = None) -> list[LogEntry]:
        """The answer to the request out; the entries to hand over, in order.

        Args:
            page: the page the server sent.
            now: the driver's monotonic time.
            server_time: nanoseconds, the server's clock when it answered (its ``Date``), if it said.

        Raises:
            InvalidResponseError: an entry's time is not a valid timestamp.
        """
        self._answered()
        self._failures = 0
        self._pages += 1
        if server_time is not None:
            self._server_time = server_time if self._server_time is None else max(self._server_time, server_time)
        if self._follower is None:
            return self._on_tail_page(page, now)
        if self._read_server_time is None:
            self._read_server_time = server_time
        try:
            new = self._follower.accept(page.entries, now, server_time)
        except ValueError as error:  # a log time that is not a timestamp, found when first compared
            raise InvalidResponseError("getBatchJobLogs", str(error), transient=False) from None
        size, token = len(page.entries), page.next_page_token
        page_size = self._settings.page_size
        at_head = 0 < size < page_size and self._follower.reached_head
        if token is None or token == self._token or at_head:
            self._ended_on_full_page = size >= page_size
            return new
        self._empty_pages = 0 if size else self._empty_pages + 1
        if self._empty_pages > MAX_EMPTY_PAGES:
            self._ended_on_full_page = False
        else:
            self._token = token
            self._due = now
        return new

    def on_failure(self, error: FwBatchError, now: float) -> None:
        """The request out failed with ``error``: wait it out, restart the read, or end the follow.

        A 404 after a page was read ends the follow: the job was deleted.

        Raises:
            FwBatchError: ``error`` itself, when retrying cannot fix it (or the server keeps rejecting tokens).
        """
        self._answered()
        self.stats.failures += 1
        if isinstance(error, NotFoundError) and self._pages:
            self._notices.append("the log is gone (404): its job was deleted; the follow ends")
            self._done = True
            return
        follower = self._follower
        if isinstance(error, BadRequestError) and follower is not None and self._reading and self._token is not None:
            self.stats.token_restarts += 1
            self._restarts += 1
            if self._restarts > MAX_TOKEN_RESTARTS:
                error.add_note(f"the server rejected the page tokens of {self._restarts} reads in a row")
                raise error
            self._notices.append("page token rejected; restarting the read from the lookback window")
            self._end_read(follower, now, restarted=True, full=False)
            return
        self._failures += 1
        delay = self._settings.retry.delay_after(error, attempt=self._failures, elapsed=0.0, random=self._random())
        if delay is None:
            raise error
        self._due = now + delay

    def finish(self, now: float, server_time: int | None = None, ended_at: int | None = None) -> None:
        """Say the job has finished (seen at ``now``; ``server_time`` is the server's ``Date`` on that answer).

        The follow then ends at the first complete read that finds nothing new and began a lookback after the job
        ended. ``ended_at`` (ns, the server's clock) is when the job ended, if known: a job that ended longer than a
        lookback ago has nothing late to wait for, and its drain ends at the next complete read that finds nothing.
        Calling it again changes nothing.
        """
        if self._drain_at is not None:
            return
        self._drain_at = now + self._settings.window.lookback
        if ended_at is not None:
            self._drain_server_at = ended_at + self._lookback_ns
        elif server_time is not None:
            # The Date is whole seconds: the job may have ended up to a second after it.
            self._drain_server_at = server_time + _NS + self._lookback_ns
        if not self._reading and self._due > now:
            self._due = min(self._due, now + self._drain_wait(self._drain_at, now))

    # --- inside ----------------------------------------------------------------------------------------------

    def _settle(self, now: float) -> None:
        """End a read that ended with its last page, now that its entries were handed over.

        A cursor taken while they were needs them in the window, so a read ends only when the driver moves on.
        """
        if self._ended_on_full_page is not None and self._follower is not None:
            self._end_read(self._follower, now, restarted=False, full=self._ended_on_full_page)

    def _answered(self) -> None:
        if self._sent is None:
            raise RuntimeError("no request is out")
        self._sent = None

    def _on_tail_page(self, page: LogPage, now: float) -> list[LogEntry]:
        """Collect the tail, newest first, until it holds ``last`` lines and reaches the window (or the log ends)."""
        entries = page.entries
        self._tail.extend(entries)
        if entries and self._tail_newest is None:
            self._tail_newest = max(entry.log_time.ns for entry in entries)
        newest, last = self._tail_newest, self._last or 0
        enough = (
            newest is not None and len(self._tail) >= last and self._tail[-1].log_time.ns < newest - self._lookback_ns
        )
        token = page.next_page_token
        if not enough and token is not None and token != self._token:
            self._token = token
            self._due = now
            return []
        self._follower, first = LogFollower.after_tail(self._tail, last, self._settings.window, self.stats)
        self._tail, self._token, self._due = [], None, now
        return first

    def _begin_read(self, follower: LogFollower, now: float) -> None:
        start = follower.begin_read(now)
        self._read_began = now
        self._query = self._forward.with_start(None if start is None else Timestamp(start))
        self._reading, self._token, self._empty_pages, self._read_server_time = True, None, 0, None

    def _end_read(self, follower: LogFollower, now: float, *, restarted: bool, full: bool) -> None:
        self._ended_on_full_page = None
        outcome = follower.end_read(now)
        self._flowing = outcome.delivered > 0
        self._reading, self._token = False, None
        self._restarts = self._restarts if restarted else 0
        self._note(outcome)
        # More may be waiting (a restart cut the read short, or it ended on a full page): read again at once, but
        # only after a read that found something, so a log that ends on a page boundary is not polled hot.
        if (restarted or full) and outcome.delivered > 0:
            self._due = now
            return
        delay = self._schedule.next_delay(found_new=outcome.delivered > 0, random=self._random())
        drain_at = self._drain_at
        if drain_at is not None:
            if outcome.delivered == 0 and not restarted and self._drained(drain_at):
                self._done = True
                return
            delay = min(delay, self._drain_wait(drain_at, now))
        self._due = now + delay

    def _drained(self, drain_at: float) -> bool:
        """Whether the read just ended began a lookback after the job ended, on the server's clock or the follower's.

        Its beginning counts, not its end: a read that began earlier may have passed a line that became visible after
        it. The server's is the truth, and ends the drain early against a server running faster than the follower (an
        emulator at speed 60); the follower's ends it against one whose clock stands still (a manual clock).
        """
        server_at, began = self._drain_server_at, self._read_server_time
        if server_at is not None and began is not None and began >= server_at:
            return True
        return self._read_began >= drain_at - DEADLINE_SLACK

    def _drain_wait(self, drain_at: float, now: float) -> float:
        """Seconds until the drain can end, on the follower's clock."""
        wait = drain_at - now
        if self._drain_server_at is not None and self._server_time is not None:
            # As if the server's clock ran at the follower's rate: a faster one only makes the next read the last.
            wait = min(wait, (self._drain_server_at - self._server_time) / _NS)
        return max(0.0, wait)

    def _note(self, outcome: ReadOutcome) -> None:
        if outcome.missed:
            span = f"{Timestamp(outcome.missed_from or 0)} .. {Timestamp(outcome.missed_until or 0)}"
            self._notices.append(
                f"{outcome.missed} log entries in {span} arrived more than the lookback "
                f"({self._settings.window.lookback:.1f}s) late and were not delivered; "
                "follow with a longer lookback to get them"
            )
        if outcome.overflowed:
            self._notices.append(
                f"more than {self._settings.window.max_window} entries in the lookback window; the oldest were "
                "dropped, and entries arriving late among them will be missed (and counted)"
            )
