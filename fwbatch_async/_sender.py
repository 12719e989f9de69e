"""Sending: the HTTP transport's lifetime, the send rate, one attempt, and the one retry loop.

Every request of a client goes through one :class:`Sender`. An *attempt* takes its turn in the client's send rate
(:class:`~fwbatch_async._core.rate.SendRate`: a ceiling, a pause when the server says ``Retry-After``, cuts when
throttles become a trend), holds one of ``max_in_flight`` slots while it is on the wire, and turns the answer into
a model or a typed error (the transport maps aiohttp's exceptions, keeping them as the cause). A *call* is attempts
with the waits a :class:`~fwbatch_async.RetryPolicy` decides, and nothing else retries: the log follows and job
watches make one attempt at a time and decide their waits with the same policy (see ``_core/following.py``).

An outage (requests to an endpoint failing twice in a row, or more) is reported once, when it begins and again when
requests succeed, with how many failed in between, however many follows and watches it hits.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Final, Generic, TypeVar

import attrs

from ._core.errors import APIStatusError, ClientClosedError, FwBatchError, redact
from ._core.rate import RECHECK_AFTER, THROTTLE_STATUSES, SendRate
from ._core.responses import read_response, server_time_ns
from ._core.retry import RetryPolicy
from .clock import Clock

if TYPE_CHECKING:
    from collections.abc import Callable

    import aiohttp

    from ._config import ClientConfig
    from ._core.requests import Request
    from ._transport import Transport

__all__ = ["Reply", "Sender"]

T = TypeVar("T")
_LOG = logging.getLogger("fwbatch_async.client")
# Failures in a row that make an outage: one failed request that a retry cures is not worth a warning.
_OUTAGE_AFTER = 2


_HALF_SECOND: Final = 500_000_000


@attrs.frozen
class Reply(Generic[T]):
    """An answer: its value, and the server's clock when it answered (its ``Date`` header, ns), if it said."""

    value: T
    server_time: int | None


@attrs.define
class _Outage:
    began: float
    failures: int


