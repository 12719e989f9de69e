"""The real clock's sleeps end on a shared grid, so many sleepers wake together (nothing sleeps for real here)."""

from __future__ import annotations

import asyncio
import math

import pytest

import fwbatch_async as fw
from fwbatch_async import clock as clock_module


@pytest.mark.parametrize("seconds", [0.001, 0.05, 0.123, 1.0, 4.9999])
async def test_a_sleep_ends_on_the_next_tick_after_its_time(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    waits: list[float] = []

    async def record(delay: float) -> None:
        waits.append(delay)

    loop = asyncio.get_running_loop()
    monkeypatch.setattr(asyncio, "sleep", record)
    now = loop.time()
    monkeypatch.setattr(loop, "time", lambda: now)
    await fw.SystemClock().sleep(seconds)
    (wait,) = waits
    end = now + wait
    assert seconds <= wait < seconds + clock_module.COALESCE + 1e-9
    ticks = end / clock_module.COALESCE
    assert math.isclose(ticks, round(ticks), abs_tol=1e-6)


@pytest.mark.parametrize("seconds", [0.0, -1.0])
async def test_no_wait_only_yields(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    waits: list[float] = []

    async def record(delay: float) -> None:
        waits.append(delay)

    monkeypatch.setattr(asyncio, "sleep", record)
    await fw.SystemClock().sleep(seconds)
    assert waits == [0]
