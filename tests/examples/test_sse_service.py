"""The SSE example end to end: a browser-like HTTP client reads a job's events from the service until the job ends."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import fwbatch_async as fw
from fwbatch_async.emulator import Emulator, ScaledClock, Scenario

from .conftest import EXAMPLES, SPEED, short_job

sys.path.insert(0, str(EXAMPLES))
import sse_service

# Ten emulated minutes, five real seconds: long enough for the watch (a read a second or more) to see it run.
SCENARIO = Scenario(account="examples", seed=8, jobs=[short_job("job-web", duration=600.0)])


async def read_events(response: aiohttp.ClientResponse) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """The stream's events as (name, payload), as a browser's EventSource would see them."""
    name, data = "", ""
    async for raw in response.content:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif not line and name:
            yield name, json.loads(data)
            name, data = "", ""


@pytest.fixture
async def service() -> AsyncIterator[tuple[Emulator[ScaledClock], str]]:
    """The emulator and the example's app, both on 127.0.0.1; the app's one client points at the emulator."""
    async with (
        Emulator(SCENARIO, clock=ScaledClock(speed=SPEED), api_key="k") as emulator,
        fw.AsyncClient(api_key="k", account_id=emulator.account_id, base_url=emulator.base_url) as client,
    ):
        runner = web.AppRunner(sse_service.create_app(lookback=1.0, client=client), handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        try:
            yield emulator, f"http://{host}:{port}"
        finally:
            await runner.cleanup()


async def test_a_browser_receives_every_log_line_and_the_progress_until_the_job_ends(
    service: tuple[Emulator[ScaledClock], str],
) -> None:
    emulator, url = service
    events: list[tuple[str, dict[str, Any]]] = []
    async with aiohttp.ClientSession() as http, http.get(f"{url}/jobs/job-web/events?last=100000") as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        events = [event async for event in read_events(response)]
    names = [name for name, _ in events]
    assert names[-1] == "end"
    assert events[-1][1] == {"state": "COMPLETED", "succeeded": True, "error": None}
    progress = [data for name, data in events if name == "progress"]
    assert "RUNNING" in [p["state"] for p in progress]
    assert progress[-1] == {"state": "COMPLETED", "percent": 100}
    lines = Counter((d["time"], d["rank"], d["message"]) for name, d in events if name == "log")
    assert lines == Counter(emulator.logs("job-web", include_pending=True))


async def test_the_page_is_served_and_opens_the_event_stream(service: tuple[Emulator[ScaledClock], str]) -> None:
    _, url = service
    async with aiohttp.ClientSession() as http, http.get(f"{url}/?job=job-web") as response:
        page = await response.text()
    assert response.status == 200
    assert "new EventSource(`/jobs/${encodeURIComponent(job)}/events`)" in page


async def test_a_bad_last_is_refused_before_anything_is_streamed(service: tuple[Emulator[ScaledClock], str]) -> None:
    _, url = service
    async with aiohttp.ClientSession() as http, http.get(f"{url}/jobs/job-web/events?last=-1") as response:
        assert response.status == 400
