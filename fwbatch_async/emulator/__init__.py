"""A local, faithful emulator of the Fireworks batch inference API, for tests, demos and benchmarks.

It serves ``GET`` and ``DELETE batchInferenceJobs/{id}``, ``GET batchInferenceJobs`` (list), ``GET batchJobs/{id}``
and ``GET batchJobs/{id}:getLogs`` over HTTP with simulated jobs whose state, progress and logs follow an emulated
clock, in the shapes the live service was seen to send, with optional wire quirks (:class:`Realism`) and fault
injection (:class:`Faults`). It shares no code with the client.

Names are imported on first use, so that loading the pytest plugin (a submodule) costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from fwbatch_async.emulator.cli import serve
    from fwbatch_async.emulator.clock import Clock, ManualClock, ScaledClock
    from fwbatch_async.emulator.emulator import Emulator
    from fwbatch_async.emulator.faults import Faults
    from fwbatch_async.emulator.realism import Realism
    from fwbatch_async.emulator.scenario import JobSpec, LateLines, Scenario
    from fwbatch_async.emulator.stats import Stats

__all__ = [
    "Clock",
    "Emulator",
    "Faults",
    "JobSpec",
    "LateLines",
    "ManualClock",
    "Realism",
    "ScaledClock",
    "Scenario",
    "Stats",
    "serve",
]

_HOMES: Final = {
    "Clock": "clock",
    "ManualClock": "clock",
    "ScaledClock": "clock",
    "Emulator": "emulator",
    "Faults": "faults",
    "Realism": "realism",
    "JobSpec": "scenario",
    "LateLines": "scenario",
    "Scenario": "scenario",
    "Stats": "stats",
    "serve": "cli",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
