"""The client against a real HTTP server on 127.0.0.1 (newest aiohttp): what goes over the wire, and failures."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence

import pytest
from aiohttp import web
from testkit import RecordingClock, Serve

import fwbatch_async as fw

KEY = "fw-integration-key"
ENTRY: dict[str, str | int] = {"logTime": "2026-11-22T04:00:00.000000001Z", "rank": 2, "message": "hello"}


def client_for(base_url: str, clock: RecordingClock, **kwargs: object) -> fw.AsyncClient:
    return fw.AsyncClient(api_key=KEY, account_id="acme", base_url=base_url, clock=clock, **kwargs)  # type: ignore[arg-type]


def recorder(
    responses: Sequence[Callable[[], web.StreamResponse]] | None = None,
) -> tuple[list[web.Request], Callable[[web.Request], object]]:
    """A handler that records requests and answers with the next response (the last one repeats)."""
    seen: list[web.Request] = []
    queue = responses or [lambda: web.json_response({})]

    async def handle(request: web.Request) -> web.StreamResponse:
        seen.append(request)
        return queue[min(len(seen), len(queue)) - 1]()

    return seen, handle


async def test_the_server_sees_the_exact_encoded_request(serve: Serve, clock: RecordingClock) -> None:
    seen, handle = recorder([lambda: web.json_response({"entries": [ENTRY], "nextPageToken": "n"})])
    base = await serve(handle)  # type: ignore[arg-type]
    async with client_for(base, clock) as client:
        page = await client.get_batch_job_logs(
            "accounts/acme/batchJobs/job:7",
            ranks=[0, 3],
            start_time="2026-11-22T05:00:00.000000001+01:00",
            filter="a&b c",
            start_from_head=True,
            page_token="t/1=",
        )
    assert page.entries == (fw.LogEntry(fw.Timestamp.parse(str(ENTRY["logTime"])), 2, "hello"),)
    [request] = seen
    assert request.method == "GET"
    assert request.raw_path == (
        "/v1/accounts/acme/batchJobs/job%3A7:getLogs"
        "?ranks=0&ranks=3&filter=a%26b%20c&startFromHead=true"
        "&startTime=2026-11-22T04%3A00%3A00.000000001Z&pageToken=t%2F1%3D"
    )
    assert request.query.getall("ranks") == ["0", "3"]
    assert request.query["startTime"] == "2026-11-22T04:00:00.000000001Z"
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("fwbatch-async/")


async def test_a_job_round_trip(serve: Serve, clock: RecordingClock) -> None:
    job = {
        "name": "accounts/acme/batchInferenceJobs/j",
        "state": "JOB_STATE_EXPIRED",
        "jobProgress": {"inputTokens": "7"},
    }
    _, handle = recorder([lambda: web.json_response(job)])
    async with client_for(await serve(handle), clock) as client:  # type: ignore[arg-type]
        got = await client.get_batch_inference_job("j")
    assert got.state.is_partial
    assert got.job_progress is not None
    assert got.job_progress.input_tokens == 7


def _reset_mid_body() -> web.StreamResponse:
    raise _Reset


class _Reset(Exception):  # noqa: N818 - a signal inside the test server, not an error
    pass


async def test_resets_truncated_bodies_and_html_502s_are_retried(serve: Serve, clock: RecordingClock) -> None:
    attempts: list[str] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        attempts.append(request.path)
        if len(attempts) == 1:  # headers and half a body, then the connection drops
            response = web.StreamResponse(headers={"Content-Type": "application/json", "Content-Length": "500"})
            await response.prepare(request)
            await response.write(b'{"entries": [')
            assert request.transport is not None
            request.transport.abort()
            return response
        if len(attempts) == 2:
            return web.Response(body=b'{"entries": [{"logTime": "2026-11', content_type="application/json")
        if len(attempts) == 3:
            return web.Response(
                status=502, text="<html><title>502 Bad Gateway</title></html>", content_type="text/html"
            )
        return web.json_response({"entries": [ENTRY]})

    async with client_for(await serve(handle), clock) as client:
        page = await client.get_batch_job_logs("j")
    assert len(page.entries) == 1
    assert len(attempts) == 4
    assert len(clock.sleeps) == 3


async def test_a_slow_server_times_out_and_the_error_says_so(serve: Serve, clock: RecordingClock) -> None:
    never = asyncio.Event()

    async def handle(request: web.Request) -> web.StreamResponse:
        await never.wait()
        return web.json_response({})

    async with client_for(await serve(handle), clock, timeout=0.05, retry=fw.RetryPolicy.never()) as client:
        with pytest.raises(fw.APITimeoutError, match="timeout") as raised:
            await client.get_batch_inference_job("j")
    never.set()  # lets the server's handler end, so the server stops at once
    assert raised.value.url.endswith("/v1/accounts/acme/batchInferenceJobs/j")


async def test_a_refused_connection_is_an_api_connection_error(clock: RecordingClock) -> None:
    async with client_for("http://127.0.0.1:9", clock, retry=fw.RetryPolicy(max_attempts=2)) as client:
        with pytest.raises(fw.APIConnectionError) as raised:
            await client.get_batch_inference_job("j")
    assert KEY not in str(raised.value)
    assert len(clock.sleeps) == 1


async def test_a_same_origin_redirect_keeps_the_key(serve: Serve, clock: RecordingClock) -> None:
    seen: list[web.Request] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        seen.append(request)
        if request.path.endswith("/old"):
            raise web.HTTPTemporaryRedirect("/v1/accounts/acme/batchInferenceJobs/new")
        return web.json_response({"name": "accounts/acme/batchInferenceJobs/new"})

    async with client_for(await serve(handle), clock) as client:
        job = await client.get_batch_inference_job("old")
    assert job.job_id == "new"
    assert [r.headers.get("Authorization") for r in seen] == [f"Bearer {KEY}", f"Bearer {KEY}"]


async def test_a_redirect_to_another_host_drops_the_key(serve: Serve, clock: RecordingClock) -> None:
    other_seen, other = recorder([lambda: web.json_response({"name": "moved"})])
    other_base = await serve(other)  # type: ignore[arg-type]

    async def handle(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"{other_base}/elsewhere")

    async with client_for(await serve(handle), clock) as client:
        job = await client.get_batch_inference_job("j")
    assert job.name == "moved"
    [request] = other_seen
    assert "Authorization" not in request.headers
    assert request.headers["Accept"] == "application/json"


async def test_a_redirect_to_plain_http_elsewhere_is_refused(serve: Serve, clock: RecordingClock) -> None:
    async def handle(request: web.Request) -> web.StreamResponse:
        raise web.HTTPMovedPermanently("http://api.fireworks.example/v1/x")

    async with client_for(await serve(handle), clock, retry=fw.RetryPolicy.never()) as client:
        with pytest.raises(fw.APIConnectionError, match="refusing to follow a redirect to plain http"):
            await client.get_batch_inference_job("j")


async def test_a_redirect_loop_ends(serve: Serve, clock: RecordingClock) -> None:
    seen: list[web.Request] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        seen.append(request)
        raise web.HTTPFound(request.path)

    async with client_for(await serve(handle), clock, retry=fw.RetryPolicy.never()) as client:
        with pytest.raises(fw.APIConnectionError, match="more than 5 redirects"):
            await client.get_batch_inference_job("j")
    assert len(seen) == 6


async def test_error_bodies_reach_the_caller_intact(serve: Serve, clock: RecordingClock) -> None:
    body = {
        "code": 5,
        "message": "job j not found",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "NOT_FOUND", "domain": "x"}],
    }
    _, handle = recorder([lambda: web.Response(status=404, text=json.dumps(body), headers={"X-Request-Id": "r-9"})])
    async with client_for(await serve(handle), clock) as client:  # type: ignore[arg-type]
        with pytest.raises(fw.NotFoundError) as raised:
            await client.get_batch_inference_job("j")
    assert (raised.value.code, raised.value.reason, raised.value.request_id) == (
        "NOT_FOUND",
        "NOT_FOUND",
        "r-9",
    )
    assert clock.sleeps == []


async def test_requests_in_flight_never_exceed_the_limit(serve: Serve, clock: RecordingClock) -> None:
    active, peak, arrived = 0, 0, 0
    gate, three_in = asyncio.Event(), asyncio.Event()

    async def handle(request: web.Request) -> web.StreamResponse:
        nonlocal active, peak, arrived
        active += 1
        arrived += 1
        peak = max(peak, active)
        if arrived == 3:
            three_in.set()
        await gate.wait()
        active -= 1
        return web.json_response({})

    async with client_for(await serve(handle), clock, max_in_flight=3) as client:
        calls = [asyncio.create_task(client.get_batch_inference_job(f"j{i}")) for i in range(10)]
        await three_in.wait()
        # Give any request that slipped past the limit every chance to reach the server before the gate opens.
        for _ in range(50):
            await asyncio.sleep(0)
        assert arrived == 3
        gate.set()
        await asyncio.gather(*calls)
    assert peak == 3
    assert arrived == 10


async def test_a_lent_session_stays_open_and_an_owned_one_closes(serve: Serve, clock: RecordingClock) -> None:
    import aiohttp  # noqa: PLC0415

    _, handle = recorder()
    base = await serve(handle)  # type: ignore[arg-type]
    async with aiohttp.ClientSession() as session:
        async with client_for(base, clock, session=session) as client:
            await client.get_batch_inference_job("j")
        assert not session.closed
        async with session.get(f"{base}/still-usable") as response:
            assert response.status == 200


def failing_once(status: int) -> list[Callable[[], web.StreamResponse]]:
    return [
        lambda: web.json_response({"code": 8, "message": "slow down"}, status=status),
        lambda: web.json_response({}),
    ]


@pytest.mark.parametrize(("status", "adaptive"), [(429, True), (503, True), (500, True), (429, False)])
async def test_an_isolated_failure_does_not_slow_the_client_down(
    serve: Serve, clock: RecordingClock, status: int, adaptive: bool
) -> None:
    """One throttle among successes is noise, not congestion (issue 19): only the retry's own backoff is waited."""
    seen, handle = recorder(failing_once(status))
    base = await serve(handle)  # type: ignore[arg-type]
    async with client_for(base, clock, retry=fw.RetryPolicy(base_delay=0.0), adaptive_rate=adaptive) as client:
        for _ in range(4):
            await client.get_batch_inference_job("j")
            assert client.request_rate == 10.0  # the default ceiling, unchanged
    assert len(seen) == 5
    assert clock.sleeps == [0.0]  # the retry's own backoff, inside the first burst of five


