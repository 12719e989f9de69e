"""A world for job tests: an emulator and a client on one virtual clock, and jobs of a minute with late lines."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from virtualtime import VirtualClock, running

import fwbatch_async as fw
from fwbatch_async.emulator import Emulator, Faults, JobSpec, LateLines, Realism, Scenario

__all__ = ["job", "world"]


def job(job_id: str, outcome: str = "COMPLETED", **overrides: object) -> JobSpec:
    settings: dict[str, object] = {
        "duration": 60.0,
        "lines_per_second": 40.0,
        "ranks": 4,
        "late": LateLines(fraction=0.05, max_delay=1.0),
        **overrides,
    }
    return JobSpec(id=job_id, outcome=outcome, **settings)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def world(
    jobs: list[JobSpec],
    *,
    faults: Faults | None = None,
    realism: Realism | None = None,
    max_in_flight: int = 32,
) -> AsyncIterator[tuple[Emulator[VirtualClock], fw.AsyncClient]]:
    scenario = Scenario(account="acct", seed=3, jobs=jobs)
    clock = VirtualClock()
    async with (
        running(clock),
        Emulator(scenario, clock=clock, api_key="k", faults=faults, realism=realism) as emu,
        fw.AsyncClient(
            api_key="k", account_id="acct", base_url=emu.base_url, clock=clock, max_in_flight=max_in_flight
        ) as client,
    ):
        yield emu, client
