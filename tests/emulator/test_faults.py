"""Fault injection seen by a raw client: every kind, scripts, seeded rates, endpoints, counters."""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiohttp
import orjson
import pytest

from fwbatch_async.emulator import Faults, JobSpec, Scenario

from . import schemas
from .conftest import Serve
from .helpers import Api

SCENARIO = Scenario(account="test-account", jobs=[JobSpec(id="job-1", start_after=-700.0)])


async def raw(api: Api, path: str, limit: float = 30) -> tuple[int, dict[str, str], bytes]:
    headers = {"Authorization": "Bearer test-key"}
    async with api.session.get(
        api.emu.base_url + path, headers=headers, timeout=aiohttp.ClientTimeout(total=limit)
    ) as response:
        body = await response.read()
        with contextlib.suppress(orjson.JSONDecodeError):  # truncated bodies are checked by their own test
            api.check(path.partition("?")[0], response.status, response.content_type, body)
        return response.status, dict(response.headers), body


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [("429", 429, 8), ("429_retry_after", 429, 8), ("500", 500, 13), ("503", 503, 14)],
)
@pytest.mark.parametrize("endpoint", ["job", "logs", "list"])
async def test_error_faults_answer_with_a_status_body(
    serve: Serve, kind: str, status: int, code: int, endpoint: str
) -> None:
    api = await serve(SCENARIO)
    api.emu.faults.script(endpoint, [kind])
    path = {"job": api.job_path("job-1"), "logs": api.logs_path("job-1"), "list": api.list_path()}[endpoint]
    got, headers, body = await raw(api, path)
    assert got == status
    data = orjson.loads(body)
    schemas.validate(data, schemas.ERROR_SCHEMA)
    assert data["code"] == code
    assert ("Retry-After" in headers) == (kind == "429_retry_after")
    if kind == "429_retry_after":
        assert headers["Retry-After"] == "1"
    assert (await raw(api, path))[0] == 200
    assert api.emu.stats.faults == {kind: 1}


@pytest.mark.parametrize("endpoint", ["job", "logs", "list", "batch_job"])
async def test_429_plain_carries_a_plain_string_error_as_seen_live(serve: Serve, endpoint: str) -> None:
    api = await serve(SCENARIO)
    api.emu.faults.script(endpoint, ["429_plain"])
    path = {
        "job": api.job_path("job-1"),
        "logs": api.logs_path("job-1"),
        "list": api.list_path(),
        "batch_job": api.batch_job_path("job-1"),
    }[endpoint]
    status, headers, body = await raw(api, path)
    assert status == 429
    assert orjson.loads(body) == {"error": "Too Many Requests"}
    assert "Retry-After" not in headers
    assert (await raw(api, path))[0] == 200
    assert api.emu.stats.faults == {"429_plain": 1}


async def test_502_with_an_html_body(serve: Serve) -> None:
    api = await serve(SCENARIO)
    api.emu.faults.script("logs", ["502_html"])
    status, headers, body = await raw(api, api.logs_path("job-1"))
    assert status == 502
    assert headers["Content-Type"].startswith("text/html")
    assert body.startswith(b"<html>")
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)


async def test_reset_breaks_the_connection_mid_body(serve: Serve) -> None:
    api = await serve(SCENARIO)
    api.emu.faults.script("logs", ["reset"])
    with pytest.raises((aiohttp.ClientPayloadError, aiohttp.ClientConnectionError)):
        await raw(api, api.logs_path("job-1"))
    assert (await raw(api, api.logs_path("job-1")))[0] == 200
    assert api.emu.stats.faults["reset"] == 1


async def test_truncated_is_a_complete_200_with_cut_json(serve: Serve) -> None:
    api = await serve(SCENARIO)
    api.emu.faults.script("job", ["truncated"])
    status, headers, body = await raw(api, api.job_path("job-1"))
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert int(headers["Content-Length"]) == len(body) > 0
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)
    full = (await raw(api, api.job_path("job-1")))[2]
    assert full.startswith(body)


async def test_slow_outlasts_a_client_timeout_and_never_delays_closing(serve: Serve) -> None:
    api = await serve(SCENARIO, faults=Faults(slow_seconds=60.0))
    api.emu.faults.script("job", ["slow"])
    with pytest.raises(asyncio.TimeoutError):
        await raw(api, api.job_path("job-1"), limit=0.2)
    started = time.monotonic()
    await api.emu.close()
    assert time.monotonic() - started < 5


async def test_slow_answers_after_slow_seconds(serve: Serve) -> None:
    api = await serve(SCENARIO, faults=Faults(slow_seconds=0.3))
    api.emu.faults.script("job", ["slow"])
    started = time.monotonic()
    status, _, _ = await raw(api, api.job_path("job-1"))
    assert status == 200
    assert time.monotonic() - started >= 0.3


async def test_a_script_gives_exactly_its_outcomes_then_the_rate_applies(serve: Serve) -> None:
    api = await serve(SCENARIO)
    api.emu.faults.script("logs", ["429", "ok", "500", "503", "ok"])
    statuses = [(await raw(api, api.logs_path("job-1")))[0] for _ in range(7)]
    assert statuses == [429, 200, 500, 503, 200, 200, 200]
    assert api.emu.faults.pending_script("logs") == []
    assert (await raw(api, api.job_path("job-1")))[0] == 200


