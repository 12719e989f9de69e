"""A tiny programmable aiohttp.web server on 127.0.0.1 for integration tests of the client's HTTP behaviour."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from testkit import Handler, Serve


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start servers on 127.0.0.1 with a catch-all handler; returns each one's base URL. All stop at teardown."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()
