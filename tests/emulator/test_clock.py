from __future__ import annotations

import asyncio
import time

import pytest

from fwbatch_async.emulator import ManualClock, ScaledClock
from fwbatch_async.emulator.clock import Clock

T0 = 1_767_225_600 * 10**9


def test_manual_clock_starts_where_told_and_only_moves_when_advanced() -> None:
    clock = ManualClock()
    assert clock.time_ns() == T0
    assert clock.monotonic() == 0.0
    assert ManualClock("2030-06-01T12:00:00.5+02:00").time_ns() == 1_906_538_400 * 10**9 + 500_000_000
    assert ManualClock(start_ns=42).time_ns() == 42
    clock.advance(1.5)
    clock.advance(0)
    assert clock.time_ns() == T0 + 1_500_000_000
    assert clock.monotonic() == 1.5
    clock.advance_to_ns(T0 + 2 * 10**9)
    assert clock.monotonic() == 2.0


def test_manual_clock_never_goes_backwards() -> None:
    clock = ManualClock()
    clock.advance(10)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-0.001)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance_to_ns(T0)
    assert clock.monotonic() == 10.0


async def test_manual_sleep_advances_virtual_time_and_yields() -> None:
    clock = ManualClock()
    order: list[str] = []

    async def other() -> None:
        order.append("other ran")

    task = asyncio.create_task(other())
    started = time.monotonic()
    await clock.sleep(3600)
    assert order == ["other ran"]
    assert clock.monotonic() == 3600.0
    await clock.sleep(-5)
    assert clock.monotonic() == 3600.0
    assert time.monotonic() - started < 1
    await task


async def test_scaled_clock_runs_speed_times_faster() -> None:
    clock = ScaledClock(speed=1000.0, start_ns=T0)
    assert T0 <= clock.time_ns() < T0 + 10**9
    real_start = time.monotonic()
    await clock.sleep(20.0)  # 20 ms of real time
    real = time.monotonic() - real_start
    emulated = clock.monotonic()
    assert real >= 0.019
    assert emulated >= 20.0
    assert emulated == pytest.approx(real * 1000, rel=0.5)
    assert clock.time_ns() >= T0 + 20 * 10**9


def test_scaled_clock_defaults_to_now() -> None:
    before = time.time_ns()
    clock = ScaledClock()
    assert before <= clock.time_ns() <= time.time_ns() + 10**9 * 60
    with pytest.raises(ValueError, match="speed"):
        ScaledClock(speed=0)


def test_both_clocks_satisfy_the_protocol() -> None:
    clocks: list[Clock] = [ManualClock(), ScaledClock()]
    for clock in clocks:
        assert isinstance(clock.time_ns(), int)
        assert isinstance(clock.monotonic(), float)
