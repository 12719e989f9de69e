"""Following 1,000 jobs at once (design §4): ``follow_jobs`` against fixed 1 s polling with a raw loop, side by side.

Every run is its own process, with its own emulator in a further process (real-time clock, jobs created over the
last 2 s), so each run's peak RSS is its own. Both contenders follow every job from its creation to its end:

- **ours**: ``client.follow_jobs(ids, from_start=True)``: typed entries, exactly once, adaptive polling, one scheduler;
  with ``max_rate=None``, so that both send as fast as they want and the CPU per request compares like with like
  (the request budget is the ``rate`` part's);
- **raw**: a bare aiohttp + orjson loop per job that reads the job (state) and its new log lines (by ``startTime``,
  decoded to dicts) once a second until the job finished: the fixed 1 s polling a naive follower does.

Measured per run: client CPU seconds per request, requests over the jobs' lives (counted by the emulator), the
delay from a line's time to its delivery (p50 and p95), and peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeAlias

import aiohttp
import attrs
import orjson
from harness import Row, Settings, child_figures, median_of

import fwbatch_async as fw
from fwbatch_async.emulator import JobSpec, Scenario

# Delivery delays in ns: a million lines as Python ints would add 35 MB to the RSS being measured.
Delays: TypeAlias = "array[int]"
ACCOUNT = "bench"
KEY = "bench-key"
FINISHED = {"JOB_STATE_COMPLETED", "JOB_STATE_FAILED", "JOB_STATE_EXPIRED", "JOB_STATE_CANCELLED"}


def scenario(jobs: int, duration: float, lines_per_second: float) -> Scenario:
    """``jobs`` jobs of ``duration`` seconds (running from 10 % to 90 % of it), created over the last 2 s."""
    return Scenario(
        account=ACCOUNT,
        seed=1,
        jobs=[
            JobSpec(
                id=f"job-{i:04d}",
                duration=duration,
                lines_per_second=lines_per_second,
                ranks=2,
                duplicates=0.0,
                late={"fraction": 0.0},
                start_after=-2.0 * i / jobs,  # all exist when following begins (a job not yet created is a 404)
            )
            for i in range(jobs)
        ],
    )


@contextmanager
def emulator(path: Path) -> Iterator[str]:
    """The emulator serving the scenario file at ``path`` in real time, in a child process; yields its base URL."""
    command = [sys.executable, "-m", "fwbatch_async.emulator", "--port", "0", "--speed", "1"]
    command += ["--scenario", str(path), "--api-key", KEY]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        base_url = None
        for line in child.stdout:
            if line.strip().startswith("base URL:"):
                base_url = line.split()[-1]
                break
        if base_url is None:
            child.kill()
            raise RuntimeError("the emulator did not start")
        try:
            yield base_url
        finally:
            child.terminate()
            child.wait(timeout=30)


async def requests_served(session: aiohttp.ClientSession, base_url: str) -> int:
    async with session.get(f"{base_url}/_emulator/stats") as response:
        stats = await response.json()
    return sum(count for endpoint, count in stats["requests"].items() if endpoint != "admin")


async def follow_ours(base_url: str, ids: list[str], delays: Delays, lookback: float) -> None:
    async with (
        fw.AsyncClient(api_key=KEY, account_id=ACCOUNT, base_url=base_url, max_rate=None) as client,
        client.follow_jobs(ids, from_start=True, lookback=lookback) as events,
    ):
        async for event in events:
            if isinstance(event, fw.LogLine):
                delays.append(time.time_ns() - event.entry.log_time.ns)
            elif isinstance(event, fw.JobEnded) and not event.succeeded:
                raise RuntimeError(f"{event.job_id} ended badly: {event.error or event.job}")


async def follow_raw(base_url: str, ids: list[str], delays: Delays, _lookback: float) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    connector = aiohttp.TCPConnector(limit=32)  # the in-flight cap ours has by default

    async def follow(session: aiohttp.ClientSession, job_id: str) -> None:
        job_url = f"{base_url}/v1/accounts/{ACCOUNT}/batchInferenceJobs/{job_id}"
        logs_url = f"{base_url}/v1/accounts/{ACCOUNT}/batchJobs/{job_id}:getLogs"
        since: str | None = None
        finished = False
        while True:
            async with session.get(job_url, params={"readMask": "state,jobProgress"}, headers=headers) as response:
                response.raise_for_status()
                finished = orjson.loads(await response.read()).get("state") in FINISHED
            token = None
            while True:  # the new lines, page by page
                params = {"startFromHead": "true", "pageSize": "1000"}
                if since is not None:
                    params["startTime"] = since
                if token:
                    params["pageToken"] = token
                async with session.get(logs_url, params=params, headers=headers) as response:
                    response.raise_for_status()
                    page = orjson.loads(await response.read())
                now = time.time_ns()
                entries = page.get("entries")
                # A naive de-duplication: skip the lines at the time it started from.
                delays.extend(now - fw.Timestamp.parse(e["logTime"]).ns for e in entries or () if e["logTime"] != since)
                if entries:
                    since = entries[-1]["logTime"]
                token = page.get("nextPageToken")
                if not token:
                    break
            if finished:
                return
            await asyncio.sleep(1.0)

    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(follow(session, job_id) for job_id in ids))


def peak_rss_mb() -> float:
    """This process's peak RSS since it started its program.

    Not ``ru_maxrss``: Linux carries that across fork and exec, so a run would report the parent's RSS when the
    parent was the larger. ``VmHWM`` belongs to the program's own memory map.
    """
    try:
        with Path("/proc/self/status").open() as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def one_run(contender: str, base_url: str, ids: list[str], lookback: float) -> dict[str, Any]:
    delays: Delays = array("q")
    async with aiohttp.ClientSession() as session:
        before = await requests_served(session, base_url)
        wall, start = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
        await (follow_ours if contender == "ours" else follow_raw)(base_url, ids, delays, lookback)
        end, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - wall
        requests = await requests_served(session, base_url) - before
    delays = array("q", sorted(delays))
    return {
        "contender": contender,
        "wall": wall,
        "cpu": end.ru_utime - start.ru_utime + end.ru_stime - start.ru_stime,
        "system_cpu": end.ru_stime - start.ru_stime,
        "loop_wakeups": end.ru_nvcsw - start.ru_nvcsw,
        "requests": requests,
        "lines": len(delays),
        "p50_delay": delays[len(delays) // 2] / 1e9 if delays else 0.0,
        "p95_delay": delays[int(len(delays) * 0.95)] / 1e9 if delays else 0.0,
        "max_rss_mb": peak_rss_mb(),
    }


def child(args: argparse.Namespace) -> None:
    """One contender's run, in this process: print its figures as one JSON line."""
    spec = scenario(args.jobs, args.duration, args.lines_per_second)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scenario.json"
        path.write_text(json.dumps(spec.to_json()))
        with emulator(path) as base_url:
            figures = asyncio.run(one_run(args.contender, base_url, [job.id for job in spec.jobs], args.lookback))
    print(json.dumps(figures), flush=True)


