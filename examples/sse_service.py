"""An aiohttp web service that streams a batch job's log lines and progress to a browser over Server-Sent Events.

Usage::

    python examples/sse_service.py [--host 127.0.0.1] [--port 8000]
    # then open http://127.0.0.1:8000/?job=JOB_ID

One :class:`~fwbatch_async.AsyncClient` serves every browser: it is opened when the app starts and closed when it
stops (``cleanup_ctx``), so all streams share one connection pool and one send rate (10 requests a second at most,
every browser's follow together). ``GET /jobs/{job_id}/events`` sends ``log`` events (one per line), ``progress``
events (on every state or progress change) and a final ``end`` event. A browser that goes away cancels its handler,
which closes its follow: nothing keeps running. Writing waits for the browser (``await response.write``), so a slow
reader slows its own follow instead of filling memory.
The connection to Fireworks comes from ``FIREWORKS_*`` environment variables.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

import fwbatch_async as fw

CLIENT = web.AppKey("client", fw.AsyncClient)
LOOKBACK = web.AppKey("lookback", float)
PAGE = Path(__file__).with_name("sse_page.html")


def sse(event: str, data: dict[str, Any]) -> bytes:
    """One Server-Sent Event: a name and a JSON payload."""
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def encode(event: fw.JobEvent) -> bytes:
    """The Server-Sent Event for one event of the job's stream."""
    if isinstance(event, fw.LogLine):
        entry = event.entry
        return sse("log", {"time": entry.log_time.text, "rank": entry.rank, "message": entry.message})
    if isinstance(event, fw.JobUpdate):
        progress = event.job.job_progress
        return sse(
            "progress",
            {"state": event.state.short_name, "percent": progress.percent if progress else None},
        )
    job = event.job
    return sse(
        "end",
        {
            "state": job.state.short_name if job else None,
            "succeeded": event.succeeded,
            "error": str(event.error) if event.error else None,
        },
    )


async def job_events(request: web.Request) -> web.StreamResponse:
    """``GET /jobs/{job_id}/events?last=N``: the job's last N lines (20), then everything new, until the job ended."""
    job_id = request.match_info["job_id"]
    last = request.query.get("last", "20")
    if not last.isdigit():
        raise web.HTTPBadRequest(text="last must be a non-negative integer")
    client = request.app[CLIENT]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    async with client.follow_job(job_id, last=int(last), lookback=request.app[LOOKBACK]) as events:
        async for event in events:
            await response.write(encode(event))  # waits for a slow browser: backpressure, not buffering
    await response.write_eof()
    return response


async def index(_request: web.Request) -> web.FileResponse:
    """``GET /``: the page that opens the stream."""
    return web.FileResponse(PAGE)


def create_app(lookback: float = 10.0, client: fw.AsyncClient | None = None) -> web.Application:
    """The web app; it opens one client at startup (or uses ``client``, left open) and closes its own at cleanup."""
    app = web.Application()
    app[LOOKBACK] = lookback

    async def one_client(app: web.Application) -> AsyncIterator[None]:
        if client is not None:
            app[CLIENT] = client
            yield
            return
        async with fw.AsyncClient() as own:
            app[CLIENT] = own
            yield

    app.cleanup_ctx.append(one_client)
    app.router.add_get("/", index)
    app.router.add_get("/jobs/{job_id}/events", job_events)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and serve until Ctrl-C."""
    parser = argparse.ArgumentParser(description="Stream a batch job's logs and progress over Server-Sent Events.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    web.run_app(create_app(), host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
