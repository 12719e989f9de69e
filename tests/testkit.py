"""Helpers shared by the test suites (importable because tests/ is on sys.path via its conftest)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Serve = Callable[[Handler], Awaitable[str]]
"""Starts a server on 127.0.0.1 with a catch-all handler and returns its base URL (the ``serve`` fixture)."""


class RecordingClock:
    """A virtual clock: ``sleep`` advances time instantly and records the wait; nothing really sleeps."""

    def __init__(self, start_ns: int = 1_795_320_000_000_000_000) -> None:
        self.now_ns = start_ns
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[], None] | None = None
        """Called after each sleep advanced the time: a hook for tests that stop a loop at a condition."""

    def time_ns(self) -> int:
        return self.now_ns

    def monotonic(self) -> float:
        return self.now_ns / 1e9

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now_ns += int(seconds * 1e9)
        if self.on_sleep is not None:
            self.on_sleep()
        await asyncio.sleep(0)


def read_exports(lines: Iterable[str]) -> dict[str, str]:
    """The ``export NAME=value`` lines an emulator prints on start, read up to its "Press Ctrl-C" line."""
    exports: dict[str, str] = {}
    for line in lines:
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").strip().partition("=")
            exports[name] = value
        if line.startswith("Press Ctrl-C"):
            break
    return exports
