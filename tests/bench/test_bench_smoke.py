"""The benchmarks still run: ``benchmarks/bench.py --smoke`` prints the table and writes it as JSON.

Tiny sizes and one round; no figure is checked, only that every target of design §4 has its row. The official
SDK is not installed with the tests, so its rows carry no reference (``null``) unless it happens to be.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
TARGETS = (
    "iter_logs pageSize 10,000, entries vs raw loop",
    "iter_logs pageSize 10,000, times read in ns vs raw loop",
    "iter_logs pageSize 10,000, times read in ns vs official SDK",
    "iter_logs pageSize 100, entries vs raw loop",
    "iter_logs pageSize 100, times read in ns vs raw loop",
    "iter_logs pageSize 100, times read in ns vs official SDK",
    "follow_logs catching up on 20,000 lines, vs raw loop",
    "follow_logs catching up on 20,000 lines, client CPU per entry",
    "follow 10 jobs: client CPU per request vs raw loop",
    "follow 10 jobs: peak RSS",
    "follow 10 jobs: requests over their lives vs fixed 1 s polling",
    "follow 10 jobs: p95 delivery delay",
    "20 running jobs at B = 20/s: most requests in 10 s vs 10 x B",
    "20 running jobs at B = 20/s: p95 delivery delay vs N/B",
    "20 running jobs at B = 20/s: cap 20/s, ceiling over it: 429s after 2 s vs requests",
    "10 jobs through 10% faults: time vs fault-free",
    "every run: lines lost or repeated vs lines delivered",
    "import fwbatch_async vs import fireworks",
)

COUNTS_OF_WRONG = {  # zero when all is well
    "20 running jobs at B = 20/s: cap 20/s, ceiling over it: 429s after 2 s vs requests",
    "every run: lines lost or repeated vs lines delivered",
}


@pytest.mark.timeout(120)
def test_the_smoke_run_prints_and_writes_every_target(tmp_path: Path) -> None:
    output = tmp_path / "smoke.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--smoke", "--json", str(output)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=110, check=False)
    assert done.returncode == 0, done.stderr
    table = done.stdout[done.stdout.index("target ") :]
    data = json.loads(output.read_text())
    rows = {row["target"]: row for row in data["rows"]}
    for target in TARGETS:
        assert target in table
        [name] = [name for name in rows if name.startswith(target)]
        row = rows[name]
        assert row["ours"] >= 0 if target in COUNTS_OF_WRONG else row["ours"] > 0
        assert (row["reference"] is None) is (row["ratio"] is None)
    assert data["meta"]["smoke"] is True
    assert data["meta"]["machine_before"]["cores"] >= 1
