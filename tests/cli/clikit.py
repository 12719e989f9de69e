"""Running the installed ``fwbatch`` as a subprocess against an emulator in the test process, and what it holds."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import attrs

from fwbatch_async.emulator import Emulator, JobSpec, LateLines, Scenario

FWBATCH = Path(sys.executable).with_name("fwbatch")
API_KEY = "fw-cli-test-secret-0123456789"
ACCOUNT = "cli-account"
# Every run of the command ends well within this; a hang fails the test instead of stalling CI.
DEADLINE = 60.0
NO_LATE_LINES = LateLines(fraction=0.0, max_delay=0.0)

Key = tuple[int, int, str]


def scenario() -> Scenario:
    """Two jobs that finished before the emulator started, one still to run, and one not created yet."""
    return Scenario(
        account=ACCOUNT,
        seed=11,
        jobs=[
            JobSpec(id="done-job", requests=400, ranks=2, duration=300, start_after=-400, late=NO_LATE_LINES),
            JobSpec(
                id="failed-job",
                requests=300,
                ranks=2,
                duration=200,
                start_after=-300,
                outcome="FAILED",
                status_message="rank 1 ran out of memory",
                late=NO_LATE_LINES,
            ),
            JobSpec(id="running-job", requests=2000, ranks=3, duration=600, late=NO_LATE_LINES),
        ],
    )


def held(emulator: Emulator[Any], job_id: str) -> Counter[Key]:
    """The lines the emulator holds for a job, as a multiset."""
    from fwbatch_async import Timestamp  # noqa: PLC0415

    return Counter((Timestamp.parse(text).ns, rank, message) for text, rank, message in emulator.logs(job_id))


@attrs.frozen
class Result:
    code: int
    out: str
    err: str


@attrs.define
class Fwbatch:
    """Runs the installed command with the emulator's address and key in its environment."""

    env: dict[str, str]

    async def start(self, *args: str, **env: str) -> asyncio.subprocess.Process:
        if not FWBATCH.exists():
            raise RuntimeError(f"{FWBATCH} is not installed: install the package with its cli extra")
        return await asyncio.create_subprocess_exec(
            str(FWBATCH),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**self.env, **env},
        )

    async def run(self, *args: str, **env: str) -> Result:
        process = await self.start(*args, **env)
        out, err = await asyncio.wait_for(process.communicate(), DEADLINE)
        assert process.returncode is not None
        return Result(process.returncode, out.decode(), err.decode())