async def outcomes(api: Api, n: int) -> list[int | str]:
    seen: list[int | str] = []
    for i in range(n):
        path = api.logs_path("job-1") if i % 2 else api.job_path("job-1")
        try:
            status, _, body = await raw(api, path)
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError):
            seen.append("reset")
            continue
        if status == 200:
            try:
                orjson.loads(body)
            except orjson.JSONDecodeError:
                seen.append("truncated")
                continue
        seen.append(status)
    return seen


async def test_seeded_rates_are_reproducible(serve: Serve) -> None:
    runs = []
    for seed in (5, 5, 6):
        api = await serve(SCENARIO, faults=Faults(rate=0.4, seed=seed))
        runs.append(await outcomes(api, 40))
        await api.emu.close()
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert 5 <= sum(o != 200 for o in runs[0]) <= 30
    assert {o for o in runs[0] if o != 200} <= {429, 500, 503, 502, "reset", "truncated"}


async def test_rate_one_with_weights_and_endpoints(serve: Serve) -> None:
    api = await serve(SCENARIO, faults=Faults(rate=1.0, kinds={"503": 1.0}, endpoints=("logs",)))
    assert (await raw(api, api.logs_path("job-1")))[0] == 503
    assert (await raw(api, api.job_path("job-1")))[0] == 200
    assert (await raw(api, api.list_path()))[0] == 200


async def test_faults_apply_after_authentication(serve: Serve) -> None:
    api = await serve(SCENARIO, faults=Faults(rate=1.0, kinds={"500": 1.0}))
    reply = await api.get(api.job_path("job-1"), auth="Bearer nope")
    assert reply.status == 403
    assert api.emu.stats.faults == {}


async def test_counters(serve: Serve) -> None:
    api = await serve(SCENARIO)
    api.emu.faults.script("logs", ["429", "truncated", "ok"])
    for _ in range(3):
        await raw(api, api.logs_path("job-1") + "?pageSize=5")
    await raw(api, api.job_path("job-1"))
    stats = api.emu.stats
    assert stats.requests == {"logs": 3, "job": 1}
    assert stats.responses == {429: 1, 200: 3}
    assert stats.faults == {"429": 1, "truncated": 1}
    assert (stats.pages_served, stats.entries_served) == (1, 5)
    assert (stats.in_flight, stats.max_in_flight) == (0, 1)
    assert stats.per_second == {0: 4}
    stats.reset()
    assert stats.to_json() == {
        "requests": {},
        "responses": {},
        "faults": {},
        "capped": 0,
        "perSecond": {},
        "cappedPerSecond": {},
        "entriesServed": 0,
        "pagesServed": 0,
        "maxInFlight": 0,
    }


async def test_max_in_flight_counts_requests_handled_at_once_slow_answers_included(serve: Serve) -> None:
    api = await serve(SCENARIO, faults=Faults(slow_seconds=60.0))
    stats = api.emu.stats
    api.emu.faults.script("job", ["slow"] * 5)
    held = [asyncio.create_task(raw(api, api.job_path("job-1"))) for _ in range(5)]
    for _ in range(10_000):  # loop turns, not time: until the five slow answers are all being handled
        if stats.in_flight == 5:
            break
        await asyncio.sleep(0)
    assert (stats.in_flight, stats.max_in_flight) == (5, 5)
    assert (await raw(api, api.logs_path("job-1")))[0] == 200  # handled while the five are held
    assert stats.max_in_flight == 6
    stats.reset()
    assert (stats.in_flight, stats.max_in_flight) == (5, 5)
    await api.emu.close()  # closing releases slow answers at once
    assert [status for status, _, _ in await asyncio.gather(*held)] == [200] * 5
    assert (stats.in_flight, stats.max_in_flight, stats.to_json()["maxInFlight"]) == (0, 5, 5)


def test_parse_the_command_line_form() -> None:
    faults = Faults.parse("429=0.05,503=0.02,reset=0.01")
    assert faults.rate == pytest.approx(0.08)
    assert faults.kinds == {"429": 0.05, "503": 0.02, "reset": 0.01}
    faults = Faults.parse(" slow=0.5 , seed=9, slow_seconds=2.5 ")
    assert (faults.rate, faults.seed, faults.slow_seconds) == (0.5, 9, 2.5)
    assert Faults.parse("").rate == 0
    for bad in ("teapot=0.1", "429", "429=lots", "429=2"):
        with pytest.raises(ValueError, match=r"."):
            Faults.parse(bad)


@pytest.mark.parametrize(
    ("faults", "text"),
    [
        (Faults(), "none"),
        (Faults.parse("429=0.05,503=0.02,reset=0.01"), "429=0.05,503=0.02,reset=0.01"),
        (Faults(0.2, kinds={"429": 1, "500": 3}, endpoints=("logs",)), "429=0.05,500=0.15 on logs"),
    ],
)
def test_to_text_is_the_command_line_form_for_the_banner(faults: Faults, text: str) -> None:
    assert faults.to_text() == text
    if " on " not in text:
        assert Faults.parse("" if text == "none" else text).to_text() == text


def test_script_rejects_unknown_names() -> None:
    faults = Faults()
    with pytest.raises(ValueError, match="unknown"):
        faults.script("logs", ["418"])
    with pytest.raises(ValueError, match="unknown"):
        faults.script("jobs", ["429"])
    with pytest.raises(ValueError, match="unknown"):
        Faults(endpoints=("everything",))
