"""Chaos soak: many jobs followed at once through every fault kind and every wire quirk the emulator has.

The short version runs in the normal suite. ``nox -s soak`` runs the long one: ``FWBATCH_SOAK_JOBS`` jobs of
``FWBATCH_SOAK_SECONDS`` emulated seconds each at ``FWBATCH_SOAK_LINES_PER_SECOND`` (200 x 80 s at 100 lines/s,
written while they run: over 1,000,000 lines) and writes its figures to ``FWBATCH_SOAK_RESULTS`` as JSON. Client
and emulator share a VirtualClock, so only the client's request timeout (which ``slow`` answers outlast) runs in
real time. One chaos run gives the client a clock 20 times slower than the emulator's, as a user on the real clock
sees an emulator sped up 20 times: the client must measure the server's time by what the server says (issue 14).
"""

from __future__ import annotations

import gc
import json
import os
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

import attrs
from virtualtime import SlowerClock, VirtualClock, running

import fwbatch_async as fw
from fwbatch_async.emulator import Emulator, Faults, JobSpec, LateLines, Realism, Scenario
from fwbatch_async.emulator.wire import parse_timestamp

# hash((log_time ns, rank, message)): the test keeps only this int per line, so the strings and ints the client
# decoded are freed with its entries and the memory samples see the client's own holdings. Equal lines hash equally;
# a 64-bit collision among a million lines is a 1-in-10^7 event.
Line = int

JOBS = int(os.environ.get("FWBATCH_SOAK_JOBS", "8"))
# Long enough that a job's whole log is many lookback windows: a follower keeping what it delivered would show.
SECONDS = float(os.environ.get("FWBATCH_SOAK_SECONDS", "60"))
LINES_PER_SECOND = float(os.environ.get("FWBATCH_SOAK_LINES_PER_SECOND", "20"))
LOOKBACK = 3.0  # longer than the latest line is late (LateLines.max_delay)
SPED_UP = 20.0  # the emulator's speed, seen from the client's clock, in the sped-up chaos run
FAULT_RATE = 0.15
# Every kind on. 429s (and 503s) lower the client's shared request rate; at a fifth of the faults they stay a
# moderate 4 % of requests, which slows polling without stretching the run (no load-dependent throttle needed).
FAULT_WEIGHTS = {
    "429": 2,
    "429_retry_after": 1,
    "500": 2,
    "503": 2,
    "502_html": 2,
    "reset": 2,
    "truncated": 2,
    "slow": 1,
}
CLIENT_TIMEOUT = 0.25  # real seconds; a slow answer waits 1 s, so it always times out
# Faults cost retries: 1 / (1 - 0.15) = 1.18 attempts per answered request, plus a re-read of the window after a
# broken page and the slower polling after failures; 1.5x leaves room for both without hiding a retry storm.
REQUEST_BOUND = 1.5
# A bound on requests is not a bound on time: a client that slows down for every fault stays under the first while
# the follow takes many times as long (issue 19). The jobs run 60 s; the follow ends one drain after the last.
TIME_BOUND = 1.3
# Client memory (allocations made in fwbatch_async outside the emulator) is sampled ten times per run. Fault-free,
# every read reaches the head and the window is pruned, so a leak (growth with lines delivered) would put the second
# half's peak above the first half's. Through chaos the budget slows requests below the log's pace, and a read
# that has not reached the head keeps the keys it passed (late entries may still land among them: design §3),
# so memory there rises until the read ends; what must hold is that nothing is kept once the jobs ended.
MEMORY_MARGIN = 1.25
MEMORY_SLACK = 512 * 1024


def jobs() -> list[JobSpec]:
    return [
        JobSpec(
            id=f"soak-{i:03d}",
            duration=SECONDS,
            lines_per_second=LINES_PER_SECOND,
            ranks=8,
            late=LateLines(fraction=0.05, max_delay=2.0),  # a slow rank: visible up to 2 s after its time
            duplicates=0.02,  # identical lines: same time, rank and message
            start_after=-(i % 5),
        )
        for i in range(JOBS)
    ]


def chaos() -> Faults:
    faults = Faults(rate=FAULT_RATE, kinds=FAULT_WEIGHTS, seed=11, slow_seconds=1.0, retry_after=1)
    # Every kind is met on both endpoints followers use, however short the run; the drawn rate follows.
    for endpoint in ("job", "logs"):
        faults.script(endpoint, [outcome for kind in FAULT_WEIGHTS for outcome in (kind, *["ok"] * 6)])
    return faults


def client_memory() -> int:
    """Bytes held by allocations made in the client package (the emulator's and this test's left out)."""
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [
            tracemalloc.Filter(inclusive=True, filename_pattern="*/fwbatch_async/*"),
            tracemalloc.Filter(inclusive=False, filename_pattern="*/fwbatch_async/emulator/*"),
        ]
    )
    return sum(stat.size for stat in snapshot.statistics("filename"))


@attrs.define
class Soak:
    """What one run delivered and what it cost."""

    lines: int = 0
    stored: int = 0
    lost: int = 0
    duplicated: int = 0
    wrong_states: list[str] = attrs.Factory(list)
    requests: int = 0
    seconds: float = 0.0
    faults: dict[str, int] = attrs.Factory(dict)
    memory: list[int] = attrs.Factory(list)
    memory_after: int = 0


