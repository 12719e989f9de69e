"""One request budget per client (design §3.6), against the emulator over real HTTP, in virtual time.

Time here is a discrete-event simulation: it moves only once every caller is asleep on the clock, so no request is
in flight when it jumps, and the number of requests per emulated second does not depend on how fast the machine is.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import Sequence

import fwbatch_async as fw
from fwbatch_async.emulator import Emulator, Faults, JobSpec, ManualClock, Scenario

TASKS = 200
DURATION = 120.0  # emulated seconds the callers keep calling
PAUSE = 1.0  # seconds each caller waits between its calls, as a follower between polls
THROTTLED = 0.3  # the share of requests the emulator answers 429, whatever the rate
CAP = 8  # the client's max_in_flight

# Each caller makes its first request while the budget is still unlimited (no answer has come back yet): TASKS.
# The first 429 limits the rate to half the measured one; the callers' next requests go out at that first, highest
# limited rate or lower: TASKS more at most, a second round. From then on a server
# that throttles 30 % of requests keeps the rate low: a drop needs one throttled request sent after the previous
# drop (about 3 sends), while the rate grows by at most 1 request/s per second below 10 requests/s, so it hovers
# around the AIMD balance sqrt(2 x 1 / 0.3) ~ 2.6 requests/s; 5 requests/s leaves room for the swings.
# Without the budget every caller would poll once a second, retries on top: over TASKS x DURATION = 24,000.
BOUND = 2 * TASKS + 5 * DURATION


class QuiescentClock(ManualClock):
    """A manual clock that moves only when all ``parties`` tasks sleep on it, to the earliest wake-up."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.parties = parties
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.monotonic() + max(seconds, 0.0), next(self._order), future))
        await future

    async def run(self, until: float, tasks: Sequence[asyncio.Task[None]]) -> None:
        """Move time to ``until``, a step each time every task sleeps; a task that ends fails the run."""
        while True:
            while len(self._sleepers) < self.parties:  # requests are in flight: let them finish
                for task in tasks:
                    if task.done():
                        task.result()
                        raise AssertionError("a caller ended")
                await asyncio.sleep(0)
            due = self._sleepers[0][0]
            if due > until:
                return
            self.advance(max(0.0, due - self.monotonic()))
            while self._sleepers and self._sleepers[0][0] <= due:
                heapq.heappop(self._sleepers)[2].set_result(None)


async def test_many_callers_under_a_throttling_server_share_one_rate_and_the_in_flight_cap() -> None:
    # The slow answers (10 ms of real time) keep some requests open at the server, so they overlap there.
    faults = Faults(
        rate=THROTTLED + 0.1, kinds={"429": THROTTLED, "slow": 0.1}, endpoints=("job",), seed=5, slow_seconds=0.01
    )
    scenario = Scenario(account="acct", jobs=[JobSpec(id="job-1", start_after=-10.0)])
    clock = QuiescentClock(parties=TASKS)
    rates: list[float | None] = []
    async with (
        Emulator(scenario, clock=clock, api_key="k", faults=faults) as emu,
        fw.AsyncClient(api_key="k", account_id="acct", base_url=emu.base_url, clock=clock, max_in_flight=CAP) as client,
    ):

        async def call_repeatedly() -> None:
            while True:
                with contextlib.suppress(fw.RateLimitError):  # six 429s in a row: the caller simply goes on
                    await client.get_batch_inference_job("job-1")
                rates.append(client.request_rate)
                await clock.sleep(PAUSE)

        callers = [asyncio.create_task(call_repeatedly()) for _ in range(TASKS)]
        try:
            await clock.run(DURATION, callers)
        finally:
            for caller in callers:
                caller.cancel()
            await asyncio.gather(*callers, return_exceptions=True)
        stats = emu.stats
    assert stats.responses[429] > 0.2 * stats.requests["job"]  # the server did throttle throughout
    assert stats.requests["job"] <= BOUND
    assert any(rate is not None for rate in rates)
    assert client.request_rate is not None
    assert 1 < stats.max_in_flight <= CAP
