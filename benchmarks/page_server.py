"""A getLogs server that answers from pages serialized in advance, so a benchmark measures the client, not the server.

Run as ``python benchmarks/page_server.py --entries N --page-sizes 100,10000``; it prints ``port <n>`` when ready and
serves until stdin closes. Every request for ``pageSize=P`` walks the same chain of pages of the same log, oldest
first (``startFromHead``), following ``pageToken``; the last page has no token.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

import orjson
from aiohttp import web

T0_NS = 1_795_320_000 * 1_000_000_000
RANKS = 8


def log_time(ns: int) -> str:
    seconds, fraction = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction:09d}Z"


def entries(count: int) -> list[dict[str, object]]:
    """A log like a busy job's: 1,000 lines a second over 8 ranks, messages of 60-120 characters."""
    return [
        {
            "logTime": log_time(T0_NS + i * 1_000_000 + (i * 7919) % 1_000_000),
            "rank": i % RANKS,
            "message": f"step {i} loss=0.{i % 9973:04d} lr=3e-4 tokens/s={1000 + i % 777} " + "x" * (i % 61),
        }
        for i in range(count)
    ]


def serialize(log: list[dict[str, object]], page_size: int) -> dict[str, bytes]:
    """The pages of a forward read, keyed by the token that asks for them ("" for the first)."""
    pages = {}
    for number, offset in enumerate(range(0, len(log), page_size)):
        body: dict[str, object] = {"entries": log[offset : offset + page_size]}
        if offset + page_size < len(log):
            body["nextPageToken"] = f"p{number + 1}"
        pages["" if number == 0 else f"p{number}"] = orjson.dumps(body)
    return pages


async def serve(count: int, page_sizes: list[int]) -> None:
    log = entries(count)
    pages = {size: serialize(log, size) for size in page_sizes}
    del log

    async def get_logs(request: web.Request) -> web.Response:
        chain = pages[int(request.query["pageSize"])]
        return web.Response(body=chain[request.query.get("pageToken", "")], content_type="application/json")

    app = web.Application()
    app.router.add_get("/v1/accounts/{account}/batchJobs/{job}", get_logs)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(f"port {port}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes stdin
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, required=True)
    parser.add_argument("--page-sizes", default="100,10000")
    args = parser.parse_args()
    asyncio.run(serve(args.entries, [int(size) for size in args.page_sizes.split(",")]))


if __name__ == "__main__":
    main()