async def soak(*, faults: Faults | None, sample_memory: bool, emulator_speed: float = 1.0) -> Soak:
    """Follow every job to its end; check each job's lines against the emulator's stored log as it ends.

    Every wire quirk is on, ``repeat_end_token`` among them (forward reads always carry a token). With
    ``emulator_speed``, the emulator's clock runs that many times faster than the client's.
    """
    specs = jobs()
    scenario = Scenario(account="acct", seed=7, jobs=specs)
    # Lines are written while a job runs: about 70 % of its life.
    expected_lines = round(0.7 * JOBS * SECONDS * LINES_PER_SECOND)
    sample_every = max(1, expected_lines // 10)
    result = Soak()
    delivered: dict[str, Counter[Line]] = {spec.id: Counter() for spec in specs}
    clock = VirtualClock()
    client_clock = clock if emulator_speed == 1 else SlowerClock(clock, emulator_speed)
    async with (
        running(clock),
        Emulator(scenario, clock=clock, api_key="k", faults=faults, realism=Realism.all()) as emu,
        fw.AsyncClient(
            api_key="k", account_id="acct", base_url=emu.base_url, clock=client_clock, timeout=CLIENT_TIMEOUT
        ) as client,
        client.follow_jobs([spec.id for spec in specs], from_start=True, lookback=LOOKBACK) as stream,
    ):
        async for event in stream:
            if isinstance(event, fw.LogLine):
                entry = event.entry
                delivered[event.job_id][hash((entry.log_time.ns, entry.rank, entry.message))] += 1
                result.lines += 1
                if sample_memory and result.lines % sample_every == 0:
                    result.memory.append(client_memory())
            elif isinstance(event, fw.JobEnded):
                got = delivered.pop(event.job_id)  # checked now and dropped, so memory stays the client's
                stored = Counter(
                    hash((parse_timestamp(t), r, m)) for t, r, m in emu.logs(event.job_id, include_pending=True)
                )
                result.stored += stored.total()
                result.lost += (stored - got).total()
                result.duplicated += (got - stored).total()
                state = event.job.state.short_name if event.job is not None else repr(event.error)
                if state != "COMPLETED":
                    result.wrong_states.append(f"{event.job_id}: {state}")
        result.seconds = clock.monotonic()  # until every job ended: the emulator's clock, started at 0
        result.requests = sum(emu.stats.requests.values())
        result.faults = dict(emu.stats.faults)
    if sample_memory:
        gc.collect()
        result.memory_after = client_memory()
    result.wrong_states += sorted(delivered)  # jobs that never ended
    return result


def report(figures: dict[str, Any]) -> None:
    """Print the figures (``nox -s soak`` runs pytest with ``-s``) and write them where FWBATCH_SOAK_RESULTS says."""
    text = json.dumps(figures, indent=2)
    print(text)  # noqa: T201 - the soak's report
    results = os.environ.get("FWBATCH_SOAK_RESULTS")
    if results:
        Path(results).parent.mkdir(parents=True, exist_ok=True)
        Path(results).write_text(text + "\n")


def peak_rss_bytes() -> int:
    import resource  # noqa: PLC0415 - POSIX only, and only for the report

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def test_every_job_delivers_its_stored_log_exactly_through_chaos_at_bounded_cost() -> None:
    tracemalloc.start()
    try:
        baseline = await soak(faults=None, sample_memory=True)
        chaotic = await soak(faults=chaos(), sample_memory=True)
    finally:
        tracemalloc.stop()
    sped_up = await soak(faults=chaos(), sample_memory=False, emulator_speed=SPED_UP)
    figures: dict[str, Any] = {
        "jobs": JOBS,
        "lines_delivered": chaotic.lines,
        "lost": chaotic.lost,
        "duplicated": chaotic.duplicated,
        "faults_injected": chaotic.faults,
        "fault_share": round(sum(chaotic.faults.values()) / chaotic.requests, 4),
        "requests": chaotic.requests,
        "requests_fault_free": baseline.requests,
        "request_ratio": round(chaotic.requests / baseline.requests, 3),
        "seconds": chaotic.seconds,
        "seconds_fault_free": baseline.seconds,
        "time_ratio": round(chaotic.seconds / baseline.seconds, 3),
        "client_memory_fault_free": baseline.memory,
        "client_memory_chaos": chaotic.memory,
        "client_memory_after": {"fault_free": baseline.memory_after, "chaos": chaotic.memory_after},
        "peak_rss_bytes": peak_rss_bytes(),
        "sped_up": {
            "speed": SPED_UP,
            "lines_delivered": sped_up.lines,
            "lost": sped_up.lost,
            "requests": sped_up.requests,
            "seconds": sped_up.seconds,
        },
    }
    report(figures)

    assert baseline.lost == baseline.duplicated == 0
    assert chaotic.lines == chaotic.stored > 0
    assert chaotic.lost == 0
    assert chaotic.duplicated == 0
    assert chaotic.wrong_states == []
    assert sped_up.lines == sped_up.stored > 0
    assert sped_up.lost == sped_up.duplicated == 0
    assert sped_up.wrong_states == []
    assert set(chaotic.faults) == set(FAULT_WEIGHTS)  # every kind was met
    assert 0.10 <= figures["fault_share"] <= 0.20
    assert chaotic.requests <= REQUEST_BOUND * baseline.requests
    assert chaotic.seconds <= TIME_BOUND * baseline.seconds
    half = len(baseline.memory) // 2
    assert max(baseline.memory[half:]) <= MEMORY_MARGIN * max(baseline.memory[:half]) + MEMORY_SLACK
    assert baseline.memory_after <= MEMORY_SLACK
    assert chaotic.memory_after <= MEMORY_SLACK
