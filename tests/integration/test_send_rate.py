"""The client's send rate against the emulator over real HTTP, in virtual time (design §6, issue 19).

Time is a discrete-event simulation: it moves only once every caller is asleep on the clock, so no request is in
flight when it jumps, and the requests per emulated second do not depend on how fast the machine is.
"""

from __future__ import annotations

import asyncio
import heapq
from collections import Counter
from collections.abc import Sequence

import pytest
from virtualtime import VirtualClock

import fwbatch_async as fw
from fwbatch_async.emulator import Emulator, Faults, JobSpec, ManualClock, Scenario

CALLERS = 30
SCENARIO = Scenario(account="acct", jobs=[JobSpec(id="job-1", start_after=-10.0)])


class QuiescentClock(VirtualClock):
    """A virtual clock that moves only when all ``parties`` tasks sleep on it, to the earliest wake-up (no ticks)."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.parties = parties

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


async def hammer(
    seconds: float,
    *,
    faults: Faults | None = None,
    account_rpm: float | None = None,
    change_cap: tuple[float, float] | None = None,
    **client: object,
) -> tuple[list[float], list[float], Emulator[QuiescentClock]]:
    """``CALLERS`` tasks read a job as fast as the client lets them: when each answer came, and each 429 (emulated
    seconds)."""
    clock = QuiescentClock(parties=CALLERS)
    answered: list[float] = []
    refused: list[float] = []
    async with (
        Emulator(SCENARIO, clock=clock, api_key="k", faults=faults, account_rpm=account_rpm) as emu,
        fw.AsyncClient(api_key="k", account_id="acct", base_url=emu.base_url, clock=clock, **client) as c,  # type: ignore[arg-type]
    ):

        async def call_again_and_again() -> None:
            while True:
                try:
                    await c.get_batch_inference_job("job-1")
                except fw.RateLimitError:  # the client's retries ran out: the caller goes on
                    refused.append(clock.monotonic())
                else:
                    answered.append(clock.monotonic())
                if change_cap is not None and emu.account_cap is not None and clock.monotonic() >= change_cap[0]:
                    emu.account_cap.per_minute = change_cap[1]
                await clock.sleep(0)

        callers = [asyncio.create_task(call_again_and_again()) for _ in range(CALLERS)]
        try:
            await clock.run(seconds, callers)
        finally:
            for caller in callers:
                caller.cancel()
            await asyncio.gather(*callers, return_exceptions=True)
    return answered, refused, emu


def per_second(times: list[float]) -> Counter[int]:
    return Counter(int(t) for t in times)


async def test_the_default_ceiling_holds_for_every_caller_together() -> None:
    answered, _, emu = await hammer(60.0)
    counts = per_second(answered)
    assert counts[0] <= 10 + 5  # a second's worth and the small burst
    assert max(counts[s] for s in range(1, 60)) <= 11
    assert sum(counts[s] for s in range(1, 60)) >= 59 * 10 * 0.95
    assert emu.stats.requests["job"] <= 60 * 10 + 1
    served = emu.stats.per_second
    assert max(sum(served[s + i] for i in range(10)) for s in range(51)) <= 100  # the burst counts against it too


async def test_no_ceiling_is_an_explicit_choice() -> None:
    """With ``max_rate=None`` nothing waits on the clock: 200 reads at once all go out while it stands still."""
    clock = ManualClock()
    async with (
        Emulator(SCENARIO, clock=clock, api_key="k") as emu,
        fw.AsyncClient(api_key="k", account_id="acct", base_url=emu.base_url, clock=clock, max_rate=None) as c,
    ):
        async with asyncio.timeout(30):  # a read that waited on the clock would wait forever: it never moves here
            await asyncio.gather(*(c.get_batch_inference_job("job-1") for _ in range(200)))
    assert emu.stats.requests["job"] == 200
    assert clock.monotonic() == 0.0


async def test_a_retry_after_pauses_every_queued_send() -> None:
    faults = Faults(retry_after=5)
    faults.script("job", ["ok"] * 20 + ["429_retry_after"])
    answered, _, emu = await hammer(20.0, faults=faults, retry=fw.RetryPolicy(max_attempts=1))
    assert emu.stats.faults["429_retry_after"] == 1
    paused_at = sorted(answered)[19]
    assert not [t for t in answered if paused_at < t < paused_at + 5.0]  # nobody sent while the server said wait
    assert [t for t in answered if t >= paused_at + 5.0]


async def test_isolated_throttles_among_successes_leave_the_rate_alone() -> None:
    """Random 429s and 503s (6 % of answers) are noise: the client keeps nine tenths of its rate or more."""
    faults = Faults(rate=0.06, kinds={"429": 1, "503": 1}, endpoints=("job",), seed=3)
    _, _, emu = await hammer(120.0, faults=faults)
    assert emu.stats.requests["job"] >= 0.9 * 10 * 120


async def test_against_an_account_cap_it_settles_under_it_and_finds_it_again_when_it_moves() -> None:
    """An account cap of 10 requests/s (the client's ceiling 30): few 429s once settled; the cap raised to 20/s at
    300 s is found again within minutes."""
    answered, refused, _ = await hammer(
        600.0, account_rpm=600.0, change_cap=(300.0, 1200.0), max_rate=30.0, retry=fw.RetryPolicy(max_attempts=1)
    )
    counts = per_second(answered)
    assert sum(counts[s] for s in range(60, 300)) >= 0.85 * 10 * 240
    settled = [t for t in refused if t >= 60]
    assert len(settled) <= 0.02 * len([t for t in answered if t >= 60])
    assert sum(counts[s] for s in range(500, 600)) >= 0.85 * 20 * 100


@pytest.mark.parametrize("adaptive", [True, False])
async def test_the_rate_the_client_allows_itself_is_visible(adaptive: bool) -> None:
    answered, _, _ = await hammer(90.0, account_rpm=300.0, adaptive_rate=adaptive, retry=fw.RetryPolicy(max_attempts=1))
    counts = per_second(answered)
    if adaptive:
        assert sum(counts[s] for s in range(30, 90)) >= 0.85 * 5 * 60  # just under the cap of 5/s
    else:
        assert sum(counts[s] for s in range(30, 90)) <= 1.1 * 5 * 60  # the server's cap, at the ceiling's cost