class Sender:
    """Sends the requests of one client; see the module documentation."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        clock: Clock,
        retry: RetryPolicy,
        rate: SendRate,
        random: Callable[[], float],
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._config = config
        self._session = session
        self.clock = clock
        self.retry = retry
        self.rate = rate
        """How fast this client may send; every attempt takes its turn there."""
        self.random = random
        """Uniform numbers in [0, 1), for jitter (the client's own generator)."""
        self._in_flight = asyncio.Semaphore(config.max_in_flight)
        self._transport: Transport | None = None
        self._closed = False
        self._outages: dict[str, _Outage] = {}  # by endpoint: one failing does not make the others' news
        self._server_offset: int | None = None  # ns the server's clock is ahead of ours, from the newest Date

    @property
    def transport(self) -> Transport | None:
        """The transport, once a request opened it."""
        return self._transport

    async def aclose(self) -> None:
        """Close the transport; any later request raises ``RuntimeError``."""
        self._closed = True
        transport, self._transport = self._transport, None
        if transport is not None:
            await transport.aclose()

    def _open_transport(self) -> Transport:
        if self._closed:
            raise ClientClosedError("this AsyncClient is closed")
        if self._transport is None:
            import aiohttp  # noqa: PLC0415 - imported on first use, see _transport

            from ._transport import Transport  # noqa: PLC0415

            timeout = self._config.timeout
            self._transport = Transport(
                session=self._session,
                timeout=timeout if isinstance(timeout, aiohttp.ClientTimeout) else aiohttp.ClientTimeout(total=timeout),
                max_connections=self._config.max_in_flight,
                allow_insecure_http=self._config.allow_insecure_http,
            )
        return self._transport

    async def turn(self, deadline: float | None = None) -> None:
        """Wait until the client's send rate allows one more request.

        The wait is asked again at least every ``RECHECK_AFTER`` seconds, so a pause or a cut reaches callers
        already waiting.

        Raises:
            TimeoutError: ``deadline`` (on the client's clock) came first; the caller's place is given up.
        """
        clock, rate = self.clock, self.rate
        ticket = rate.join()
        try:
            while (wait := rate.turn(ticket, clock.monotonic())) > 0:
                step = min(wait, RECHECK_AFTER)
                if deadline is not None and clock.monotonic() + step >= deadline:
                    await clock.sleep(max(0.0, deadline - clock.monotonic()))
                    if rate.turn(ticket, clock.monotonic()) == 0:
                        return
                    raise TimeoutError("the deadline came before the turn to send")
                await clock.sleep(step)
        finally:
            rate.leave(ticket)  # cancelled: the place goes to the next caller (a no-op once the turn came)

    async def attempt(
        self, request: Request, model: type[T], *, turn_taken: bool = False, deadline: float | None = None
    ) -> Reply[T]:
        """Send ``request`` once, after its turn in the send rate (unless the caller took it): the answer as ``model``.

        Raises:
            FwBatchError: the typed error of the answer or of the transport, the API key blanked out of it.
            TimeoutError: ``deadline`` came before the turn to send (nothing was sent).
        """
        transport = self._open_transport()
        clock, rate = self.clock, self.rate
        if not turn_taken:
            # Waited out before taking an in-flight slot, which a caller waiting for its turn must not hold.
            await self.turn(deadline)
        sent = clock.monotonic()
        try:
            async with self._in_flight:
                raw = await transport.get(self._config.base_url + request.target, self._config.headers)
            value = read_response(request, raw, model, now=clock.time_ns() / 1e9)
        except FwBatchError as error:
            if isinstance(error, APIStatusError):
                self._heard(error)
            redact(error, self._config.secret.value)
            # A 429 is the rate's business (it cuts, and says so), not an outage.
            if self.retry.is_retryable(error) and not (isinstance(error, APIStatusError) and error.status == 429):  # noqa: PLR2004
                self._failed(request.endpoint, error)
            raise
        rate.answered(clock.monotonic(), throttled=False)
        if request.endpoint in self._outages:
            self._recovered(request.endpoint)
        if _LOG.isEnabledFor(logging.DEBUG):
            _LOG.debug("GET %s: answered in %.3fs", request.target, clock.monotonic() - sent)
        server_time = server_time_ns(raw.headers.get("Date"))
        if server_time is not None:
            # The Date is whole seconds, cut down: half a second up makes the estimate right to within half of one.
            self._server_offset = server_time + _HALF_SECOND - clock.time_ns()
        return Reply(value, server_time)

    def server_now_ns(self) -> int:
        """The server's clock now (ns), as the newest ``Date`` heard shows it; the client's before any answer."""
        return self.clock.time_ns() + (self._server_offset or 0)

    async def call(self, request: Request, model: type[T]) -> Reply[T]:
        """Send ``request`` until it succeeds or the client's retry policy gives up.

        Raises:
            FwBatchError: the last attempt's error, with a note of how many attempts were made.
        """
        clock = self.clock
        started = clock.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self.attempt(request, model)
            except FwBatchError as error:
                elapsed = clock.monotonic() - started
                delay = self.retry.delay_after(error, attempt=attempt, elapsed=elapsed, random=self.random())
                if delay is None:
                    if attempt > 1:
                        error.add_note(f"{request.endpoint}: gave up after {attempt} attempts")
                    raise
                _LOG.info("%s attempt %d failed: %s; retrying in %.3fs", request.endpoint, attempt, error, delay)
            await clock.sleep(delay)

    def _heard(self, error: APIStatusError) -> None:
        """An error status: a throttle counts towards congestion, and a ``Retry-After`` pauses every send."""
        now, throttle, rate = self.clock.monotonic(), error.status in THROTTLE_STATUSES, self.rate
        cuts = rate.cuts
        rate.answered(now, throttled=throttle)
        if throttle and error.retry_after is not None:
            rate.paused(now, min(error.retry_after, self.retry.max_retry_after))
        if rate.cuts > cuts:
            _LOG.info("throttled as a trend: sending at most %.2f requests a second for now", rate.rate(now) or 0.0)

    def _failed(self, endpoint: str, error: FwBatchError) -> None:
        """Count a failure that retrying could fix; the second in a row is an outage, reported once."""
        outage = self._outages.setdefault(endpoint, _Outage(self.clock.monotonic(), 0))
        outage.failures += 1
        if outage.failures == _OUTAGE_AFTER:
            _LOG.warning("%s requests keep failing (%s); retrying, and saying so once they succeed", endpoint, error)

    def _recovered(self, endpoint: str) -> None:
        outage = self._outages.pop(endpoint)
        if outage.failures >= _OUTAGE_AFTER:
            _LOG.warning(
                "%s requests succeed again, after %d failed over %.1fs",
                endpoint,
                outage.failures,
                self.clock.monotonic() - outage.began,
            )
