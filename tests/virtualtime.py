"""Virtual time for many concurrent sleepers: a clock that jumps ahead only when the tasks have settled.

The emulator's ManualClock advances by each sleep, which is right for one sleeper but makes time race when
thousands of tasks sleep at once. Here a sleep waits for the clock to reach its deadline; a driver task lets
every ready task run (requests to the emulator complete over loopback within a few loop turns), then moves the
clock to the next deadline, waking every sleeper due within one tick together.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator

from fwbatch_async.emulator import ManualClock

# Loop turns that let in-flight loopback requests finish before time moves; if one is still in flight, it simply
# took virtual time, which changes timings but never correctness.
_SETTLE_TURNS = 30


class VirtualClock(ManualClock):
    """A manual clock whose sleeps wait for the driver started by :func:`running`."""

    def __init__(self, tick: float = 0.05, limit: float = 36_000.0) -> None:
        super().__init__()
        self.tick = tick
        self.limit = limit
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.monotonic() + max(seconds, 0.0), next(self._order), future))
        await future

    async def drive(self) -> None:
        """Forever: let tasks settle, then wake the next sleepers (run as a task by :func:`running`)."""
        while True:
            for _ in range(_SETTLE_TURNS):
                await asyncio.sleep(0)
            sleepers = self._sleepers
            while sleepers and sleepers[0][2].cancelled():
                heapq.heappop(sleepers)
            if not sleepers:
                continue
            due = max(sleepers[0][0], self.monotonic()) + self.tick
            self.advance(max(0.0, sleepers[0][0] - self.monotonic()))
            while sleepers and sleepers[0][0] <= due:
                _, _, future = heapq.heappop(sleepers)
                if future.done():
                    continue
                if self.monotonic() > self.limit:  # something waits for what never comes: fail, do not spin
                    future.set_exception(AssertionError(f"still sleeping after {self.limit:.0f} s of virtual time"))
                else:
                    future.set_result(None)


class SlowerClock:
    """A client's view of ``base`` when ``base`` runs ``speed`` times faster than the client's own clock.

    That is how a client on the real clock sees an emulator sped up ``speed`` times: one second of the client's
    waits and intervals is ``speed`` seconds of the emulator's.
    """

    def __init__(self, base: ManualClock, speed: float) -> None:
        self.base = base
        self.speed = speed
        self._origin_ns = base.time_ns()

    def time_ns(self) -> int:
        return self._origin_ns + round((self.base.time_ns() - self._origin_ns) / self.speed)

    def monotonic(self) -> float:
        return self.base.monotonic() / self.speed

    async def sleep(self, seconds: float) -> None:
        await self.base.sleep(seconds * self.speed)


@contextlib.asynccontextmanager
async def running(clock: VirtualClock) -> AsyncIterator[VirtualClock]:
    """Drive ``clock`` while the block runs."""
    driver = asyncio.create_task(clock.drive())
    try:
        yield clock
    finally:
        driver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await driver
