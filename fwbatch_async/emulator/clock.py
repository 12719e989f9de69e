"""Clocks that drive the emulator and, when shared, the client under test.

Both clocks satisfy the same structural protocol as the client's clock (``time_ns``, ``monotonic``, ``sleep``),
so a test can hand one clock to both sides and run a whole job's life in virtual time.
"""

from __future__ import annotations

import asyncio
import time
from typing import Final, Protocol

from fwbatch_async.emulator.wire import parse_timestamp

__all__ = ["Clock", "ManualClock", "ScaledClock"]

_NS_PER_SECOND: Final = 1_000_000_000
DEFAULT_START: Final = "2026-01-01T00:00:00Z"


class Clock(Protocol):
    """What the emulator needs from a clock: emulated wall time, emulated monotonic time, and sleeping."""

    def time_ns(self) -> int:
        """Emulated wall-clock time, UTC nanoseconds since the epoch."""
        ...

    def monotonic(self) -> float:
        """Emulated seconds on a clock that never goes backwards."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of emulated time."""
        ...


class ManualClock:
    """A clock that only moves when told to, so tests are deterministic and never wait for real.

    ``sleep`` advances the clock itself and then yields once to the event loop: a client sleeping on this clock
    runs in virtual time.

    Args:
        start: RFC 3339 start time; ignored when ``start_ns`` is given.
        start_ns: start time in UTC nanoseconds since the epoch.
    """

    def __init__(self, start: str = DEFAULT_START, *, start_ns: int | None = None) -> None:
        self._start_ns = parse_timestamp(start) if start_ns is None else int(start_ns)
        self._now_ns = self._start_ns

    def time_ns(self) -> int:
        """Current emulated time in UTC nanoseconds."""
        return self._now_ns

    def monotonic(self) -> float:
        """Emulated seconds elapsed since the clock was created."""
        return (self._now_ns - self._start_ns) / _NS_PER_SECOND

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (time never goes backwards).

        Raises:
            ValueError: if ``seconds`` is negative.
        """
        if seconds < 0:
            raise ValueError(f"a clock cannot go backwards (advance by {seconds})")
        self._now_ns += round(seconds * _NS_PER_SECOND)

    def advance_to_ns(self, time_ns: int) -> None:
        """Move the clock forward to an absolute time; a time in the past is an error.

        Raises:
            ValueError: if ``time_ns`` is earlier than the current time.
        """
        if time_ns < self._now_ns:
            raise ValueError("a clock cannot go backwards")
        self._now_ns = time_ns

    async def sleep(self, seconds: float) -> None:
        """Advance the clock by ``seconds`` (negative counts as zero), then let other tasks run once."""
        self.advance(max(seconds, 0.0))
        await asyncio.sleep(0)


class ScaledClock:
    """Real time, sped up: emulated time = start + real elapsed time x ``speed``.

    Args:
        speed: emulated seconds per real second (60 makes an hour-long job take a minute).
        start_ns: emulated time at creation, UTC nanoseconds; default: the real time now.
    """

    def __init__(self, speed: float = 60.0, start_ns: int | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, not {speed}")
        self.speed = float(speed)
        self._start_ns = time.time_ns() if start_ns is None else int(start_ns)
        self._real_origin_ns = time.monotonic_ns()

    def _elapsed_ns(self) -> int:
        return round((time.monotonic_ns() - self._real_origin_ns) * self.speed)

    def time_ns(self) -> int:
        """Current emulated time in UTC nanoseconds."""
        return self._start_ns + self._elapsed_ns()

    def monotonic(self) -> float:
        """Emulated seconds elapsed since the clock was created."""
        return self._elapsed_ns() / _NS_PER_SECOND

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of emulated time, that is ``seconds / speed`` of real time."""
        await asyncio.sleep(max(seconds, 0.0) / self.speed)
