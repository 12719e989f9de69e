"""The HTTP side: routes, bearer auth, fault injection and counters around the simulation.

Every response carries a ``Date`` header from the emulated clock, so a client that anchors to the server's clock
sees emulated time.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Callable
from http import HTTPStatus
from typing import Final

import orjson
from aiohttp import web

from fwbatch_async.emulator.accountcap import AccountCap
from fwbatch_async.emulator.faults import Faults
from fwbatch_async.emulator.fieldmask import JOB_FIELDS, apply_mask, parse_mask
from fwbatch_async.emulator.listing import ListQuery
from fwbatch_async.emulator.logquery import LogQuery
from fwbatch_async.emulator.params import single
from fwbatch_async.emulator.simulation import Simulation
from fwbatch_async.emulator.stats import Stats
from fwbatch_async.emulator.wire import ApiError, error_body, http_date

__all__ = ["EmulatorServer"]

_JSON: Final = "application/json"
_BAD_GATEWAY_HTML: Final = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>"
    b"\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
# fault kind -> (google.rpc.Code name, message) of faults answered with an error status
_ERROR_FAULTS: Final = {
    "429": ("RESOURCE_EXHAUSTED", "rate limit exceeded, please retry later"),
    "429_retry_after": ("RESOURCE_EXHAUSTED", "rate limit exceeded, please retry later"),
    "500": ("INTERNAL", "internal error"),
    "503": ("UNAVAILABLE", "the service is currently unavailable"),
}

_OVER_THE_CAP: Final = ApiError(
    "RESOURCE_EXHAUSTED", "too many requests: the account's request rate limit is exceeded", "RATE_LIMIT_EXCEEDED"
)

# (body, log entries it holds or None) produced by an endpoint at a given time
Produced = tuple[bytes, int | None]


class EmulatorServer:
    """Builds the aiohttp application serving a :class:`Simulation`."""

    def __init__(
        self, simulation: Simulation, *, api_key: str, faults: Faults, stats: Stats, cap: AccountCap | None = None
    ) -> None:
        self.simulation = simulation
        self.api_key = api_key
        self.faults = faults
        self.stats = stats
        self.cap = cap
        self.closing = asyncio.Event()
        self._started = self._real_seconds()

    def app(self) -> web.Application:
        """The application: the three Fireworks endpoints, the admin endpoint, and 404 for everything else."""
        app = web.Application()
        prefix = "/v1/accounts/{account}"
        app.router.add_route("*", prefix + "/batchInferenceJobs", self._list)
        app.router.add_route("*", prefix + "/batchInferenceJobs/{job}", self._job)
        app.router.add_route("*", prefix + "/batchJobs/{job}:getLogs", self._logs)
        app.router.add_route("GET", "/_emulator/stats", self._stats)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        return app

    # ------------------------------------------------------------------------------------------------ endpoints

    async def _job(self, request: web.Request) -> web.StreamResponse:
        def produce(now: int) -> Produced:
            read_mask = parse_mask(single(request.query, "readMask", "read_mask") or "", JOB_FIELDS)
            self._check_account(request)
            job = self.simulation.inference_job(request.match_info["job"], now)
            return orjson.dumps(apply_mask(self.simulation.resource(job, now), read_mask)), None

        return await self._serve(request, "job", produce)

    async def _logs(self, request: web.Request) -> web.StreamResponse:
        def produce(now: int) -> Produced:
            query = LogQuery.parse(request.query)
            self._check_account(request)
            logs_id = request.match_info["job"]
            job = self.simulation.batch_job(logs_id, now)
            realism = self.simulation.realism
            page = query.page(
                job.store,
                now=now,
                query_id=query.fingerprint(self.simulation.account, logs_id),
                empty=self.simulation.empty_page(),
                repeat_end_token=realism.repeat_end_token,
                extra_fields=realism.unknown_fields,
            )
            return page.body, page.count

        return await self._serve(request, "logs", produce)

    async def _list(self, request: web.Request) -> web.StreamResponse:
        def produce(now: int) -> Produced:
            query = ListQuery.parse(request.query)
            self._check_account(request)
            sim = self.simulation
            body = query.page(
                sim.account,
                sim.existing_keys(now),
                lambda job_id: sim.inference_job(job_id, now).timeline.state(now),
                lambda job_id: sim.resource(sim.inference_job(job_id, now), now),
            )
            return body, None

        return await self._serve(request, "list", produce)

    async def _stats(self, request: web.Request) -> web.StreamResponse:
        self.stats.requests["admin"] += 1
        return self._respond(200, orjson.dumps(self.stats.to_json()), self.simulation.clock.time_ns())

    async def _unknown(self, request: web.Request) -> web.StreamResponse:
        self.stats.requests["unknown"] += 1
        error = ApiError("NOT_FOUND", f"no such path: {request.method} {request.path}", "NOT_FOUND")
        return self._error(error, self.simulation.clock.time_ns())

    # ------------------------------------------------------------------------------------------------ plumbing

    def _real_seconds(self) -> float:
        """The clients' seconds: a sped-up clock's emulated seconds over its speed.

        Speed is for the jobs' lives; a client sends in real time, and Fireworks caps its rate in real time.
        """
        clock = self.simulation.clock
        return clock.monotonic() / getattr(clock, "speed", 1.0)

    def _second(self) -> int:
        """The whole second (real, as the clients count) since the start, to count requests by."""
        return int(self._real_seconds() - self._started)

    def _check_account(self, request: web.Request) -> None:
        account = request.match_info["account"]
        if account != self.simulation.account:
            raise ApiError("NOT_FOUND", f"account {account!r} not found", "NOT_FOUND")

    def _admit(self, request: web.Request) -> None:
        """Check the method and the API key."""
        if request.method not in {"GET", "HEAD"}:
            raise ApiError(
                "UNIMPLEMENTED", f"method {request.method} not allowed", "METHOD_NOT_ALLOWED", http_status=405
            )
        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        if not header:
            raise ApiError(
                "UNAUTHENTICATED", "missing API key: send 'Authorization: Bearer <key>'", "CREDENTIALS_MISSING"
            )
        if scheme.lower() != "bearer" or key.strip() != self.api_key:
            raise ApiError("UNAUTHENTICATED", "invalid API key", "API_KEY_INVALID")

    def _refused(self, request: web.Request) -> web.Response | None:
        """The answer to a request refused before it is served: a bad key, or the account's cap reached."""
        now = self.simulation.clock.time_ns()
        try:
            self._admit(request)
        except ApiError as error:
            return self._error(error, now)
        if self.cap is not None and (wait := self.cap.admit(self._real_seconds())) is not None:
            self.stats.capped += 1
            self.stats.capped_per_second[self._second()] += 1
            return self._error(_OVER_THE_CAP, now, {"Retry-After": str(wait)} if wait else None)
        return None

    async def _serve(
        self, request: web.Request, endpoint: str, produce: Callable[[int], Produced]
    ) -> web.StreamResponse:
        """Count the request, and answer it while it counts as in flight."""
        self.stats.requests[endpoint] += 1
        self.stats.per_second[self._second()] += 1
        with self.stats.handling():
            return await self._answer(request, endpoint, produce)

    async def _answer(
        self, request: web.Request, endpoint: str, produce: Callable[[int], Produced]
    ) -> web.StreamResponse:
        """Authenticate, maybe inject a fault, produce the body, and send it (maybe mangled)."""
        clock = self.simulation.clock
        refused = self._refused(request)
        if refused is not None:
            return refused
        fault = self.faults.decide(endpoint)
        if fault is not None:
            self.stats.faults[fault] += 1
        if fault in _ERROR_FAULTS:
            code, message = _ERROR_FAULTS[fault]
            headers = {"Retry-After": str(self.faults.retry_after)} if fault == "429_retry_after" else None
            return self._error(ApiError(code, message, code), clock.time_ns(), headers)
        if fault == "502_html":
            return self._respond(502, _BAD_GATEWAY_HTML, clock.time_ns(), content_type="text/html")
        if fault == "slow":
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.faults.slow_seconds):
                    await self.closing.wait()  # set on shutdown, so a slow answer never delays closing
        now = clock.time_ns()
        try:
            body, entries = produce(now)
        except ApiError as error:
            body, entries, status = error_body(error.code, error.message, error.reason), None, error.http_status
        else:
            status = 200
        if fault == "reset":
            return await self._reset(request, status, body, now)
        if fault == "truncated":
            return self._respond(status, body[: len(body) // 2], now)
        if entries is not None and status == HTTPStatus.OK:
            self.stats.pages_served += 1
            self.stats.entries_served += entries
        return self._respond(status, body, now)

    def _respond(
        self, status: int, body: bytes, now: int, *, content_type: str = _JSON, headers: dict[str, str] | None = None
    ) -> web.Response:
        self.stats.responses[status] += 1
        response = web.Response(status=status, body=body, content_type=content_type, headers=headers)
        response.headers["Date"] = http_date(now)
        return response

    def _error(self, error: ApiError, now: int, headers: dict[str, str] | None = None) -> web.Response:
        body = error_body(error.code, error.message, error.reason)
        return self._respond(error.http_status, body, now, headers=headers)

    async def _reset(self, request: web.Request, status: int, body: bytes, now: int) -> web.StreamResponse:
        """Send the headers and half the body, then abort the connection with a TCP reset."""
        self.stats.responses[status] += 1
        response = web.StreamResponse(status=status, headers={"Date": http_date(now)})
        response.content_type = _JSON
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[: len(body) // 2])
        transport = request.transport
        if transport is not None:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        return response
