"""Outages and oversized answers against real HTTP servers on 127.0.0.1 (issue 15).

A wait's timeout holds through an outage; an outage hitting many follows is reported once; a body past the cap is
refused instead of read into memory.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from testkit import Serve
from virtualtime import VirtualClock, running

import fwbatch_async as fw
from fwbatch_async._transport import MAX_BODY
from fwbatch_async.emulator import Emulator, Faults, JobSpec, Scenario


async def test_a_waits_timeout_holds_through_an_outage() -> None:
    """Every read of the job answers 503: the wait still ends at its timeout, not after the outage."""
    clock = VirtualClock()
    scenario = Scenario(account="acct", seed=1, jobs=[JobSpec(id="job-1", duration=3600.0)])
    outage = Faults(rate=1.0, kinds={"503": 1}, endpoints=("job",))
    async with (
        running(clock),
        Emulator(scenario, clock=clock, api_key="k", faults=outage) as emu,
        fw.AsyncClient(api_key="k", account_id="acct", base_url=emu.base_url, clock=clock) as client,
    ):
        began = clock.monotonic()
        with pytest.raises(fw.WaitTimeoutError) as raised:
            await client.wait_for_job("job-1", timeout=60.0)
        waited = clock.monotonic() - began
    assert 60.0 <= waited <= 60.0 + clock.tick
    assert raised.value.job is None  # never read
    assert emu.stats.requests["job"] > 5  # it kept asking meanwhile


async def wait_while_paused(serve: Serve, wait: Callable[[fw.AsyncClient], Awaitable[object]]) -> float:
    """Every answer is a 429 asking for 30 s: one call starts the client's pause, then ``wait`` runs (it must raise);
    the virtual seconds it took."""

    async def pause(_: web.Request) -> web.Response:
        return web.json_response({"code": 8, "message": "slow down"}, status=429, headers={"Retry-After": "30"})

    base = await serve(pause)
    clock = VirtualClock()
    retry = fw.RetryPolicy(max_attempts=1)
    async with (
        running(clock),
        fw.AsyncClient(api_key="k", account_id="acct", base_url=base, clock=clock, retry=retry) as client,
    ):
        with pytest.raises(fw.RateLimitError):
            await client.get_batch_inference_job("job-1")  # the pause begins
        began = clock.monotonic()
        await wait(client)
        return clock.monotonic() - began


async def test_a_waits_timeout_holds_while_the_client_pauses_for_the_server(serve: Serve) -> None:
    """A wait begun during the client's 30 s pause ends at its 5 s timeout, not after the pause."""

    async def wait(client: fw.AsyncClient) -> None:
        with pytest.raises(fw.WaitTimeoutError):
            await client.wait_for_job("job-1", timeout=5.0)  # its first read waits for its turn: past the timeout

    assert 5.0 <= await wait_while_paused(serve, wait) <= 5.0 + VirtualClock().tick


async def test_a_wait_for_many_jobs_times_out_on_time_while_the_client_pauses(serve: Serve) -> None:
    async def wait(client: fw.AsyncClient) -> None:
        with pytest.raises(ExceptionGroup) as raised:
            await client.wait_for_jobs(["job-1", "job-2"], timeout=5.0)
        assert [type(error) for error in raised.value.exceptions] == [fw.WaitTimeoutError] * 2

    assert 5.0 <= await wait_while_paused(serve, wait) <= 5.0 + VirtualClock().tick


async def test_an_outage_that_hits_many_follows_is_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    clock = VirtualClock()
    jobs = [JobSpec(id=f"job-{i}", duration=20.0, lines_per_second=5.0) for i in range(20)]
    faults = Faults()
    faults.script("logs", ["503"] * 60)  # every follower's reads fail for a while, then the service comes back
    async with (
        running(clock),
        Emulator(Scenario(account="acct", seed=1, jobs=jobs), clock=clock, api_key="k", faults=faults) as emu,
        fw.AsyncClient(api_key="k", account_id="acct", base_url=emu.base_url, clock=clock) as client,
        client.follow_jobs([job.id for job in jobs], from_start=True, lookback=1.0) as events,
    ):
        ends = [event async for event in events if isinstance(event, fw.JobEnded)]
    assert all(end.succeeded for end in ends)
    assert emu.stats.faults["503"] == 60
    assert caplog.text.count("getBatchJobLogs requests keep failing") == 1
    assert caplog.text.count("getBatchJobLogs requests succeed again, after 60 failed") == 1


async def test_a_body_past_the_cap_is_refused_not_read(serve: Serve) -> None:
    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        chunk = b" " * (1 << 20)
        for _ in range(MAX_BODY // len(chunk) + 8):
            await response.write(chunk)
        return response

    base = await serve(endless)
    async with fw.AsyncClient(api_key="k", account_id="acct", base_url=base) as client:
        with pytest.raises(fw.InvalidResponseError, match="larger than 64 MiB"):
            await client.get_batch_inference_job("job-1")


async def test_a_body_announced_past_the_cap_is_refused_before_it_is_read(serve: Serve) -> None:
    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = MAX_BODY + 1
        await response.prepare(request)
        await response.write(b"{")
        return response

    base = await serve(huge)
    async with fw.AsyncClient(api_key="k", account_id="acct", base_url=base) as client:
        with pytest.raises(fw.InvalidResponseError, match="larger than 64 MiB"):
            await client.get_batch_inference_job("job-1")
