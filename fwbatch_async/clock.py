"""Time, injected: every wait and every reading of the clock in the client goes through a :class:`Clock`.

Tests and the emulator pass a clock of their own (the emulator's ``ManualClock`` runs in virtual time, its
``ScaledClock`` faster than real time); production code uses :class:`SystemClock`.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """What the client needs of time.

    Example:
        >>> import asyncio
        >>> clock = SystemClock()
        >>> asyncio.run(clock.sleep(0))
        >>> clock.time_ns() > 0
        True
    """

    def time_ns(self) -> int:
        """Wall-clock time, nanoseconds since the Unix epoch (UTC)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for intervals and deadlines."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...


class SystemClock:
    """The real clock: :func:`time.time_ns`, :func:`time.monotonic` and :func:`asyncio.sleep`."""

    def time_ns(self) -> int:
        """Wall-clock time, nanoseconds since the Unix epoch (UTC)."""
        return time.time_ns()

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on the event loop."""
        await asyncio.sleep(seconds)
