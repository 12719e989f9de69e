"""Import time: ``import fwbatch_async`` against ``import fireworks`` (the official SDK), each in a fresh interpreter.

A sample is the wall time of ``python -c "import X"`` minus that of ``python -c "pass"`` in the same round, so the
interpreter's own start-up is not counted; rounds rotate the order, after one warm-up each (bytecode compiled).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from harness import Row, Settings
from read_throughput import sdk_installed

# Starting an interpreter is noisy; a few samples per round for the usual number of rounds.
SAMPLES_PER_ROUND = 3


def _wall(statement: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], check=True)
    return time.perf_counter() - start


def measure(settings: Settings) -> list[Row]:
    """The row of target 6: milliseconds to import each, medians of per-round differences to a bare start."""
    statements = {"bare": "pass", "ours": "import fwbatch_async"}
    if sdk_installed():
        statements["sdk"] = "import fireworks"
    for statement in statements.values():
        _wall(statement)
    names = list(statements)
    extra: dict[str, list[float]] = {name: [] for name in names if name != "bare"}
    samples = settings.rounds * (1 if settings.smoke else SAMPLES_PER_ROUND)
    for number in range(samples):
        shift = number % len(names)
        walls = {name: _wall(statements[name]) for name in names[shift:] + names[:shift]}
        for name, values in extra.items():
            values.append(walls[name] - walls["bare"])
    ours = statistics.median(extra["ours"]) * 1e3
    sdk = statistics.median(extra["sdk"]) * 1e3 if "sdk" in extra else None
    return [Row.compare("import fwbatch_async vs import fireworks (official SDK)", ours, sdk, "ms", "<= 0.5")]