async def test_a_retry_after_pauses_every_later_send_of_the_client(serve: Serve, clock: RecordingClock) -> None:
    pause = [
        lambda: web.json_response({"code": 8, "message": "slow down"}, status=429, headers={"Retry-After": "3"}),
        lambda: web.json_response({}),
    ]
    seen, handle = recorder(pause)
    base = await serve(handle)  # type: ignore[arg-type]
    async with client_for(base, clock, retry=fw.RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(fw.RateLimitError):
            await client.get_batch_inference_job("j")  # no retry of its own: the pause is the client's
        start = clock.monotonic()
        await client.get_batch_inference_job("j")  # another call: it waits out the pause
    assert clock.monotonic() - start == pytest.approx(3.0, abs=0.01)
    assert len(seen) == 2


async def test_server_time_is_the_clients_clock_set_by_the_newest_date_the_server_sent(
    serve: Serve, clock: RecordingClock
) -> None:
    date = "Sun, 22 Nov 2026 05:00:00 GMT"  # the server runs an hour ahead of the test clock
    _, handle = recorder([lambda: web.json_response({"entries": []}, headers={"Date": date})])
    async with client_for(await serve(handle), clock) as client:  # type: ignore[arg-type]
        assert client.server_time().ns == clock.time_ns()  # nothing heard yet: the client's own clock
        await client.get_batch_job_logs("job")
        heard = fw.Timestamp.parse("2026-11-22T05:00:00.5Z").ns  # the Date's second, cut down: its middle
        assert client.server_time().ns == heard
        await clock.sleep(10)
        assert client.server_time().ns == heard + 10 * 10**9
