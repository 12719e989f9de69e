"""Following: ``follow_logs(from_start=True)`` catching up on a 1,000,000-line job, against ``iter_logs`` and the raw
loop.

All read the same pre-serialized pages (pageSize 10,000, the follower's default) from a server in another process;
the follower also keeps its exactly-once bookkeeping (design §4: at least 0.8 times ``iter_logs`` on the same pages).
Measured: entries per second, and client CPU per entry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp
from harness import Row, Sample, Settings, cpu_per_unit, interleaved, page_server, rate
from read_throughput import ACCOUNT, JOB, ours, raw_loop

import fwbatch_async as fw

PAGE_SIZE = 10_000


def follower(client: fw.AsyncClient, lines: int) -> Callable[[], Awaitable[int]]:
    """Follow from the first line until all ``lines`` are delivered (the job would go on: the follow never ends)."""

    async def run() -> int:
        count = 0
        async with client.follow_logs(JOB, from_start=True, page_size=PAGE_SIZE) as logs:
            async for _entry in logs:
                count += 1
                if count == lines:
                    break
        return count

    return run


async def _samples(base_url: str, lines: int, rounds: int) -> dict[str, list[Sample]]:
    async with (
        aiohttp.ClientSession() as session,
        fw.AsyncClient(api_key="k", account_id=ACCOUNT, base_url=base_url, max_rate=None) as client,
    ):
        contenders = {
            "raw": raw_loop(session, base_url, PAGE_SIZE),
            "iter_logs": ours(client, PAGE_SIZE, read_times=False),
            "ours": follower(client, lines),
        }
        return await interleaved(contenders, rounds)


def measure(settings: Settings) -> list[Row]:
    """The rows of target 4: entries per second and CPU per entry."""
    lines = 20_000 if settings.smoke else 1_000_000
    with page_server(lines, [PAGE_SIZE]) as base_url:
        samples = asyncio.run(_samples(base_url, lines, settings.rounds))
    label = f"follow_logs catching up on {lines:,} lines"
    return [
        Row.compare(f"{label}, vs iter_logs", rate(samples["ours"]), rate(samples["iter_logs"]), "entries/s", ">= 0.8"),
        Row.compare(f"{label}, vs raw loop", rate(samples["ours"]), rate(samples["raw"]), "entries/s"),
        Row.compare(
            f"{label}, client CPU per entry",
            cpu_per_unit(samples["ours"]) * 1e6,
            cpu_per_unit(samples["raw"]) * 1e6,
            "us",
        ),
    ]
