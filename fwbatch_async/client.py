"""The async client: configuration, the HTTP session's lifetime, sending with retries, and the endpoints."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping
from contextlib import aclosing
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final, Literal, Self, TypeVar

import anyio
import attrs
from yarl import URL

from ._core.budget import RECHECK_AFTER, THROTTLE_STATUSES, AdaptiveRate
from ._core.errors import APIStatusError, FwBatchError, JobFailedError, redact
from ._core.follow import FollowCursor, WindowSettings, message_digest
from ._core.jobs import WATCH_FIELDS, WATCH_POLL, JobUpdate, failure_message
from ._core.models import BatchInferenceJob, JobListPage, LogEntry, LogPage
from ._core.polling import PollPolicy
from ._core.requests import (
    MAX_LOG_PAGE_SIZE,
    LogQuery,
    Request,
    check_account_id,
    job_list_request,
    job_request,
    log_query,
    to_timestamp,
)
from ._core.responses import read_response, server_time_ns
from ._core.retry import RetryPolicy
from ._core.timestamps import Timestamp
from ._version import __version__
from .clock import Clock, SystemClock
from .fanout import JobEvents, JobTarget
from .logs import (
    DatedPage,
    FollowLogs,
    FollowSettings,
    FollowStart,
    RequestMeter,
    iter_entries,
    iter_log_pages,
    read_tail,
)
from .watch import WatchSettings, watch_job

if TYPE_CHECKING:
    import aiohttp

    from ._transport import Transport

__all__ = ["DEFAULT_BASE_URL", "AsyncClient"]

T = TypeVar("T")

DEFAULT_BASE_URL: Final = "https://api.fireworks.ai"
"""Where the client sends requests unless ``base_url=`` or ``FIREWORKS_BASE_URL`` says otherwise.

Example:
    Pointing a client at the local emulator instead::

        client = fw.AsyncClient(api_key="emulator-key", base_url="http://127.0.0.1:8080")
"""
_LOG = logging.getLogger(__name__)
_DIRECTIONS: Final = ("forward", "backward")
# A fan-out holds at most max_in_flight decoded pages of this size while its consumer catches up (about 20 MB at
# the defaults), where 1,000 jobs catching up from their start used to hold a page of up to 10,000 entries each.
_FANOUT_PAGE_SIZE: Final = 2_000
# A fan-out's logs are read 1 s after new lines, not 0.5 s (half the requests for a thousand jobs), and at most 2 s
# apart while quiet, so the first lines of a job that starts running wait no longer than that.
_FANOUT_POLL: Final = PollPolicy(min_interval=1.0, max_interval=2.0)
# Its jobs are read every 3 s while they change, not every second: progress a few seconds old is fine for a
# thousand jobs, and a job's end is still seen well within its log's lookback drain.
_FANOUT_WATCH: Final = attrs.evolve(WATCH_POLL, min_interval=3.0)


class _Secret:
    """A credential whose repr is a placeholder, so a debugger, log line or ``vars()`` cannot show it."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<hidden>"


class _Headers(dict[str, str]):
    """Request headers whose repr hides the credential, so a debugger or log line cannot show it."""

    def __repr__(self) -> str:
        return repr({k: ("<hidden>" if k == "Authorization" else v) for k, v in self.items()})


def _check_api_key(api_key: str | None) -> str:
    if api_key is None:
        raise ValueError("no API key: pass api_key= or set FIREWORKS_API_KEY")
    if not isinstance(api_key, str):
        raise TypeError(f"api_key must be a str, not {type(api_key).__name__}")
    if not api_key or api_key != api_key.strip() or any(ch.isspace() or ord(ch) < 32 for ch in api_key):  # noqa: PLR2004
        # The key itself is never echoed: this message can end up in logs.
        raise ValueError("api_key is empty or contains whitespace or control characters")
    return api_key