@attrs.frozen
class Size:
    """How big a fan-out run is: jobs, each job's life, its log rate, and the follower's lookback."""

    jobs: int
    duration: float
    lines_per_second: float
    lookback: float

    def arguments(self) -> list[str]:
        return [
            f"--jobs={self.jobs}",
            f"--duration={self.duration}",
            f"--lines-per-second={self.lines_per_second}",
            f"--lookback={self.lookback}",
        ]


FULL = Size(jobs=1000, duration=60.0, lines_per_second=2.0, lookback=10.0)
SMOKE = Size(jobs=10, duration=3.0, lines_per_second=2.0, lookback=0.5)


def run_child(contender: str, size: Size) -> dict[str, Any]:
    command = [sys.executable, __file__, "--contender", contender, *size.arguments()]
    figures = child_figures(command, contender)
    print(
        f"  {contender:4}: {figures['requests']:6} requests, {figures['lines']:7} lines, "
        f"cpu {figures['cpu']:6.2f} s, p95 delay {figures['p95_delay']:.2f} s, rss {figures['max_rss_mb']:.0f} MB",
        flush=True,
    )
    return figures


def table(ours: list[dict[str, Any]], raw: list[dict[str, Any]], jobs: int) -> list[Row]:
    """The fan-out rows of design §4 (CPU per request, RSS), and two figures without a goal (requests, delay)."""
    cpu_ours = statistics.median(r["cpu"] / r["requests"] for r in ours) * 1e6
    cpu_raw = statistics.median(r["cpu"] / r["requests"] for r in raw) * 1e6
    label = f"follow {jobs:,} jobs:"
    return [
        Row.compare(f"{label} client CPU per request vs raw loop", cpu_ours, cpu_raw, "us", "<= 1.25"),
        Row.limit(
            f"{label} peak RSS (raw loop beside it)",
            median_of(ours, "max_rss_mb"),
            median_of(raw, "max_rss_mb"),
            "MB",
            150,
        ),
        Row.compare(
            f"{label} requests over their lives vs fixed 1 s polling",
            median_of(ours, "requests"),
            median_of(raw, "requests"),
            "requests",
        ),
        Row.compare(
            f"{label} p95 delivery delay (fixed 1 s polling beside it)",
            median_of(ours, "p95_delay") * 1e3,
            median_of(raw, "p95_delay") * 1e3,
            "ms",
        ),
    ]


def measure(settings: Settings) -> list[Row]:
    """The rows of target 5: every run in its own process, the contenders' order alternating round by round."""
    size = SMOKE if settings.smoke else FULL
    print(f"fan-out: following {size.jobs} jobs of {size.duration:g} s, {settings.rounds} rounds", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "raw": []}
    for number in range(settings.rounds):
        order = ["ours", "raw"] if number % 2 == 0 else ["raw", "ours"]
        print(f" round {number + 1}:", flush=True)
        for contender in order:
            runs[contender].append(run_child(contender, size))
    return table(runs["ours"], runs["raw"], size.jobs)


def main() -> None:
    """A child run: one contender following the jobs, its figures printed as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contender", choices=["ours", "raw"], required=True)
    parser.add_argument("--jobs", type=int, required=True)
    parser.add_argument("--duration", type=float, required=True, help="seconds each job lives")
    parser.add_argument("--lines-per-second", type=float, required=True, help="log lines a running job writes")
    parser.add_argument("--lookback", type=float, required=True, help="the follower's lookback, seconds")
    child(parser.parse_args())


if __name__ == "__main__":
    main()
