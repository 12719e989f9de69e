"""Restart safety: a follower process killed with SIGKILL mid-stream and restarted from its saved cursor.

The follower (``restart_follower.py``) prints each entry, then commits the cursor after it together with the
entry's sequence number in one atomic file write. An entry counts as delivered once its commit landed: the library
guarantees that resuming from a saved cursor delivers exactly the entries after it, so a line printed but not yet
committed when the kill came is delivered again by the next process, and must be (users commit their output and
the cursor together, or make the output idempotent). The emulator runs in this process, on a manual clock; the job
keeps writing while the followers read and while none runs.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fwbatch_async.emulator import Emulator, JobSpec, ManualClock, Scenario
from fwbatch_async.emulator.wire import NS_PER_SECOND, parse_timestamp

FOLLOWER = Path(__file__).with_name("restart_follower.py")
ROUNDS = 12  # rounds of one emulated second of log
PER_ROUND = 25
LATE_DELAY = 2.0  # late lines become visible this long after their time (a slow rank)
STEP = 12  # the job writes a round each time a follower has delivered this many more lines
GUARD = 60.0  # real seconds before a stuck follower fails the test

Line = tuple[int, int, str]


class Job:
    """The job's log, written round by round as the followers read it, then ended with an ``END`` line."""

    def __init__(self, emu: Emulator[ManualClock]) -> None:
        self.emu = emu
        self.rounds = 0
        self.ended = False

    def write_round(self) -> None:
        if self.rounds == ROUNDS:
            self._end()
            return
        self.rounds += 1
        clock = self.emu.clock
        clock.advance(1.0)
        start = clock.time_ns() - NS_PER_SECOND
        lines = [
            (start + i * NS_PER_SECOND // PER_ROUND, i % 4, f"round {self.rounds} line {i}") for i in range(PER_ROUND)
        ]
        lines += lines[::10]  # identical lines: same time, rank and message
        self.emu.append_logs("j", lines[:-3])
        self.emu.append_logs("j", lines[-3:], visible_after=LATE_DELAY)

    def _end(self) -> None:
        if self.ended:
            return
        self.ended = True
        self.emu.clock.advance(LATE_DELAY + 1.0)  # every late line is visible before END is
        self.emu.append_logs("j", [(self.emu.clock.time_ns(), 0, "END")])


async def run_follower(
    emu: Emulator[ManualClock], job: Job, state: Path, kill_after: int | None
) -> list[dict[str, Any]]:
    """Run a follower; SIGKILL it after ``kill_after`` printed lines, or let it reach END. Returns what it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(FOLLOWER), emu.base_url, emu.account_id, emu.api_key, "j", str(state),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    printed: list[dict[str, Any]] = []
    async with asyncio.timeout(GUARD):
        while raw := await process.stdout.readline():
            printed.append(json.loads(raw))
            if len(printed) % STEP == 0:
                job.write_round()
            if len(printed) == kill_after:
                process.send_signal(signal.SIGKILL)
                printed += [json.loads(rest) for rest in (await process.stdout.read()).splitlines()]
                break
        code = await process.wait()
    assert code == (-signal.SIGKILL if kill_after is not None else 0)
    return printed


def committed(printed: list[dict[str, Any]], state: Path) -> Counter[Line]:
    """The printed lines whose commit landed (none if the kill came before the first commit)."""
    last = json.loads(state.read_text())["seq"] if state.exists() else 0
    return Counter((p["time"], p["rank"], p["message"]) for p in printed if p["seq"] <= last)


@pytest.mark.parametrize("kill_after", [1, 40, 150])
async def test_a_follower_killed_mid_stream_resumes_from_its_cursor_without_repeating_or_missing(
    kill_after: int, tmp_path: Path
) -> None:
    scenario = Scenario(account="acct", jobs=[JobSpec(id="j", generate_logs=False, duration=3600.0, start_after=-5.0)])
    state = tmp_path / "state.json"
    async with Emulator(scenario, clock=ManualClock(), api_key="k") as emu:
        job = Job(emu)
        for _ in range(3):
            job.write_round()
        printed = await run_follower(emu, job, state, kill_after)
        before = committed(printed, state)
        job.write_round()  # the job goes on writing while no follower runs
        after_printed = await run_follower(emu, job, state, None)
        stored = Counter((parse_timestamp(t), r, m) for t, r, m in emu.logs("j", include_pending=True))
    after = Counter((p["time"], p["rank"], p["message"]) for p in after_printed)
    assert len(printed) >= kill_after
    assert before.total() < stored.total() // 2  # killed mid-stream, with most of the log still to come
    assert job.ended
    assert after_printed[-1]["message"] == "END"
    assert before + after == stored
