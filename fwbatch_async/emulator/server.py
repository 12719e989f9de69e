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
from fwbatch_async.emulator.auth import KeyCheck
from fwbatch_async.emulator.batchjob import CLUSTER
from fwbatch_async.emulator.faults import Faults
from fwbatch_async.emulator.fieldmask import BATCH_JOB_FIELDS, JOB_FIELDS, apply_mask, parse_mask
from fwbatch_async.emulator.listing import ListQuery
from fwbatch_async.emulator.logquery import LogQuery
from fwbatch_async.emulator.params import single
from fwbatch_async.emulator.simulation import SimJob, Simulation
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
# Some live 429s carry a plain string as their error.
_TOO_MANY_REQUESTS: Final = b'{"error":"Too Many Requests"}'
_READ: Final = frozenset({"GET", "HEAD"})
_READ_OR_DELETE: Final = _READ | {"DELETE"}

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
        self.keys = KeyCheck(api_key, seed=simulation.seed, legacy_401=simulation.realism.auth_401)
        self.faults = faults
        self.stats = stats
        self.cap = cap
        self.closing = asyncio.Event()
        self._started = self._real_seconds()

    def app(self) -> web.Application:
        """The application: the Fireworks endpoints, the admin endpoint, and 404 for everything else.

        A batch job answers both under the account (as the seeds document getLogs) and under its cluster (as its
        resource name reads).
        """
        app = web.Application()
        prefix = "/v1/accounts/{account}"
        app.router.add_route("*", prefix + "/batchInferenceJobs", self._list)
        app.router.add_route("*", prefix + "/batchInferenceJobs/{job}", self._job)
        for batch_jobs in (prefix + "/batchJobs", prefix + "/clusters/{cluster}/batchJobs"):
            # getLogs first: "{job}" alone would match "id:getLogs" too.
            app.router.add_route("*", batch_jobs + "/{job}:getLogs", self._logs)
            app.router.add_route("*", batch_jobs + "/{job}", self._batch_job)
        app.router.add_route("GET", "/_emulator/stats", self._stats)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        return app

    # ------------------------------------------------------------------------------------------------ endpoints

    async def _job(self, request: web.Request) -> web.StreamResponse:
        deleting = request.method == "DELETE"

        def produce(now: int) -> Produced:
            sim = self.simulation
            if deleting:  # there is no cancel: DELETE answers {} and the job goes (fireworks-api.md section 6)
                self._check_account(request)
                sim.delete(sim.inference_job(request.match_info["job"], now), now)
                return b"{}", None
            read_mask = parse_mask(single(request.query, "readMask", "read_mask") or "", JOB_FIELDS)
            self._check_account(request)
            job = sim.inference_job(request.match_info["job"], now)
            return orjson.dumps(apply_mask(sim.resource(job, now), read_mask)), None

        return await self._serve(request, "delete" if deleting else "job", produce, methods=_READ_OR_DELETE)

    async def _batch_job(self, request: web.Request) -> web.StreamResponse:
        def produce(now: int) -> Produced:
            read_mask = parse_mask(single(request.query, "readMask", "read_mask") or "", BATCH_JOB_FIELDS)
            job = self._batch(request, now)
            return orjson.dumps(apply_mask(self.simulation.batch_resource(job, now), read_mask)), None

        return await self._serve(request, "batch_job", produce)

    async def _logs(self, request: web.Request) -> web.StreamResponse:
        def produce(now: int) -> Produced:
            query = LogQuery.parse(request.query)
            job = self._batch(request, now)
            logs_id = request.match_info["job"]
            realism = self.simulation.realism
            page = query.page(
                job.store,
                now=now,
                query_id=query.fingerprint(self.simulation.account, logs_id),
                empty=self.simulation.empty_page(),
                repeat_end_token=realism.repeat_end_token,
                extra_fields=realism.unknown_fields,
                omit_defaults=realism.omit_defaults,
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
                omit_defaults=sim.realism.omit_defaults,
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
        if request.match_info["account"] != self.simulation.account:
            raise ApiError("NOT_FOUND", "resource not found", "NOT_FOUND")

    def _batch(self, request: web.Request, now: int) -> SimJob:
        """The batch job a path names, under the account or under its cluster."""
        self._check_account(request)
        if request.match_info.get("cluster", CLUSTER) != CLUSTER:
            raise ApiError("NOT_FOUND", "resource not found", "NOT_FOUND")
        return self.simulation.batch_job(request.match_info["job"], now)

    def _refused(self, request: web.Request, methods: frozenset[str]) -> web.Response | None:
        """The answer to a request refused before it is served: a wrong method, a bad key, or the cap reached."""
        now = self.simulation.clock.time_ns()
        if request.method not in methods:
            error = ApiError(
                "UNIMPLEMENTED", f"method {request.method} not allowed", "METHOD_NOT_ALLOWED", http_status=405
            )
            return self._error(error, now)
        refusal = self.keys.refusal(request.headers.get("Authorization", ""))
        if refusal is not None:
            return self._respond(*refusal, now)
        if self.cap is not None and (wait := self.cap.admit(self._real_seconds())) is not None:
            self.stats.capped += 1
            self.stats.capped_per_second[self._second()] += 1
            return self._error(_OVER_THE_CAP, now, {"Retry-After": str(wait)} if wait else None)
        return None

    async def _serve(
        self,
        request: web.Request,
        endpoint: str,
        produce: Callable[[int], Produced],
        *,
        methods: frozenset[str] = _READ,
    ) -> web.StreamResponse:
        """Count the request, and answer it while it counts as in flight."""
        self.stats.requests[endpoint] += 1
        self.stats.per_second[self._second()] += 1
        with self.stats.handling():
            return await self._answer(request, endpoint, produce, methods)

    async def _answer(
        self, request: web.Request, endpoint: str, produce: Callable[[int], Produced], methods: frozenset[str]
    ) -> web.StreamResponse:
        """Authenticate, maybe inject a fault, produce the body, and send it (maybe mangled)."""
        clock = self.simulation.clock
        refused = self._refused(request, methods)
        if refused is not None:
            return refused
        fault = self.faults.decide(endpoint)
        if fault is not None:
            self.stats.faults[fault] += 1
            replaced = self._fault_answer(fault, clock.time_ns())
            if replaced is not None:
                return replaced
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

    def _fault_answer(self, fault: str, now: int) -> web.Response | None:
        """The answer of a fault that replaces the response (an error or an HTML page), or None for the others."""
        if fault == "429_plain":
            return self._respond(429, _TOO_MANY_REQUESTS, now)
        if fault == "502_html":
            return self._respond(502, _BAD_GATEWAY_HTML, now, content_type="text/html")
        if fault in _ERROR_FAULTS:
            code, message = _ERROR_FAULTS[fault]
            headers = {"Retry-After": str(self.faults.retry_after)} if fault == "429_retry_after" else None
            return self._error(ApiError(code, message, code), now, headers)
        return None

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
