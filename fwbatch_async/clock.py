"""Time, injected: every wait and every reading of the clock in the client goes through a :class:`Clock`.

Tests and the emulator pass a clock of their own (the emulator's ``ManualClock`` runs in virtual time, its
``ScaledClock`` faster than real time); production code uses :class:`SystemClock`.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Final, Protocol, runtime_checkable

__all__ = ["COALESCE", "Clock", "SystemClock"]

COALESCE: Final = 0.05
"""Seconds: :class:`SystemClock` sleeps end on this grid, so a thousand followers waking at scattered times wake the
process twenty times a second at most, not a thousand (a wake-up costs more than the work it brings)."""


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
    """The real clock: :func:`time.time_ns`, :func:`time.monotonic` and :func:`asyncio.sleep`.

    Example:
        >>> import fwbatch_async as fw
        >>> client = fw.AsyncClient(api_key="fw-...", clock=fw.SystemClock())  # the default; tests pass their own
    """

    def time_ns(self) -> int:
        """Wall-clock time, nanoseconds since the Unix epoch (UTC)."""
        return time.time_ns()

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on the event loop, ending on the next ``COALESCE`` s tick (one wake-up for many)."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        await asyncio.sleep(math.ceil((now + seconds) / COALESCE) * COALESCE - now)