def _check_seconds(name: str, value: object) -> None:
    """Refuse a duration that is not a positive number of seconds (NaN, 0, negative, a string, a bool)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0):
        raise ValueError(f"{name} must be positive seconds, got {value!r}")


def _check_timeout(timeout: object) -> None:
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        _check_seconds("timeout", timeout)
        return
    # A ClientTimeout can only exist if its caller imported aiohttp, so looking it up costs no import.
    aiohttp = sys.modules.get("aiohttp")
    if aiohttp is None or not isinstance(timeout, aiohttp.ClientTimeout):
        raise ValueError(f"timeout must be positive seconds or an aiohttp.ClientTimeout, got {timeout!r}")


def _job_ids(job_ids: Iterable[str]) -> list[str]:
    """The ids given, each once, in order; a lone string (which would be iterated by character) is refused."""
    if isinstance(job_ids, str):
        raise TypeError(f"job_ids must be a list of ids, not the single string {job_ids[:80]!r}")
    ids = list(dict.fromkeys(job_ids))
    if not ids:
        raise ValueError("job_ids must not be empty")
    return ids


def _check_base_url(base_url: str, *, allow_insecure_http: bool) -> str:
    from ._transport import is_loopback_host  # noqa: PLC0415 - defers importing aiohttp

    url = URL(base_url)
    if url.scheme not in {"http", "https"} or not url.host:
        raise ValueError(f"base_url must be an http(s) URL with a host, got {base_url!r}")
    if url.query_string or url.fragment or url.user or url.password:
        raise ValueError(f"base_url must not carry a query, fragment or credentials, got {url.with_user(None)!s}")
    if url.scheme == "http" and not allow_insecure_http and not is_loopback_host(url.host):
        raise ValueError(
            f"base_url {base_url!r} is plain http to a non-loopback host, which would send the API key in clear "
            "text; use https, or pass allow_insecure_http=True if you really mean it"
        )
    return str(url).rstrip("/")


class AsyncClient:
    """An asyncio client for Fireworks batch inference jobs and their logs.

    One client per application is the intended use: it owns one HTTP session (created on the first request),
    limits the requests it has in flight, and retries what can be retried. Close it with ``async with`` or
    :meth:`aclose`.

    Args:
        api_key: the Fireworks API key; default ``$FIREWORKS_API_KEY``. It never appears in a repr, an
            exception or a log line.
        account_id: the account bare job ids belong to; default ``$FIREWORKS_ACCOUNT_ID``. Full resource names
            (``accounts/{account}/batchInferenceJobs/{id}``) carry their own.
        base_url: default ``$FIREWORKS_BASE_URL`` or ``https://api.fireworks.ai``. Plain ``http://`` is refused
            for hosts other than loopback unless ``allow_insecure_http`` is set.
        timeout: positive seconds for one attempt of one request (or an ``aiohttp.ClientTimeout``).
        retry: how failed requests are retried; see :class:`RetryPolicy`.
        max_in_flight: the most requests this client has in flight at once.
        adaptive_rate: share one adaptive request rate among everything this client sends (default): unlimited
            until the server throttles (429 or 503), then lowered and recovering as requests succeed, so many
            followers do not multiply the load on a server that asked for less; see :attr:`request_rate`.
        session: an ``aiohttp.ClientSession`` to use instead of creating one; the client never closes it.
        allow_insecure_http: allow ``http://`` to hosts other than loopback.
        clock: the source of time and sleep; tests and the emulator pass their own.

    Example:
        >>> async def main() -> None:
        ...     async with AsyncClient(api_key="fw-...", account_id="my-account") as client:
        ...         job = await client.get_batch_inference_job("my-job")
        ...         print(job.state.short_name, job.job_progress)
    """

    def __init__(
        self,
        api_key: str | None = None,
        account_id: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | aiohttp.ClientTimeout = 30.0,
        retry: RetryPolicy | None = None,
        max_in_flight: int = 32,
        adaptive_rate: bool = True,
        session: aiohttp.ClientSession | None = None,
        allow_insecure_http: bool = False,
        clock: Clock | None = None,
    ) -> None:
        key = _check_api_key(api_key if api_key is not None else os.environ.get("FIREWORKS_API_KEY"))
        account = account_id if account_id is not None else os.environ.get("FIREWORKS_ACCOUNT_ID") or None
        if account is not None:
            check_account_id(account)
        if type(max_in_flight) is not int or max_in_flight < 1:
            raise ValueError(f"max_in_flight must be a positive int, got {max_in_flight!r}")
        _check_timeout(timeout)
        self._base_url = _check_base_url(
            base_url or os.environ.get("FIREWORKS_BASE_URL") or DEFAULT_BASE_URL,
            allow_insecure_http=allow_insecure_http,
        )
        self._account_id = account
        self._headers = _Headers(
            {
                "Authorization": f"Bearer {key}",
                "Accept": "application/json",
                "User-Agent": f"fwbatch-async/{__version__}",
            }
        )
        self._secret = _Secret(key)
        self._timeout = timeout
        self._retry = retry if retry is not None else RetryPolicy()
        self._max_in_flight = max_in_flight
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._budget = AdaptiveRate() if adaptive_rate else None
        self._session = session
        self._allow_insecure_http = allow_insecure_http
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._random = random.Random().random  # noqa: S311 - jitter, not cryptography
        self._transport: Transport | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"AsyncClient(base_url={self._base_url!r}, account_id={self._account_id!r}, api_key=<hidden>)"

    @property
    def base_url(self) -> str:
        """The API's base URL, without a trailing slash."""
        return self._base_url

    @property
    def account_id(self) -> str | None:
        """The account bare ids belong to, if known."""
        return self._account_id

    @property
    def clock(self) -> Clock:
        """The clock this client waits on."""
        return self._clock

    @property
    def retry(self) -> RetryPolicy:
        """How this client retries failed requests."""
        return self._retry

    @property
    def request_rate(self) -> float | None:
        """The requests per second this client allows itself now, or ``None`` while it is not limited.

        Every request and retry of this client takes its turn in one budget: unlimited until the server throttles
        (429 or 503), then half the lower of this rate and the measured send rate (0.5 at the least), growing back
        as requests succeed until the limit is lifted. Always ``None`` with ``adaptive_rate=False``.
        """
        return None if self._budget is None else self._budget.rate

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP session if the client created it. Safe to call more than once."""
        self._closed = True
        transport, self._transport = self._transport, None
        if transport is not None:
            await transport.aclose()

    def _open_transport(self) -> Transport:
        if self._closed:
            raise RuntimeError("this AsyncClient is closed")
        if self._transport is None:
            import aiohttp  # noqa: PLC0415 - imported on first use, see _transport

            from ._transport import Transport  # noqa: PLC0415

            timeout = (
                self._timeout
                if isinstance(self._timeout, aiohttp.ClientTimeout)
                else (aiohttp.ClientTimeout(total=self._timeout))
            )
            self._transport = Transport(
                session=self._session,
                timeout=timeout,
                max_connections=self._max_in_flight,
                allow_insecure_http=self._allow_insecure_http,
            )
        return self._transport

    def _redact(self, error: FwBatchError) -> None:
        """Blank the API key out of a server's answer that echoes it (message, details, anything)."""
        redact(error, self._secret.value)

    async def _take_turn(self, budget: AdaptiveRate) -> None:
        """Wait for this send's turn in ``budget``, asking again at least every ``RECHECK_AFTER`` seconds."""
        clock = self._clock
        if budget.try_send(clock.monotonic()):
            return
        ticket = budget.join()
        try:
            while (wait := budget.turn(ticket, clock.monotonic())) > 0:
                await clock.sleep(min(wait, RECHECK_AFTER))
        finally:
            budget.leave(ticket)  # cancelled: the place goes to the next caller (a no-op once the turn came)

    async def _call(self, request: Request, model: type[T], meter: RequestMeter | None = None) -> T:
        """Send ``request``, retrying per the policy, and return the response as ``model``; count in ``meter``."""
        result, _ = await self._exchange(request, model, meter)
        return result

    async def _exchange(self, request: Request, model: type[T], meter: RequestMeter | None) -> tuple[T, str | None]:
        """As :meth:`_call`, with the answer's ``Date`` header."""
        transport = self._open_transport()
        url = self._base_url + request.target
        clock = self._clock
        budget = self._budget
        started = clock.monotonic()
        attempt = 0
        while True:
            attempt += 1
            if meter is not None:
                meter.requests += 1
                meter.retries += attempt > 1
            if budget is not None:
                # Waited out before taking an in-flight slot, which a caller waiting for its turn must not hold.
                await self._take_turn(budget)
            try:
                async with self._in_flight:
                    sent = clock.monotonic()
                    raw = await transport.get(url, self._headers)
                result = read_response(request, raw, model, now=clock.time_ns() / 1e9)
            except FwBatchError as error:
                if budget is not None and isinstance(error, APIStatusError) and error.status in THROTTLE_STATUSES:
                    budget.throttled(clock.monotonic(), sent=sent)
                self._redact(error)
                delay = self._retry.delay_after(
                    error, attempt=attempt, elapsed=clock.monotonic() - started, random=self._random()
                )
                if delay is None:
                    if attempt > 1:
                        error.add_note(f"{request.endpoint}: gave up after {attempt} attempts")
                    raise
                _LOG.info("%s attempt %d failed: %s; retrying in %.3fs", request.endpoint, attempt, error, delay)
            else:
                if budget is not None:
                    budget.succeeded(clock.monotonic())
                if _LOG.isEnabledFor(logging.DEBUG):
                    _LOG.debug("GET %s: answered in %.3fs", request.target, clock.monotonic() - sent)
                return result, raw.headers.get("Date")
            await clock.sleep(delay)

    async def get_batch_inference_job(
        self, job_id: str, *, read_mask: str | Iterable[str] | None = None
    ) -> BatchInferenceJob:
        """Read a batch inference job: its state, status, progress and parameters.

        Args:
            job_id: the job's id, or its full name ``accounts/{account}/batchInferenceJobs/{id}``.
            read_mask: the fields to return (e.g. ``["state", "jobProgress"]``); all when ``None``.

        Raises:
            NotFoundError: no such job (or account).
            APIStatusError: any other error status, after retries where they apply.
            APIConnectionError: no answer, after retries.
            ValueError: ``job_id`` or ``read_mask`` is malformed (nothing is sent).

        Example:
            >>> async def show(client: AsyncClient) -> None:
            ...     job = await client.get_batch_inference_job("my-job", read_mask=["state", "jobProgress"])
            ...     print(job.state.short_name, job.job_progress)
        """
        return await self._call(job_request(job_id, self._account_id, read_mask=read_mask), BatchInferenceJob)

    async def get_batch_job_logs(
        self,
        batch_job_id: str,
        *,
        ranks: Iterable[int] | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
        start_time: Timestamp | datetime | str | None = None,
        filter: str | None = None,  # noqa: A002 - the wire's name
        start_from_head: bool = False,
        read_mask: str | Iterable[str] | None = None,
    ) -> LogPage:
        """Read one page of a batch job's logs, exactly as the endpoint serves it.

        Args:
            batch_job_id: the batch job's id, or a full name (``accounts/{a}/batchJobs/{id}``, or a batch
                inference job's name, whose id is used).
            ranks: only entries from these worker ranks (sent as repeated ``ranks`` parameters).
            page_size: 1 to 10,000 entries; the server's default (100) when ``None``. Values outside that
                range raise ``ValueError`` here instead of being silently coerced by the server.
            page_token: the ``next_page_token`` of the previous page; every other argument must be the same as
                in the call that returned it.
            start_time: the inclusive lower bound, sent with nine fractional digits; a naive ``datetime`` is
                refused. Without it the server returns the last ``page_size`` entries.
            filter: a plain substring the message must contain.
            start_from_head: ``True`` for oldest first; by default the server pages newest first.
            read_mask: the entry fields to return; all when ``None``.

        Example:
            >>> async def newest(client: AsyncClient) -> None:
            ...     page = await client.get_batch_job_logs("my-job", page_size=10)
            ...     for entry in reversed(page.entries):  # newest first on the wire
            ...         print(entry.log_time, entry.rank, entry.message)
        """
        query = log_query(
            batch_job_id,
            self._account_id,
            ranks=ranks,
            page_size=page_size,
            start_time=start_time,
            filter=filter,
            start_from_head=start_from_head,
            read_mask=read_mask,
        )
        return await self._call(query.request(page_token), LogPage)

    def list_batch_inference_jobs(
        self,
        *,
        filter: str | None = None,  # noqa: A002 - the wire's name
        order_by: str | None = None,
        page_size: int | None = None,
        read_mask: str | Iterable[str] | None = None,
    ) -> AsyncIterator[BatchInferenceJob]:
        """Every batch inference job of the account, page after page.

        Arguments are checked when this is called, before anything is sent.

        Args:
            filter: an AIP-160 filter, e.g. ``state = "JOB_STATE_RUNNING"``.
            order_by: e.g. ``"create_time desc"``.
            page_size: jobs per request, 1 to 200.
            read_mask: the fields to return.

        Example:
            >>> async def running(client: AsyncClient) -> list[str]:
            ...     jobs = client.list_batch_inference_jobs(filter='state = "JOB_STATE_RUNNING"')
            ...     return [job.job_id async for job in jobs]
        """

        def build(page_token: str | None) -> Request:
            return job_list_request(
                self._account_id,
                page_token=page_token,
                filter=filter,
                order_by=order_by,
                page_size=page_size,
                read_mask=read_mask,
            )

        build(None)  # validates the arguments now, before any request
        return self._iter_job_pages(build)

    async def _iter_job_pages(self, build: Callable[[str | None], Request]) -> AsyncIterator[BatchInferenceJob]:
        token: str | None = None
        while True:
            page = await self._call(build(token), JobListPage)
            for job in page.jobs:
                yield job
            # A token that comes back unchanged would page forever.
            if page.next_page_token is None or page.next_page_token == token:
                return
            token = page.next_page_token

    # --- logs ----------------------------------------------------------------------------------------------------

    async def _fetch_logs(self, request: Request, meter: RequestMeter | None) -> DatedPage:
        page, date = await self._exchange(request, LogPage, meter)
        return page, server_time_ns(date)

    def _log_query(
        self,
        batch_job_id: str,
        *,
        direction: str,
        start_time: Timestamp | datetime | str | None,
        ranks: Iterable[int] | None,
        filter: str | None,  # noqa: A002 - the wire's name
        page_size: int | None,
        read_mask: str | Iterable[str] | None,
    ) -> LogQuery:
        if direction not in _DIRECTIONS:
            raise ValueError(f"direction must be 'forward' or 'backward', got {direction!r}")
        return log_query(
            batch_job_id,
            self._account_id,
            ranks=ranks,
            page_size=page_size,
            start_time=start_time,
            filter=filter,
            start_from_head=direction == "forward",
            read_mask=read_mask,
        )

    def iter_log_pages(
        self,
        batch_job_id: str,
        *,
        direction: Literal["forward", "backward"] = "forward",
        start_time: Timestamp | datetime | str | None = None,
        ranks: Iterable[int] | None = None,
        filter: str | None = None,  # noqa: A002 - the wire's name
        page_size: int | None = None,
        read_mask: str | Iterable[str] | None = None,
    ) -> AsyncIterator[LogPage]:
        """Every page of a batch job's logs, once: a finite read that follows page tokens to the end.

        Arguments are checked when this is called, before anything is sent. While tokens are followed every other
        parameter stays the same; an empty page that carries a token is not the end; a token that comes back
        unchanged is (the read has caught up).

        Args:
            batch_job_id: the batch job's id or full name (see :meth:`get_batch_job_logs`).
            direction: ``"forward"``, oldest first, from ``start_time`` or the first entry; or ``"backward"``,
                newest first, down to ``start_time`` or the first entry. Entries within a page are in that order.
            start_time: the inclusive lower bound (``Timestamp``, aware ``datetime`` or RFC 3339 text).
            ranks: only entries from these ranks.
            filter: only entries whose message contains this text.
            page_size: entries per request, 1 to 10,000 (the server's default, 100, when ``None``).
            read_mask: the entry fields to return.

        Raises:
            BadRequestError: the server rejected the parameters or a page token (not retried).

        Example:
            >>> async def count(client: AsyncClient) -> int:
            ...     pages = client.iter_log_pages("my-job", page_size=10_000)
            ...     return sum([len(page.entries) async for page in pages])
        """
        query = self._log_query(
            batch_job_id,
            direction=direction,
            start_time=start_time,
            ranks=ranks,
            filter=filter,
            page_size=page_size,
            read_mask=read_mask,
        )
        return iter_log_pages(self._fetch_logs, query)

    def iter_logs(
        self,
        batch_job_id: str,
        *,
        direction: Literal["forward", "backward"] = "forward",
        start_time: Timestamp | datetime | str | None = None,
        ranks: Iterable[int] | None = None,
        filter: str | None = None,  # noqa: A002 - the wire's name
        page_size: int | None = None,
        read_mask: str | Iterable[str] | None = None,
    ) -> AsyncIterator[LogEntry]:
        """Every entry of a batch job's logs, once, in the order of ``direction`` (see :meth:`iter_log_pages`).

        Example:
            >>> async def errors(client: AsyncClient) -> list[str]:
            ...     entries = client.iter_logs("my-job", filter="ERROR", page_size=10_000)
            ...     return [f"{entry.log_time} rank {entry.rank}: {entry.message}" async for entry in entries]
        """
        pages = self.iter_log_pages(
            batch_job_id,
            direction=direction,
            start_time=start_time,
            ranks=ranks,
            filter=filter,
            page_size=page_size,
            read_mask=read_mask,
        )
        return iter_entries(pages)  # type: ignore[arg-type] # iter_log_pages returns an async generator

    async def tail_logs(
        self,
        batch_job_id: str,
        n: int = 100,
        *,
        ranks: Iterable[int] | None = None,
        filter: str | None = None,  # noqa: A002 - the wire's name
    ) -> list[LogEntry]:
        """The last ``n`` entries of a batch job's logs, oldest first, in as few requests as the server allows.

        Reads backwards, newest first, with pages of up to 10,000 entries (one request up to that, then one per
        10,000 more).

        Example:
            >>> async def show_tail(client: AsyncClient) -> None:
            ...     for entry in await client.tail_logs("my-job", 20):
            ...         print(entry.log_time, entry.rank, entry.message)
        """
        if type(n) is not int or n < 0:
            raise ValueError(f"n must be a non-negative int, got {n!r}")
        query = self._log_query(
            batch_job_id,
            direction="backward",
            start_time=None,
            ranks=ranks,
            filter=filter,
            page_size=max(1, min(n, MAX_LOG_PAGE_SIZE)),
            read_mask=None,
        )
        return await read_tail(self._fetch_logs, query, n) if n else []

    def follow_logs(
        self,
        batch_job_id: str,
        *,
        last: int | None = None,
        since: Timestamp | datetime | timedelta | str | None = None,
        from_start: bool = False,
        cursor: FollowCursor | str | None = None,
        ranks: Iterable[int] | None = None,
        filter: str | None = None,  # noqa: A002 - the wire's name
        lookback: float = 10.0,
        poll: PollPolicy | None = None,
        page_size: int = MAX_LOG_PAGE_SIZE,
        max_window: int = 200_000,
    ) -> FollowLogs:
        """Follow a batch job's logs like ``tail -f``: every line exactly once, forever, until closed.

        Start with the last ``last`` entries (10 when no start is given), from ``since``, from the first entry
        (``from_start=True``), or where a saved ``cursor`` left off; give at most one of them.

        Every read re-reads ``lookback`` seconds behind the newest entry, so entries that become visible late
        (a slow rank) are still delivered, once. Identical lines at the same time are delivered as many times as
        the server holds them. Entries later than the lookback are not delivered but counted in
        ``stats.possibly_missed`` and logged as a warning. A caught-up follow polls adaptively (``poll``):
        0.5 s after new lines, backing off to 5 s while nothing comes. Failures that survive the client's retries
        (a 429 storm, an outage) slow the follow down; they do not end it. A rejected page token restarts the read
        from the window.

        Args:
            batch_job_id: the batch job's id or full name.
            last: start with the last ``last`` entries (0: only new ones).
            since: start from this time (``Timestamp``, aware ``datetime``, RFC 3339 text), or this long ago
                (``timedelta``).
            from_start: start from the first entry.
            cursor: a :attr:`FollowLogs.cursor` (or its JSON) from a follow of the same job, ranks and filter.
            ranks: only entries from these ranks.
            filter: only entries whose message contains this text.
            lookback: seconds re-read behind the newest entry on every poll.
            poll: when a caught-up follow asks again.
            page_size: entries per request, 1 to 10,000.
            max_window: the most entries remembered for the window; beyond it the oldest are dropped (reported).

        Returns:
            A :class:`FollowLogs`; use it with ``async with`` and iterate it.

        Example:
            >>> async def tail_f(client: AsyncClient) -> None:
            ...     async with client.follow_logs("my-job", last=20) as logs:
            ...         async for entry in logs:
            ...             print(entry.log_time, entry.rank, entry.message)
        """
        starts = [last is not None, since is not None, from_start, cursor is not None]
        if sum(starts) > 1:
            raise ValueError("give at most one of last=, since=, from_start=True and cursor=")
        if last is not None and (type(last) is not int or last < 0):
            raise ValueError(f"last must be a non-negative int, got {last!r}")
        if type(page_size) is not int or not 1 <= page_size <= MAX_LOG_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_LOG_PAGE_SIZE}, got {page_size!r}")
        window = WindowSettings(lookback=lookback, audit=lookback, max_window=max_window)
        common = {"ranks": ranks, "filter": filter, "page_size": page_size, "read_mask": None, "start_time": None}
        forward = self._log_query(batch_job_id, direction="forward", **common)  # type: ignore[arg-type]
        fingerprint = message_digest(forward.selection)
        start = self._follow_start(last, since, from_start=from_start, cursor=cursor, fingerprint=fingerprint)
        backward_size = min(MAX_LOG_PAGE_SIZE, max(100, 2 * (last or 0)))
        backward = self._log_query(
            batch_job_id,
            direction="backward",
            **{**common, "page_size": backward_size},  # type: ignore[arg-type]
        )
        return FollowLogs(
            fetch=self._fetch_logs,
            forward=forward,
            backward=backward,
            start=start,
            settings=FollowSettings(window, poll if poll is not None else PollPolicy(), page_size),
            clock=self._clock,
            random=self._random,
            is_retryable=self._retry.is_retryable,
            fingerprint=fingerprint,
            label=f"logs of {batch_job_id}",
        )

    def _follow_start(
        self,
        last: int | None,
        since: Timestamp | datetime | timedelta | str | None,
        *,
        from_start: bool,
        cursor: FollowCursor | str | None,
        fingerprint: str,
    ) -> FollowStart:
        if cursor is not None:
            saved = FollowCursor.from_json(cursor) if isinstance(cursor, str) else cursor
            if saved.query != fingerprint:
                raise ValueError("cursor was taken from a follow of another job, ranks or filter")
            return FollowStart(cursor=saved)
        if since is not None:
            if isinstance(since, timedelta):
                return FollowStart(since_ns=self._clock.time_ns() - since // timedelta(microseconds=1) * 1000)
            return FollowStart(since_ns=to_timestamp(since, "since").ns)
        if from_start:
            return FollowStart()
        return FollowStart(last=10 if last is None else last)

    # --- jobs ----------------------------------------------------------------------------------------------------

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
        status change. The job is read 1 s after it changed, backing off to every 10 s while nothing changes
        (``poll``), with only the fields watching needs (``read_mask``; ``None`` reads every field). A state this
        client does not know keeps the watch going, its raw value visible in ``update.state``. Failures that
        survive the client's retries (a 429 storm, an outage) slow the watch down; they do not end it.

        Args:
            job_id: the batch inference job's id or full name.
            poll: when to read the job again.
            stall_after: seconds a RUNNING job may go without progress before it counts as stalled.
            raise_on_stall: on a stall, raise :class:`JobStalledError` (default), or yield an update with
                :attr:`Change.STALLED` and keep watching.
            read_mask: the fields to read each time.

        Raises:
            JobStalledError: the job stalled (with ``stall_after`` and ``raise_on_stall``).
            NotFoundError: no such job.

        Example:
            >>> async def show_progress(client: AsyncClient) -> None:
            ...     async for update in client.watch_job("my-job"):
            ...         progress = update.job.job_progress
            ...         print(update.state.short_name, progress.percent if progress else 0, "%")
        """
        settings = WatchSettings(poll or WATCH_POLL, stall_after=stall_after, raise_on_stall=raise_on_stall)
        return self._watch(job_id, settings, read_mask)

    def _watch(
        self, job_id: str, settings: WatchSettings, read_mask: str | Iterable[str] | None
    ) -> AsyncGenerator[JobUpdate]:
        _check_seconds("stall_after", settings.stall_after)
        request = job_request(job_id, self._account_id, read_mask=read_mask)
        return watch_job(
            lambda: self._call(request, BatchInferenceJob),
            settings,
            job_id=job_id,
            clock=self._clock,
            random=self._random,
            is_retryable=self._retry.is_retryable,
        )

    async def wait_for_job(
        self,
        job_id: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - on the client's clock, and the error carries the job
        raise_on_failure: bool = True,
        stall_after: float | None = None,
        poll: PollPolicy | None = None,
    ) -> BatchInferenceJob:
        """Wait until a job finishes and return it, read in full.

        Args:
            job_id: the batch inference job's id or full name.
            timeout: seconds to wait at most (checked between reads of the job); ``None`` waits as long as it takes.
            raise_on_failure: raise :class:`JobFailedError` when the job finishes without success (FAILED,
                EXPIRED, CANCELLED, DELETED...); with ``False`` the finished job is returned whatever its state.
            stall_after: raise :class:`JobStalledError` if the job runs this long without progress.
            poll: when to read the job again (see :meth:`watch_job`).

        Raises:
            JobFailedError: the job finished without success; ``error.job`` is the job, its status says why.
            WaitTimeoutError: ``timeout`` passed first; ``error.job`` is the job as last seen.
            JobStalledError: the job stalled (with ``stall_after``).
            NotFoundError: no such job.

        Example:
            >>> async def run_report(client: AsyncClient) -> None:
            ...     job = await client.wait_for_job("my-job", timeout=3600)
            ...     print(job.output_dataset_id)
        """
        _check_seconds("timeout", timeout)
        settings = WatchSettings(poll or WATCH_POLL, stall_after=stall_after, timeout=timeout)
        async with aclosing(self._watch(job_id, settings, WATCH_FIELDS)) as updates:
            async for _ in updates:
                pass
        job = await self.get_batch_inference_job(job_id)
        if raise_on_failure and not job.state.is_success:
            raise JobFailedError(failure_message(job), job_id=job_id, job=job)
        return job

    def follow_job(
        self,
        job_id: str,
        batch_job_id: str | None = None,
        *,
        last: int | None = None,
        since: Timestamp | datetime | timedelta | str | None = None,
        from_start: bool = False,
        ranks: Iterable[int] | None = None,
        filter: str | None = None,  # noqa: A002 - the wire's name
        lookback: float = 10.0,
        stall_after: float | None = None,
    ) -> JobEvents:
        """A job's log lines and its updates in one stream, which ends once the job finished and its log drained.

        The same as :meth:`follow_jobs` with one job; see there for the events and for how the stream ends.

        Example:
            >>> async def follow(client: AsyncClient) -> None:
            ...     async with client.follow_job("my-job", last=20) as events:
            ...         async for event in events:
            ...             match event:
            ...                 case LogLine(entry=entry):
            ...                     print(entry.rank, entry.message)
            ...                 case JobEnded(job=job, error=error):
            ...                     print("ended:", job.state.short_name if job else error)
        """
        return self.follow_jobs(
            [job_id],
            batch_job_ids=None if batch_job_id is None else {job_id: batch_job_id},
            last=last,
            since=since,
            from_start=from_start,
            ranks=ranks,
            filter=filter,
            lookback=lookback,
            stall_after=stall_after,
        )

    def follow_jobs(
        self,
        job_ids: Iterable[str],
        *,
        batch_job_ids: Mapping[str, str] | None = None,
        last: int | None = None,
        since: Timestamp | datetime | timedelta | str | None = None,
        from_start: bool = False,
        ranks: Iterable[int] | None = None,
        filter: str | None = None,  # noqa: A002 - the wire's name
        lookback: float = 10.0,
        stall_after: float | None = None,
    ) -> JobEvents:
        """Follow many jobs at once: their log lines, updates and ends in one stream.

        Use it with ``async with`` and iterate it. For each job it yields :class:`JobUpdate` (as
        :meth:`watch_job`), :class:`LogLine` (every line exactly once, as :meth:`follow_logs`) and finally one
        :class:`JobEnded`: after the job finished, its lookback passed and a read found nothing new; or, with
        ``error`` set, when it could not be followed (it does not exist, it stalled, an error retrying could not
        fix). One job's error does not stop the others. The stream ends when every job has ended; more can be
        added while it runs (:meth:`JobEvents.add`). All jobs share this client's request budget (its in-flight
        cap and its adaptive rate).

        An exception raised in the ``async with`` body propagates unchanged, after every task has stopped.

        Args:
            job_ids: the batch inference jobs' ids or full names.
            batch_job_ids: the batch job id whose log to follow, per job id, where it differs from the job id.
            last: start each log with its last ``last`` lines (10 when no start is given).
            since: start each log from this time, or this long ago.
            from_start: start each log from its first line.
            ranks: only lines from these ranks.
            filter: only lines containing this text.
            lookback: seconds re-read behind the newest line (see :meth:`follow_logs`).
            stall_after: report a job RUNNING this long without progress as stalled (an update with
                :attr:`Change.STALLED`; the job is still followed).

        Raises:
            ValueError: when called, before anything is sent: an id is malformed, ``job_ids`` is empty, or a
                setting is out of range. A job given twice is followed once.
            TypeError: ``job_ids`` is a single string (which would be followed character by character).

        Example:
            >>> async def follow_all(client: AsyncClient, ids: list[str]) -> None:
            ...     async with client.follow_jobs(ids) as events:
            ...         async for event in events:
            ...             if isinstance(event, LogLine):
            ...                 print(event.job_id, event.entry.message)
        """
        mapping = dict(batch_job_ids or {})
        targets = [JobTarget(job_id, mapping.get(job_id, job_id)) for job_id in _job_ids(job_ids)]
        _check_seconds("stall_after", stall_after)
        for target in targets:  # every id is checked before anything is sent
            job_request(target.job_id, self._account_id)
            self._log_query(
                target.batch_job_id,
                direction="forward",
                start_time=None,
                ranks=None,
                filter=None,
                page_size=None,
                read_mask=None,
            )
        settings = WatchSettings(_FANOUT_WATCH, stall_after=stall_after, raise_on_stall=False)
        page_slots = asyncio.Semaphore(self._max_in_flight)

        def open_logs(batch_job_id: str) -> FollowLogs:
            logs = self.follow_logs(
                batch_job_id,
                last=last,
                since=since,
                from_start=from_start,
                ranks=ranks,
                filter=filter,
                lookback=lookback,
                poll=_FANOUT_POLL,
                page_size=_FANOUT_PAGE_SIZE,
            )
            return logs._share_page_slots(page_slots)

        open_logs(targets[0].batch_job_id)  # checks the settings every log shares (start, ranks, filter, lookback) now
        return JobEvents(
            targets, open_watch=lambda job_id: self._watch(job_id, settings, WATCH_FIELDS), open_logs=open_logs
        )

    async def wait_for_jobs(
        self,
        job_ids: Iterable[str],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - on the client's clock, and the error carries the job
        raise_on_failure: bool = True,
        stall_after: float | None = None,
    ) -> dict[str, BatchInferenceJob]:
        """Wait until every job finishes; the finished jobs, read in full, by id (in the order given).

        Every job is waited for even when others fail; the errors come together at the end.

        Args:
            job_ids: the batch inference jobs' ids or full names.
            timeout: seconds to wait at most for each job (all are waited for at once).
            raise_on_failure: treat a job that finished without success as an error (see :meth:`wait_for_job`).
            stall_after: treat a job running this long without progress as an error.

        Raises:
            ValueError: before anything is sent: an id is malformed, ``job_ids`` is empty, or
                ``timeout``/``stall_after`` is not positive seconds.
            TypeError: ``job_ids`` is a single string.
            ExceptionGroup: of :class:`JobFailedError`, :class:`WaitTimeoutError`, :class:`JobStalledError`,
                :class:`NotFoundError`..., one per job that did not finish as asked, after all have been waited for.

        Example:
            >>> async def nightly(client: AsyncClient) -> None:
            ...     jobs = await client.wait_for_jobs(["shard-1", "shard-2"], raise_on_failure=False)
            ...     print({job_id: job.state.short_name for job_id, job in jobs.items()})
        """
        ids = _job_ids(job_ids)
        _check_seconds("timeout", timeout)
        _check_seconds("stall_after", stall_after)
        for job_id in ids:
            job_request(job_id, self._account_id)
        results: dict[str, BatchInferenceJob] = {}
        errors: dict[str, FwBatchError] = {}

        async def wait(job_id: str) -> None:
            try:
                results[job_id] = await self.wait_for_job(
                    job_id, timeout=timeout, raise_on_failure=raise_on_failure, stall_after=stall_after
                )
            except FwBatchError as error:
                errors[job_id] = error

        async with anyio.create_task_group() as task_group:
            for job_id in ids:
                task_group.start_soon(wait, job_id)
        if errors:
            raise ExceptionGroup(
                f"{len(errors)} of {len(ids)} jobs did not finish as asked", [errors[i] for i in ids if i in errors]
            )
        return {job_id: results[job_id] for job_id in ids}
