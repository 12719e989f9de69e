"""What every benchmark shares: a server in its own process, interleaved runs, medians, the table of ratios."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import attrs

HERE = Path(__file__).parent


@attrs.frozen
class Settings:
    """What every part of a run is given: rounds per contender, and whether this is a smoke run (tiny sizes)."""

    rounds: int
    smoke: bool


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


def page_params(page_size: int, token: str | None) -> dict[str, str]:
    """The query of one page of a forward read, as every hand-written reader here sends it."""
    params = {"pageSize": str(page_size), "startFromHead": "true"}
    if token:
        params["pageToken"] = token
    return params


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


def child_figures(command: list[str], name: str) -> dict[str, Any]:
    """Run a benchmark's child process; the figures it printed as JSON on its last line."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the {name} run failed:\n{done.stderr}")
    figures: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return figures


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    """The median of one figure over runs."""
    return statistics.median(float(run[key]) for run in runs)


def rate(samples: list[Sample]) -> float:
    """Median units per wall second."""
    return statistics.median(s.units / s.wall for s in samples)


def cpu_per_unit(samples: list[Sample]) -> float:
    """Median client CPU seconds per unit."""
    return statistics.median(s.cpu / s.units for s in samples)


@attrs.frozen
class Row:
    """One line of the table: a measure of ours against the reference's, and the goal for their ratio.

    ``goal`` is empty for a figure reported without a target; ``reference`` is ``None`` when the reference could
    not be measured (the official SDK is not installed), and then ``ratio`` and ``met`` are ``None`` too.
    """

    target: str
    ours: float
    reference: float | None
    unit: str
    goal: str
    ratio: float | None
    met: bool | None

    @classmethod
    def compare(cls, target: str, ours: float, reference: float | None, unit: str, goal: str = "") -> Row:
        """A row whose goal, if any, is a bound on ``ours / reference``: ``">= 0.6"`` or ``"<= 1.25"``."""
        if reference is None:
            return cls(target, ours, None, unit, goal, None, None)
        ratio = ours / reference
        return cls(target, ours, reference, unit, goal, ratio, _holds(ratio, goal) if goal else None)

    @classmethod
    def limit(cls, target: str, ours: float, reference: float, unit: str, most: float) -> Row:
        """A row whose goal is an absolute bound on ``ours``; the reference's figure is shown beside it."""
        return cls(target, ours, reference, unit, f"ours <= {most:g} {unit}", ours / reference, ours <= most)


def _holds(value: float, goal: str) -> bool:
    operator, bound = goal.split()
    return value >= float(bound) if operator == ">=" else value <= float(bound)


def _number(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def print_table(rows: list[Row]) -> None:
    header = f"{'target':62} {'ours':>11} {'reference':>11} {'unit':10} {'ratio':>6}  goal"
    print(header)
    print("-" * len(header))
    for row in rows:
        mark = {True: "met", False: "NOT met", None: ""}[row.met]
        ratio = "n/a" if row.ratio is None else f"{row.ratio:.2f}"
        print(
            f"{row.target:62} {_number(row.ours):>11} {_number(row.reference):>11} {row.unit:10} {ratio:>6}  "
            f"{row.goal} {mark}".rstrip()
        )


def _cpu_model() -> str:
    try:
        with Path("/proc/cpuinfo").open() as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, object]:
    """What the figures were measured on: CPU, cores, load, Python and the versions of the stacks compared."""
    packages = ("fwbatch-async", "aiohttp", "orjson", "fireworks-ai", "httpx", "pydantic")
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": {name: _version(name) for name in packages},
    }


def write_json(rows: list[Row], path: Path, meta: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, "rows": [attrs.asdict(row) for row in rows]}, indent=2) + "\n")
