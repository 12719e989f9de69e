"""The examples run as users run them, as scripts in a subprocess, against an emulator served from a thread.

The emulator runs its clock fast (``SPEED``), so a job of a minute ends in half a second; the scripts use the real
clock, as they would in production. For the ground truth (a second emulator of the same
scenario would not do: its lines depend on how its clock advanced), the test asks the served emulator itself for
every line a job holds, once the job has finished.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

import fwbatch_async as fw
from fwbatch_async.emulator import Emulator, JobSpec, LateLines, ScaledClock, Scenario

EXAMPLES = Path(__file__).parents[2] / "examples"
SPEED = 120.0
Line = tuple[int, int, str]


def short_job(job_id: str, outcome: str = "COMPLETED", duration: float = 60.0) -> JobSpec:
    """A job of ``duration`` emulated seconds (half a second of real time per minute), with late lines."""
    return JobSpec(
        id=job_id,
        outcome=outcome,
        duration=duration,
        ranks=2,
        lines_per_second=10.0,
        late=LateLines(fraction=0.05, max_delay=1.0),
    )


def relative(lines: Iterable[Line]) -> Counter[Line]:
    """Lines as (nanoseconds after the first line, rank, message) with multiplicity."""
    listed = list(lines)
    first = min(ns for ns, _, _ in listed)
    return Counter((ns - first, rank, message) for ns, rank, message in listed)


class EmulatorThread:
    """An emulator of ``scenario`` on a free port of 127.0.0.1, served by its own event loop in a thread."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self._ready: Future[Emulator[ScaledClock]] = Future()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)
        self._thread.start()
        emulator = self._emulator = self._ready.result(timeout=30)
        self.env = {
            **os.environ,
            "FIREWORKS_BASE_URL": emulator.base_url,
            "FIREWORKS_ACCOUNT_ID": emulator.account_id,
            "FIREWORKS_API_KEY": "example-key",
        }

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        clock = ScaledClock(speed=SPEED)
        async with Emulator(self.scenario, clock=clock, api_key="example-key") as emulator:
            self._ready.set_result(emulator)
            await self._stop.wait()

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        assert self._loop is not None
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)

    def truth(self, job_id: str) -> Counter[Line]:
        """Every line the job holds, late ones included (all of them, once the job has finished)."""

        async def read() -> list[tuple[str, int, str]]:  # on the emulator's loop, which owns its state
            return self._emulator.logs(job_id, include_pending=True)

        assert self._loop is not None
        entries = asyncio.run_coroutine_threadsafe(read(), self._loop).result(timeout=30)
        return relative((fw.Timestamp.parse(text).ns, rank, message) for text, rank, message in entries)

    def run(self, script: str, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """Run ``examples/<script>`` with ``args`` against this emulator; its output is captured as text."""
        return subprocess.run(
            [sys.executable, str(EXAMPLES / script), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, script: str, *args: str) -> subprocess.Popen[str]:
        """Start ``examples/<script>`` with ``args``; read its output from ``stdout`` and ``stderr``."""
        return subprocess.Popen(
            [sys.executable, str(EXAMPLES / script), *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def scenario() -> Scenario:
    """What the emulator serves; a test replaces it by parametrizing ``scenario``."""
    return Scenario(account="examples", seed=5, jobs=[short_job("job-ok"), short_job("job-bad", "FAILED")])


@pytest.fixture
def emulator(scenario: Scenario) -> Iterator[EmulatorThread]:
    """A running emulator serving ``scenario``."""
    served = EmulatorThread(scenario)
    yield served
    served.stop()
