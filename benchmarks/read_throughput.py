"""Entries per second reading a job's logs: ``iter_logs``, a raw aiohttp + orjson loop and the official SDK.

All read the same pre-serialized pages from a server in another process (design §4: the raw loop, decoding pages
to dicts, is the limit for a decoding client). ``iter_logs`` is measured twice: taking entries as they come (their
times are parsed on first use) and reading every entry's time in nanoseconds. The official SDK (``fireworks-ai``:
httpx, pydantic models, ``datetime`` times) is measured when it is installed.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

import aiohttp
import orjson
from harness import Row, Settings, interleaved, page_params, page_server, rate

import fwbatch_async as fw

ACCOUNT = "bench"
JOB = "bench-job"
PATH = f"/v1/accounts/{ACCOUNT}/batchJobs/{JOB}:getLogs"
GOAL = ">= 1.0"  # issue 17: typed entries as cheap as the untyped loop, with their times read


def sdk_installed() -> bool:
    return importlib.util.find_spec("fireworks") is not None


def raw_loop(session: aiohttp.ClientSession, base_url: str, page_size: int) -> Callable[[], Awaitable[int]]:
    """The reference: every page fetched with aiohttp and decoded to dicts by orjson; the entries counted."""
    url = base_url + PATH
    headers = {"Authorization": "Bearer k"}

    async def run() -> int:
        count, token = 0, None
        while True:
            async with session.get(url, params=page_params(page_size, token), headers=headers) as response:
                response.raise_for_status()
                page = orjson.loads(await response.read())
            for _entry in page.get("entries", ()):
                count += 1
            token = page.get("nextPageToken")
            if not token:
                return count

    return run


def ours(client: fw.AsyncClient, page_size: int, *, read_times: bool) -> Callable[[], Awaitable[int]]:
    async def run() -> int:
        count = 0
        async for entry in client.iter_logs(JOB, page_size=page_size):
            if read_times:
                _ = entry.log_time.ns
            count += 1
        return count

    return run


async def _measure_page_size(base_url: str, page_size: int, rounds: int) -> list[Row]:
    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(aiohttp.ClientSession())
        client = await stack.enter_async_context(
            fw.AsyncClient(api_key="k", account_id=ACCOUNT, base_url=base_url, max_rate=None)
        )
        contenders = {
            "raw": raw_loop(session, base_url, page_size),
            "ours": ours(client, page_size, read_times=False),
            "ours+ns": ours(client, page_size, read_times=True),
        }
        if sdk_installed():
            from sdk_contender import sdk_client, sdk_reader  # noqa: PLC0415 - only where the SDK is installed

            sdk = await stack.enter_async_context(sdk_client(base_url, ACCOUNT))
            contenders["sdk"] = sdk_reader(sdk, PATH, page_size)
        samples = await interleaved(contenders, rounds)
    raw = rate(samples["raw"])
    sdk_rate = rate(samples["sdk"]) if "sdk" in samples else None
    label = f"iter_logs pageSize {page_size:,}"
    return [
        Row.compare(f"{label}, entries vs raw loop", rate(samples["ours"]), raw, "entries/s", GOAL),
        Row.compare(f"{label}, times read in ns vs raw loop", rate(samples["ours+ns"]), raw, "entries/s", GOAL),
        Row.compare(f"{label}, times read in ns vs official SDK", rate(samples["ours+ns"]), sdk_rate, "entries/s"),
    ]


def measure(settings: Settings) -> list[Row]:
    """The rows of targets 1-3: pageSize 10,000 and pageSize 100, each contender side by side."""
    entries = 20_000 if settings.smoke else 300_000
    small_entries = entries // 5  # pageSize 100 costs a request per 100 entries
    rows: list[Row] = []
    for page_size, count in ((10_000, entries), (100, small_entries)):
        with page_server(count, [page_size]) as base_url:
            rows += asyncio.run(_measure_page_size(base_url, page_size, settings.rounds))
    return rows
