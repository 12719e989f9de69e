"""Start-up: ``import fwbatch_async`` against ``import fireworks`` (the official SDK), and ``fwbatch --help``.

An import sample is the wall time of ``python -c "import X"`` minus that of ``python -c "pass"`` in the same round,
so the interpreter's own start-up is not counted; rounds rotate the order, after one warm-up each (bytecode
compiled). ``import fwbatch_async`` loads names when first used, so the import of the client (aiohttp, the
converter) is measured too. ``fwbatch --help`` is the whole command's wall time, as a user waits for it.
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
    subprocess.run([sys.executable, "-c", statement], check=False, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure(settings: Settings) -> list[Row]:
    """The row of target 6: milliseconds to import each, medians of per-round differences to a bare start."""
    statements = {
        "bare": "pass",
        "ours": "import fwbatch_async",
        "client": "from fwbatch_async import AsyncClient",
        "help": "import sys; from fwbatch_async.cli import main; sys.argv = ['fwbatch', '--help']; main()",
    }
    if sdk_installed():
        statements["sdk"] = "import fireworks"
    for statement in statements.values():
        _wall(statement)
    names = list(statements)
    extra: dict[str, list[float]] = {name: [] for name in names if name != "bare"}
    bare: list[float] = []
    helps: list[float] = []
    samples = settings.rounds * (1 if settings.smoke else SAMPLES_PER_ROUND)
    for number in range(samples):
        shift = number % len(names)
        walls = {name: _wall(statements[name]) for name in names[shift:] + names[:shift]}
        for name, values in extra.items():
            values.append(walls[name] - walls["bare"])
        bare.append(walls["bare"])
        helps.append(walls["help"])
    ours, client = (statistics.median(extra[name]) * 1e3 for name in ("ours", "client"))
    sdk = statistics.median(extra["sdk"]) * 1e3 if "sdk" in extra else None
    return [
        Row.compare("import fwbatch_async vs import fireworks (official SDK)", ours, sdk, "ms", "<= 0.25"),
        Row.compare("from fwbatch_async import AsyncClient vs import fireworks", client, sdk, "ms"),
        Row.limit(
            "fwbatch --help, wall time (reference: a bare interpreter)",
            statistics.median(helps) * 1e3,
            statistics.median(bare) * 1e3,
            "ms",
            300,
        ),
    ]
