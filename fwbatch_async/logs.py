"""Reading logs: finite reads in either direction, the last n entries, and following like ``tail -f``.

Everything here pulls: requests are made when the consumer asks for the next entry, and no background task is
started, so breaking out of a loop, cancelling, or an exception in the consumer's code leaves nothing running.
The decisions (which entries are new, where the next read starts) are made by the pure
:class:`~fwbatch_async._core.follow.LogFollower`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, aclosing, nullcontext
from typing import Final, Protocol, Self

import attrs

from ._core.errors import BadRequestError, InvalidResponseError
from ._core.follow import FollowCursor, FollowStats, LogFollower, ReadOutcome, WindowSettings
from ._core.models import LogEntry, LogPage
from ._core.polling import DEADLINE_SLACK, PollPolicy
from ._core.requests import LogQuery, Request
from ._core.timestamps import Timestamp
from ._persist import outlast_failures
from .clock import Clock

__all__ = ["FollowLogs", "iter_entries", "iter_log_pages", "read_tail"]

_LOG = logging.getLogger(__name__)
# A read that keeps getting empty pages with new tokens is treated as caught up after this many.
_MAX_EMPTY_PAGES: Final = 100


class RequestMeter(Protocol):
    """Counters a request updates: attempts made and retries among them."""

    requests: int
    retries: int


# A page and the server's clock when it answered (its Date header, nanoseconds), if it said.
DatedPage = tuple[LogPage, int | None]
FetchPage = Callable[[Request, RequestMeter | None], Awaitable[DatedPage]]


async def iter_log_pages(
    fetch: FetchPage, query: LogQuery, meter: RequestMeter | None = None
) -> AsyncGenerator[LogPage]:
    """Every page of one read, following tokens with every other parameter unchanged.

    The read ends when the server sends no token, or sends back the token it was given (caught up). An empty page
    with a new token is not the end.
    """
    token: str | None = None
    while True:
        page, _ = await fetch(query.request(token), meter)
        yield page
        next_token = page.next_page_token
        del page  # not alive while the next page is decoded: see iter_entries
        if next_token is None or next_token == token:
            return
        token = next_token


async def iter_entries(pages: AsyncGenerator[LogPage]) -> AsyncGenerator[LogEntry]:
    """The entries of ``pages``, in order."""
    async with aclosing(pages):
        async for page in pages:
            for entry in page.entries:
                yield entry
            # Decoding the next page triggers collections: a page kept alive meanwhile is scanned by each of them.
            del page


async def read_tail(fetch: FetchPage, query: LogQuery, n: int) -> list[LogEntry]:
    """The last ``n`` entries, oldest first; ``query`` must read backwards with a page size of min(n, 10,000)."""
    newest_first: list[LogEntry] = []
    async with aclosing(iter_log_pages(fetch, query)) as pages:
        async for page in pages:
            newest_first.extend(page.entries)
            if len(newest_first) >= n:
                break
    return newest_first[n - 1 :: -1] if len(newest_first) >= n else newest_first[::-1]


@attrs.frozen
class FollowStart:
    """Where a follow begins: the last ``last`` entries, from ``since_ns``, from the first entry, or a cursor."""

    last: int | None = None
    since_ns: int | None = None
    cursor: FollowCursor | None = None


@attrs.frozen
class FollowSettings:
    """How a follow behaves; see :meth:`fwbatch_async.AsyncClient.follow_logs`."""

    window: WindowSettings
    poll: PollPolicy
    page_size: int


class FollowLogs:
    """An open log follow: iterate it for entries; read :attr:`cursor` and :attr:`stats` at any time.

    Iteration goes on until :meth:`finish` was called and the log has drained, or forever. Made by
    :meth:`fwbatch_async.AsyncClient.follow_logs`; use it with ``async with``. Leaving the block (normally, by
    ``break``, by an exception or by cancellation) stops the follow; it holds no task and no connection of its
    own between requests. Entries come oldest first, except that an entry which became visible late is delivered
    when it is found, after newer ones (:attr:`FollowStats.late_entries` counts them).

    Example:
        >>> import fwbatch_async as fw
        >>> async def resume(client: fw.AsyncClient, saved: str | None) -> str:
        ...     start = {"cursor": saved} if saved else {"last": 10}
        ...     async with client.follow_logs("my-job", **start) as logs:
        ...         async for entry in logs:
        ...             print(entry.message)
        ...             if entry.message.startswith("Batch inference job completed"):
        ...                 break
        ...     return logs.cursor.to_json()
    """

    def __init__(
        self,
        *,
        fetch: FetchPage,
        forward: LogQuery,
        backward: LogQuery,
        start: FollowStart,
        settings: FollowSettings,
        clock: Clock,
        random: Callable[[], float],
        is_retryable: Callable[[BaseException], bool],
        fingerprint: str,
        label: str,
    ) -> None:
        self._fetch = fetch
        self._forward = forward
        self._backward = backward
        self._last = start.last
        self._settings = settings
        self._clock = clock
        self._random = random
        self._is_retryable = is_retryable
        self._fingerprint = fingerprint
        self._label = label
        self._stats = FollowStats()
        self._follower: LogFollower | None = None
        if start.cursor is not None:
            self._follower = LogFollower.from_cursor(start.cursor, settings.window, self._stats)
        elif start.last is None:
            self._follower = LogFollower(settings.window, self._stats, start=start.since_ns, floor=start.since_ns)
        self._batch: Sequence[LogEntry] = ()
        self._handed_over = 0
        self._iterator: AsyncGenerator[LogEntry] | None = None
        self._closed = False
        self._drain_after: float | None = None
        self._page_slots: AbstractAsyncContextManager[object] = nullcontext()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[LogEntry]:
        if self._closed:
            raise RuntimeError("this log follow is closed")
        if self._iterator is None:
            self._iterator = self._entries()
        return self._iterator

    async def aclose(self) -> None:
        """Stop following. Safe to call more than once."""
        self._closed = True
        iterator, self._iterator = self._iterator, None
        if iterator is not None:
            await iterator.aclose()

    def finish(self) -> None:
        """Say the job has finished: iteration ends once its lookback has passed and a read finds nothing new.

        Lines that the job wrote before it finished but that become visible late are still delivered. Calling it
        again changes nothing.
        """
        if self._drain_after is None:
            self._drain_after = self._clock.monotonic() + self._settings.window.lookback

    def _share_page_slots(self, slots: asyncio.Semaphore) -> Self:
        """Take one of ``slots`` for each request, and keep it until the consumer has taken the page's new entries.

        Followers that feed one consumer (a fan-out) each hold a decoded page while they wait for it; sharing slots
        bounds how many pages are held at once, whatever the number of followers.
        """
        self._page_slots = slots
        return self

    @property
    def stats(self) -> FollowStats:
        """Counters of this follow, updated as it runs."""
        return self._stats

    @property
    def cursor(self) -> FollowCursor:
        """Where the follow is now: pass it as ``cursor=`` to resume, in this process or another.

        Exactly the entries handed to the consumer so far count as delivered.

        Raises:
            RuntimeError: a follow from ``last=`` has not read its first entries yet.
        """
        if self._follower is None:
            raise RuntimeError("the follow has not started: iterate it before asking for a cursor")
        return self._follower.cursor(self._fingerprint, self._batch[self._handed_over :])

    async def _entries(self) -> AsyncGenerator[LogEntry]:
        """Entries one by one, keeping count of what the consumer has received (the cursor depends on it)."""
        stats = self._stats
        async with aclosing(self._batches()) as batches:
            async for batch in batches:
                self._batch = batch
                for position, entry in enumerate(batch, 1):
                    self._handed_over = position
                    stats.entries_delivered += 1
                    yield entry
                self._batch, self._handed_over = (), 0
                del batch  # not kept while the next page is awaited, see _batches

    async def _batches(self) -> AsyncGenerator[list[LogEntry]]:
        """The new entries of each page, read after read."""
        if self._follower is None:
            self._follower, first = await self._begin_with_tail(self._last or 0)
            if first:
                yield first
        follower, clock = self._follower, self._clock
        schedule = self._settings.poll.schedule()
        while True:
            restarted, last_page_full = False, False
            query: LogQuery | None = None
            token: str | None = None
            empty_pages = 0
            while True:
                async with self._page_slots:
                    if query is None:
                        # Begun once a slot is free: time spent waiting for one would widen the window (§3.3).
                        start = follower.begin_read(clock.monotonic())
                        query = self._forward.with_start(None if start is None else Timestamp(start))
                    dated = await self._fetch_page(query.request(token), has_token=token is not None)
                    if dated is None:
                        restarted = True
                        break
                    new = self._accept(follower, *dated)
                    if new:
                        yield new
                    size, next_token = len(dated[0].entries), dated[0].next_page_token
                    # Not kept while waiting for the next poll: a fan-out has a thousand followers waiting.
                    del dated, new
                last_page_full = size >= self._settings.page_size
                # A short page at the head ends the read even with a token (a server whose reads always carry one
                # would otherwise never end a read while lines keep coming): the rest is the next read's.
                at_head = 0 < size < self._settings.page_size and follower.reached_head
                if next_token is None or next_token == token or at_head:
                    break
                empty_pages = 0 if size else empty_pages + 1
                if empty_pages > _MAX_EMPTY_PAGES:
                    break
                token = next_token
            outcome = follower.end_read(clock.monotonic())
            self._report(outcome)
            # More may be waiting (a restart cut the read short, or it ended on a full page): read again at once,
            # but only after a read that found something, so a log that ends on a page boundary is not polled hot.
            if (restarted or last_page_full) and outcome.delivered > 0:
                continue
            delay = schedule.next_delay(found_new=outcome.delivered > 0, random=self._random())
            if self._drain_after is not None:
                now = clock.monotonic()
                if now >= self._drain_after - DEADLINE_SLACK and outcome.delivered == 0 and not restarted:
                    return
                delay = min(delay, max(0.0, self._drain_after - now))
            await clock.sleep(delay)

    async def _fetch_page(self, request: Request, *, has_token: bool) -> DatedPage | None:
        """A page, waiting out failures that survived the client's retries; None if its page token was rejected."""
        try:
            return await self._patient_fetch(request, self._stats)
        except BadRequestError:
            if not has_token:
                raise
            # An expired or rejected token: a new read from the window is safe, counts prevent repeats.
            self._stats.token_restarts += 1
            _LOG.warning("%s: page token rejected; restarting the read from the lookback window", self._label)
            return None

    async def _patient_fetch(self, request: Request, meter: RequestMeter | None) -> DatedPage:
        """A page, waiting out failures that survived the client's retries (a 429 storm, an outage)."""
        return await outlast_failures(
            lambda: self._fetch(request, meter),
            is_retryable=self._is_retryable,
            clock=self._clock,
            wait=self._settings.poll.max_interval,
            label=self._label,
            on_failure=self._count_failure,
        )

    def _count_failure(self) -> None:
        self._stats.failures += 1

    def _accept(self, follower: LogFollower, page: LogPage, server_time: int | None) -> list[LogEntry]:
        try:
            return follower.accept(page.entries, self._clock.monotonic(), server_time)
        except ValueError as error:  # a log time that is not a timestamp, found when first compared
            raise InvalidResponseError("getBatchJobLogs", str(error), transient=False) from None

    async def _begin_with_tail(self, last: int) -> tuple[LogFollower, list[LogEntry]]:
        """Read backwards from the newest entry far enough for ``last`` entries and the lookback window."""
        lookback_ns = round(self._settings.window.lookback * 1e9)
        newest_first: list[LogEntry] = []
        newest: int | None = None
        async with aclosing(iter_log_pages(self._patient_fetch, self._backward, self._stats)) as pages:
            async for page in pages:
                newest_first.extend(page.entries)
                if newest is None and page.entries:
                    newest = max(entry.log_time.ns for entry in page.entries)
                if (
                    newest is not None
                    and len(newest_first) >= last
                    and newest_first[-1].log_time.ns < newest - lookback_ns
                ):
                    break
        return LogFollower.after_tail(newest_first, last, self._settings.window, self._stats)

    def _report(self, outcome: ReadOutcome) -> None:
        if outcome.missed:
            span = f"{Timestamp(outcome.missed_from or 0)} .. {Timestamp(outcome.missed_until or 0)}"
            _LOG.warning(
                "%s: %d log entries in %s arrived more than the lookback (%.1fs) late and were not delivered; "
                "follow with a longer lookback to get them",
                self._label,
                outcome.missed,
                span,
                self._settings.window.lookback,
            )
        if outcome.overflowed:
            _LOG.warning(
                "%s: more than %d entries in the lookback window; the oldest were dropped, and entries arriving "
                "late among them will be missed (and counted)",
                self._label,
                self._settings.window.max_window,
            )
