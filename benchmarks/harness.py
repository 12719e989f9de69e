"""What every benchmark shares: a server in its own process, interleaved runs, medians, the table of ratios."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs

HERE = Path(__file__).parent


@contextmanager
def page_server(entries: int, page_sizes: list[int]) -> Iterator[str]:
    """The pre-serialized page server in a child process; yields its base URL, stops it on exit."""
    command = [sys.executable, str(HERE / "page_server.py"), "--entries", str(entries)]
    command += ["--page-sizes", ",".join(map(str, page_sizes))]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        assert child.stdin is not None
        ready = child.stdout.readline().split()
        if ready[:1] != ["port"]:
            child.kill()
            raise RuntimeError("the page server did not start")
        try:
            yield f"http://127.0.0.1:{ready[1]}"
        finally:
            child.stdin.close()
            child.wait(timeout=30)


@attrs.frozen
class Sample:
    """One run: wall seconds, this process's CPU seconds, and the units of work done (entries, requests)."""

    wall: float
    cpu: float
    units: int


async def timed(run: Callable[[], Awaitable[int]]) -> Sample:
    wall, cpu = time.perf_counter(), time.process_time()
    units = await run()
    return Sample(time.perf_counter() - wall, time.process_time() - cpu, units)


async def interleaved(contenders: dict[str, Callable[[], Awaitable[int]]], rounds: int) -> dict[str, list[Sample]]:
    """Run every contender once per round, rotating who goes first (A B, B A, ...), after one warm-up each."""
    names = list(contenders)
    for name in names:
        await contenders[name]()
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(await timed(contenders[name]))
    return samples


def rate(samples: list[Sample]) -> float:
    """Median units per wall second."""
    return statistics.median(s.units / s.wall for s in samples)


def cpu_per_unit(samples: list[Sample]) -> float:
    """Median client CPU seconds per unit."""
    return statistics.median(s.cpu / s.units for s in samples)


@attrs.frozen
class Row:
    """One line of the table: a measure of ours against the reference's, and the goal for their ratio."""

    target: str
    ours: float
    reference: float
    unit: str
    goal: str
    ratio: float
    met: bool


def print_table(rows: list[Row]) -> None:
    header = f"{'target':58} {'ours':>12} {'reference':>12} {'unit':10} {'ratio':>7}  goal"
    print(header)
    print("-" * len(header))
    for row in rows:
        mark = "met" if row.met else "NOT met"
        print(
            f"{row.target:58} {row.ours:12,.0f} {row.reference:12,.0f} {row.unit:10} {row.ratio:7.2f}  "
            f"{row.goal} {mark}"
        )


def write_json(rows: list[Row], path: Path, meta: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, "rows": [attrs.asdict(row) for row in rows]}, indent=2) + "\n")
