"""The async client: checks each call's arguments, builds what serves it, and hands that to the sender or a stream.

Configuration lives in ``_config``, sending and retrying in ``_sender``, the follow and watch decisions in the
machines of ``_core`` (``following``, ``watching``), and the streams that drive them in ``_logs``, ``_drive`` and
``_fanout``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal, Self, Unpack

from ._config import ClientConfig
from ._core.cursor import FollowCursor
from ._core.errors import ArgumentError
from ._core.following import FollowStart
from ._core.models import BatchInferenceJob, BatchJob, LogEntry, LogPage
from ._core.plans import FollowPlan
from ._core.polling import PollPolicy
from ._core.rate import SendRate
from ._core.requests import MAX_LOG_PAGE_SIZE, batch_job_request, job_list_query, job_request
from ._core.retry import RetryPolicy
from ._core.selection import LineFilter, LogSelection
from ._core.timestamps import Timestamp
from ._jobs import JobMethods
from ._logs import FollowLogs
from ._pages import iter_entries, iter_job_pages, iter_log_pages, read_tail
from ._sender import Sender
from .clock import Clock, SystemClock

if TYPE_CHECKING:
    import aiohttp

__all__ = ["AsyncClient"]

_LOG = logging.getLogger(__name__)


class AsyncClient(JobMethods):
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
        retry: how failed requests are retried; see :class:`RetryPolicy`. Follows and watches wait out what it
            can fix for as long as it takes, with the same waits.
        max_rate: the most requests a second this client sends, everything it does together (10 by default, a
            tenth of an account's cap of 6,000 a minute, which the user's inference shares); ``None`` for no
            ceiling. A ``Retry-After`` from the server pauses every send until then.
        max_in_flight: the most requests this client has in flight at once.
        adaptive_rate: lower the rate when throttles (429, 503) become a sustained share of the answers, just under
            what the server accepted, and find the ceiling again as they stop; see :attr:`request_rate`.
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
        max_rate: float | None = 10.0,
        max_in_flight: int = 32,
        adaptive_rate: bool = True,
        session: aiohttp.ClientSession | None = None,
        allow_insecure_http: bool = False,
        clock: Clock | None = None,
    ) -> None:
        self._config = ClientConfig.create(
            api_key=api_key,
            account_id=account_id,
            base_url=base_url,
            timeout=timeout,
            max_in_flight=max_in_flight,
            max_rate=max_rate,
            allow_insecure_http=allow_insecure_http,
        )
        self._sender = Sender(
            self._config,
            clock=clock if clock is not None else SystemClock(),
            retry=retry if retry is not None else RetryPolicy(),
            rate=SendRate(self._config.max_rate, adaptive=adaptive_rate),
            random=random.Random().random,  # noqa: S311 - jitter, not cryptography
            session=session,
        )

    def __repr__(self) -> str:
        return f"AsyncClient(base_url={self.base_url!r}, account_id={self.account_id!r}, api_key=<hidden>)"

    @property
    def base_url(self) -> str:
        """The API's base URL, without a trailing slash."""
        return self._config.base_url

    @property
    def account_id(self) -> str | None:
        """The account bare ids belong to, if known."""
        return self._config.account_id

    @property
    def clock(self) -> Clock:
        """The clock this client waits on."""
        return self._sender.clock

    def server_time(self) -> Timestamp:
        """The server's clock now, to within a second: the client's clock set by the newest ``Date`` the server sent.

        Before the first answer it is the client's own clock. A ``since=`` given as a duration (``follow_logs``,
        ``follow_job(s)``) counts back from it, so "the last minute" means the server's last minute even when the
        two clocks disagree.

        Example:
            >>> async def last_minute(client: AsyncClient, job_id: str) -> list[LogEntry]:
            ...     await client.get_batch_inference_job(job_id)  # any answer sets the server's clock
            ...     start = client.server_time().ns - 60 * 10**9
            ...     return [entry async for entry in client.iter_logs(job_id, start_time=Timestamp(start))]
        """
        return Timestamp(self._sender.server_now_ns())

    @property
    def retry(self) -> RetryPolicy:
        """How this client retries failed requests."""
        return self._sender.retry

    @property
    def request_rate(self) -> float | None:
        """The requests per second this client allows itself now, or ``None`` while nothing limits them.

        Every request and retry of this client takes its turn at this rate: ``max_rate``, or less for a while after
        throttles became a trend (the guide "Requests and the account cap" says how it is decided).
        """
        return self._sender.rate.rate(self.clock.monotonic())

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP session if the client created it. Safe to call more than once."""
        await self._sender.aclose()

    # --- jobs ----------------------------------------------------------------------------------------------------

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
        request = job_request(job_id, self.account_id, read_mask=read_mask)
        return (await self._sender.call(request, BatchInferenceJob)).value

    async def get_batch_job(self, batch_job_id: str, *, read_mask: str | Iterable[str] | None = None) -> BatchJob:
        """Read the batch job behind the logs: the compute job on a cluster, with its own state and rank count.

        Args:
            batch_job_id: its id, a batch inference job's id or name (the same id is read), or the batch job's
                name with its cluster, ``accounts/{account}/clusters/{cluster}/batchJobs/{id}``.
            read_mask: the fields to return; all when ``None``.

        Raises:
            NotFoundError: no such batch job (or account).
            APIStatusError: any other error status, after retries where they apply.
            APIConnectionError: no answer, after retries.
            ValueError: ``batch_job_id`` or ``read_mask`` is malformed (nothing is sent).

        Example:
            >>> async def ranks(client: AsyncClient) -> int:
            ...     return (await client.get_batch_job("my-job")).num_ranks
        """
        request = batch_job_request(batch_job_id, self.account_id, read_mask=read_mask)
        return (await self._sender.call(request, BatchJob)).value

    def list_batch_inference_jobs(
        self,
        *,
        filter: str | None = None,  # noqa: A002 - the wire's name
        order_by: str | None = None,
        page_size: int | None = None,
        read_mask: str | Iterable[str] | None = None,
    ) -> AsyncIterator[BatchInferenceJob]:
        """Every batch inference job of the account, page after page; arguments are checked when called.

        Args:
            filter: an AIP-160 filter, e.g. ``state = "JOB_STATE_RUNNING"``.
            order_by: e.g. ``"created_time desc"`` (the field the API documents).
            page_size: jobs per request, 1 to 200.
            read_mask: the fields to return.

        Example:
            >>> async def running(client: AsyncClient) -> list[str]:
            ...     jobs = client.list_batch_inference_jobs(filter='state = "JOB_STATE_RUNNING"')
            ...     return [job.job_id async for job in jobs]
        """
        query = job_list_query(
            self.account_id, filter=filter, order_by=order_by, page_size=page_size, read_mask=read_mask
        )
        return iter_job_pages(self._sender, query)

    # --- logs ----------------------------------------------------------------------------------------------------

    async def get_batch_job_logs(
        self,
        batch_job_id: str,
        *,
        page_size: int | None = None,
        page_token: str | None = None,
        start_time: Timestamp | datetime | str | None = None,
        start_from_head: bool = False,
        read_mask: str | Iterable[str] | None = None,
        **lines: Unpack[LineFilter],
    ) -> LogPage:
        """Read one page of a batch job's logs, exactly as the endpoint serves it.

        Args:
            batch_job_id: the batch job's id, or a full name (``accounts/{a}/batchJobs/{id}``, or a batch
                inference job's name, whose id is used).
            page_size: 1 to 10,000 entries (the server's default, 100, when ``None``); refused, not coerced, outside.
            page_token: the ``next_page_token`` of the previous page, sent with the same other arguments.
            start_time: the inclusive lower bound, sent with nine fractional digits (a naive ``datetime`` is
                refused); without it the server returns the last ``page_size`` entries.
            start_from_head: ``True`` for oldest first; by default the server pages newest first.
            read_mask: the entry fields to return; all when ``None``.
            lines: the line filters ``ranks=`` and ``filter=`` (:class:`LineFilter`), as every log method takes.

        Example:
            >>> async def newest(client: AsyncClient) -> None:
            ...     page = await client.get_batch_job_logs("my-job", page_size=10, ranks=[0])
            ...     for entry in reversed(page.entries):  # newest first on the wire
            ...         print(entry.log_time, entry.rank, entry.message)
        """
        if type(start_from_head) is not bool:
            raise TypeError(f"start_from_head must be a bool, not {type(start_from_head).__name__}")
        direction = "forward" if start_from_head else "backward"
        selection = LogSelection.create(
            lines, page_size=page_size, read_mask=read_mask, direction=direction, start_time=start_time
        )
        request = selection.query(batch_job_id, self.account_id).request(page_token)
        return (await self._sender.call(request, LogPage)).value

    def iter_log_pages(
        self,
        batch_job_id: str,
        *,
        direction: Literal["forward", "backward"] = "forward",
        start_time: Timestamp | datetime | str | None = None,
        page_size: int | None = None,
        read_mask: str | Iterable[str] | None = None,
        **lines: Unpack[LineFilter],
    ) -> AsyncGenerator[LogPage]:
        """Every page of a batch job's logs, once: a finite read that follows page tokens to the end.

        Arguments are checked when this is called. An empty page that carries a token is not the end; a token that
        comes back unchanged is (the read has caught up). The arguments are those of :meth:`get_batch_job_logs`,
        with ``direction``: ``"forward"``, oldest first, from ``start_time`` or the first entry; or
        ``"backward"``, newest first, down to ``start_time`` or the first entry.

        Raises:
            BadRequestError: the server rejected the parameters or a page token (not retried).

        Example:
            >>> async def count(client: AsyncClient) -> int:
            ...     pages = client.iter_log_pages("my-job", page_size=10_000)
            ...     return sum([len(page.entries) async for page in pages])
        """
        selection = LogSelection.create(
            lines, page_size=page_size, read_mask=read_mask, direction=direction, start_time=start_time
        )
        return iter_log_pages(self._sender, selection.query(batch_job_id, self.account_id))

    def iter_logs(
        self,
        batch_job_id: str,
        *,
        direction: Literal["forward", "backward"] = "forward",
        start_time: Timestamp | datetime | str | None = None,
        page_size: int | None = None,
        read_mask: str | Iterable[str] | None = None,
        **lines: Unpack[LineFilter],
    ) -> AsyncGenerator[LogEntry]:
        """Every entry of a batch job's logs, once, in the order of ``direction`` (see :meth:`iter_log_pages`).

        Example:
            >>> async def errors(client: AsyncClient) -> list[str]:
            ...     entries = client.iter_logs("my-job", filter="ERROR", page_size=10_000)
            ...     return [f"{entry.log_time} rank {entry.rank}: {entry.message}" async for entry in entries]
        """
        pages = self.iter_log_pages(
            batch_job_id, direction=direction, start_time=start_time, page_size=page_size, read_mask=read_mask, **lines
        )
        return iter_entries(pages)

    async def tail_logs(self, batch_job_id: str, n: int = 100, **lines: Unpack[LineFilter]) -> list[LogEntry]:
        """The last ``n`` entries of a batch job's logs, oldest first, in as few requests as the server allows.

        Reads backwards with pages of up to 10,000 entries; ``lines`` are the line filters (:class:`LineFilter`).

        Example:
            >>> async def show_tail(client: AsyncClient) -> None:
            ...     for entry in await client.tail_logs("my-job", 20):
            ...         print(entry.log_time, entry.rank, entry.message)
        """
        if type(n) is not int or n < 0:
            raise ArgumentError(f"n must be a non-negative int, got {n!r}")
        selection = LogSelection.create(lines, page_size=max(1, min(n, MAX_LOG_PAGE_SIZE)), direction="backward")
        query = selection.query(batch_job_id, self.account_id)
        return await read_tail(self._sender, query, n) if n else []

    def follow_logs(
        self,
        batch_job_id: str,
        *,
        last: int | None = None,
        since: Timestamp | datetime | timedelta | str | None = None,
        from_start: bool = False,
        cursor: FollowCursor | str | None = None,
        lookback: float = 10.0,
        poll: PollPolicy | None = None,
        page_size: int = MAX_LOG_PAGE_SIZE,
        max_window: int = 200_000,
        **lines: Unpack[LineFilter],
    ) -> FollowLogs:
        """Follow a batch job's logs like ``tail -f``: every line exactly once, forever, until closed.

        Start with the last ``last`` entries (10 when no start is given), from ``since``, from the first entry
        (``from_start=True``), or where a saved ``cursor`` left off; give at most one of them.

        Every read re-reads ``lookback`` seconds (of the server's time) behind the newest entry, so entries that
        become visible late are still delivered, once; later ones are counted in ``stats.possibly_missed`` and
        logged. Identical lines are delivered as many times as the server holds them. Failures that retrying can fix
        are waited out, however long they last. The rules are in the guide (``docs/logs.md``).

        Args:
            batch_job_id: the batch job's id or full name.
            last: start with the last ``last`` entries (0: only new ones).
            since: start from this time (``Timestamp``, aware ``datetime``, RFC 3339 text), or this long ago
                (``timedelta``).
            from_start: start from the first entry.
            cursor: a :attr:`FollowLogs.cursor` (or its JSON) from a follow of the same job, ranks and filter.
            lookback: seconds re-read behind the newest entry on every poll.
            poll: when a caught-up follow asks again (0.5 s after new lines, backing off to 5 s).
            page_size: entries per request, 1 to 10,000.
            max_window: the most entries remembered for the window; beyond it the oldest are dropped (reported).
            lines: the line filters ``ranks=`` and ``filter=`` (:class:`LineFilter`).

        Returns:
            A :class:`FollowLogs`: use it with ``async with`` and iterate it.

        Example:
            >>> async def tail_f(client: AsyncClient) -> None:
            ...     async with client.follow_logs("my-job", last=20) as logs:
            ...         async for entry in logs:
            ...             print(entry.log_time, entry.rank, entry.message)
        """
        start = FollowStart.create(
            last=last, since=since, from_start=from_start, cursor=cursor, now_ns=self._sender.server_now_ns()
        )
        plan = FollowPlan.create(
            self.account_id,
            lines,
            start=start,
            page_size=page_size,
            lookback=lookback,
            max_window=max_window,
            poll=poll or PollPolicy(),
            retry=self.retry,
        )
        machine = plan.machine(batch_job_id, self._sender.random)
        return FollowLogs(machine, self._sender, label=f"logs of {batch_job_id}")
