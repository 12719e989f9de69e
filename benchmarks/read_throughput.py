"""Entries per second reading a job's logs: ``iter_logs`` against a raw aiohttp + orjson loop, side by side.

Both read the same pre-serialized pages from a server in another process (design §4: the raw loop, decoding pages
to dicts, is the limit for a decoding client). ``iter_logs`` is measured twice: taking entries as they come (their
times are parsed on first use) and reading every entry's time in nanoseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import orjson
from harness import Row, interleaved, page_server, print_table, rate, write_json

import fwbatch_async as fw

JOB = "bench-job"
GOALS = {10_000: 0.6, 100: 0.85}


def raw_loop(session: aiohttp.ClientSession, base_url: str, page_size: int) -> Callable[[], Awaitable[int]]:
    url = f"{base_url}/v1/accounts/bench/batchJobs/{JOB}:getLogs"
    headers = {"Authorization": "Bearer k"}

    async def run() -> int:
        count, token = 0, None
        while True:
            params = {"pageSize": str(page_size), "startFromHead": "true"}
            if token:
                params["pageToken"] = token
            async with session.get(url, params=params, headers=headers) as response:
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


async def measure(base_url: str, page_size: int, rounds: int) -> list[Row]:
    async with (
        aiohttp.ClientSession() as session,
        fw.AsyncClient(api_key="k", account_id="bench", base_url=base_url) as client,
    ):
        samples = await interleaved(
            {
                "raw": raw_loop(session, base_url, page_size),
                "ours": ours(client, page_size, read_times=False),
                "ours+ns": ours(client, page_size, read_times=True),
            },
            rounds,
        )
    raw = rate(samples["raw"])
    goal = GOALS[page_size]
    rows = []
    for name, label in (("ours", "entries"), ("ours+ns", "entries, time read in ns")):
        value = rate(samples[name])
        rows.append(
            Row(
                target=f"iter_logs pageSize {page_size:,} ({label})",
                ours=value,
                reference=raw,
                unit="entries/s",
                goal=f">= {goal}",
                ratio=value / raw,
                met=value / raw >= goal,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=300_000, help="entries per read at pageSize 10,000")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None, help="also write the table here")
    args = parser.parse_args()
    small_entries = max(100, args.entries // 5)  # pageSize 100 costs a request per 100 entries
    rows: list[Row] = []
    with page_server(args.entries, [10_000]) as base_url:
        rows += asyncio.run(measure(base_url, 10_000, args.rounds))
    with page_server(small_entries, [100]) as base_url:
        rows += asyncio.run(measure(base_url, 100, args.rounds))
    print_table(rows)
    if args.json is not None:
        meta = {"python": platform.python_version(), "machine": platform.machine(), "rounds": args.rounds}
        write_json(rows, args.json, meta)


if __name__ == "__main__":
    main()
