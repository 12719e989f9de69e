"""Following as a user testing against a sped-up emulator does: the client on the real clock, the emulator's running
1, 20 or 60 times faster, every fault kind on, and a server whose forward reads always carry a token (issue 14).

The client measures nothing in the emulator's time but what the server tells it (its ``Date`` header and the log's
own times), so what it delivers must not depend on the speed: every job's stored log, exactly once.
"""

from __future__ import annotations

from collections import Counter

import pytest

import fwbatch_async as fw
from fwbatch_async.emulator import Emulator, Faults, JobSpec, LateLines, Realism, ScaledClock, Scenario
from fwbatch_async.emulator.faults import FAULT_KINDS
from fwbatch_async.emulator.wire import parse_timestamp

Key = tuple[int, int, str]
# Real seconds each job runs, whatever the speed: long enough for many reads, short enough for CI.
REAL_SECONDS = 5.0
LOOKBACK = 3.0  # emulated seconds: longer than the latest line is late (max_delay)


def chaos() -> Faults:
    """A quarter of the requests fail, every kind met early on both endpoints a follower uses."""
    faults = Faults(rate=0.25, seed=5, slow_seconds=2.0, retry_after=1)
    for endpoint in ("job", "logs"):
        faults.script(endpoint, [outcome for kind in FAULT_KINDS for outcome in (kind, "ok", "ok")])
    return faults


@pytest.mark.parametrize("speed", [1, 20, 60])
async def test_every_line_arrives_once_whatever_the_emulators_speed(speed: int) -> None:
    seconds = REAL_SECONDS * speed
    specs = [
        JobSpec(
            id=f"job-{i}",
            duration=seconds,
            ranks=8,
            lines_per_second=min(80.0, 2400 / seconds),  # a few hundred to a few thousand lines a job
            late=LateLines(fraction=0.05, max_delay=2.0),
            duplicates=0.02,
        )
        for i in range(3)
    ]
    delivered: dict[str, Counter[Key]] = {spec.id: Counter() for spec in specs}
    ended: dict[str, fw.JobEnded] = {}
    async with (
        Emulator(
            Scenario(account="acct", seed=3, jobs=specs),
            clock=ScaledClock(speed=speed),
            api_key="k",
            faults=chaos(),
            realism=Realism(repeat_end_token=True),
        ) as emu,
        # The client keeps its own (real) clock, as a user's does; a slow answer (2 s) always outlasts its timeout.
        fw.AsyncClient(api_key="k", account_id="acct", base_url=emu.base_url, timeout=0.5) as client,
        client.follow_jobs([spec.id for spec in specs], from_start=True, lookback=LOOKBACK) as events,
    ):
        async for event in events:
            if isinstance(event, fw.LogLine):
                delivered[event.job_id][event.entry.log_time.ns, event.entry.rank, event.entry.message] += 1
            elif isinstance(event, fw.JobEnded):
                ended[event.job_id] = event
        stored = {
            spec.id: Counter((parse_timestamp(t), r, m) for t, r, m in emu.logs(spec.id, include_pending=True))
            for spec in specs
        }
        assert set(emu.stats.faults) == set(FAULT_KINDS)

    for spec in specs:
        assert stored[spec.id].total() > 100
        assert not stored[spec.id] - delivered[spec.id], f"{spec.id}: lines lost"
        assert not delivered[spec.id] - stored[spec.id], f"{spec.id}: lines repeated"
        end = ended[spec.id]
        assert end.error is None
        assert end.job is not None
        assert end.job.state.short_name == "COMPLETED"
        assert end.log_stats is not None
        assert end.log_stats.possibly_missed == 0
