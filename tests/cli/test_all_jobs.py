"""``fwbatch watch --all`` and ``follow --all``: the unfinished jobs of the account, and those created later.

The emulator's clock stands still until a test moves it: a job created while the command runs is added before the
clock lets the jobs finish, and the command is seen to pick it up (its first line) before the clock moves on.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from typing import Any

import pexpect
import pytest

from fwbatch_async import Timestamp
from fwbatch_async.emulator import Emulator, JobSpec, ManualClock

from .clikit import DEADLINE, FWBATCH, NO_LATE_LINES, Fwbatch, Key, held

pytestmark = pytest.mark.timeout(120)

LATE_JOB = JobSpec(id="late-job", requests=300, ranks=2, duration=100, late=NO_LATE_LINES)


async def read_until(process: asyncio.subprocess.Process, job_id: str) -> list[str]:
    """Lines of stdout up to the first that names ``job_id``."""
    assert process.stdout is not None
    lines: list[str] = []
    while job_id not in (lines[-1] if lines else ""):
        line = await asyncio.wait_for(process.stdout.readline(), DEADLINE)
        assert line, f"stdout ended before {job_id} showed: {lines}"
        lines.append(line.decode())
    return lines


async def run_with_a_late_job(
    fwbatch: Fwbatch, emulator: Emulator[ManualClock], *args: str
) -> tuple[int | None, str, str]:
    """Run the command; once it shows running-job, create late-job; once it shows that, let every job finish."""
    process = await fwbatch.start(*args)
    out = await read_until(process, "running-job")
    emulator.add_job(LATE_JOB)
    out += await read_until(process, "late-job")  # found by a listing, within seconds
    emulator.clock.advance(700)
    rest, err = await asyncio.wait_for(process.communicate(), DEADLINE)
    return process.returncode, "".join(out) + rest.decode(), err.decode()


def lines_by_job(events: list[dict[str, Any]]) -> dict[str, Counter[Key]]:
    lines: dict[str, Counter[Key]] = {}
    for event in events:
        if event["event"] == "log":
            key = (Timestamp.parse(event["logTime"]).ns, event["rank"], event["message"])
            lines.setdefault(event["job"], Counter())[key] += 1
    return lines


async def test_follow_all_follows_the_unfinished_jobs_and_one_created_later_to_their_ends(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    code, out, err = await run_with_a_late_job(fwbatch, fwbatch_emulator, "follow", "--all", "--json")
    assert (code, err) == (0, "")
    events = [json.loads(line) for line in out.splitlines()]
    assert {event["job"] for event in events} == {"running-job", "late-job"}  # the finished jobs are left out
    assert lines_by_job(events) == {job: held(fwbatch_emulator, job) for job in ("running-job", "late-job")}
    ends = {event["job"]: event["state"] for event in events if event["event"] == "end"}
    assert ends == {"running-job": "JOB_STATE_COMPLETED", "late-job": "JOB_STATE_COMPLETED"}


async def test_watch_all_watches_the_unfinished_jobs_and_one_created_later_to_their_ends(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    code, out, err = await run_with_a_late_job(fwbatch, fwbatch_emulator, "watch", "--all")
    assert (code, err) == (0, "")
    assert {line.split()[0] for line in out.splitlines()} == {"running-job", "late-job"}
    assert out.splitlines()[-2:] == ["running-job ended COMPLETED", "late-job ended COMPLETED"]


async def test_state_chooses_the_jobs_of_all(fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]) -> None:
    fwbatch_emulator.clock.advance(120)  # running-job runs
    process = await fwbatch.start("watch", "--all", "--state", "running,failed")
    assert (await read_until(process, "running-job"))[0].startswith("running-job RUNNING")
    fwbatch_emulator.add_job(LATE_JOB)  # not running yet: left out until it runs
    fwbatch_emulator.clock.advance(50)
    await read_until(process, "late-job RUNNING")
    fwbatch_emulator.clock.advance(700)
    out, err = await asyncio.wait_for(process.communicate(), DEADLINE)
    assert (process.returncode, err) == (0, b"")
    assert out.decode().splitlines()[-2:] == ["running-job ended COMPLETED", "late-job ended COMPLETED"]


async def test_watch_all_on_a_terminal_adds_a_bar_for_a_job_created_later(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    env = {k: v for k, v in fwbatch.env.items() if k not in {"COLUMNS", "LINES"}} | {"TERM": "xterm-256color"}
    child = pexpect.spawn(
        str(FWBATCH), ["watch", "--all"], env=env, encoding="utf-8", dimensions=(24, 80), timeout=DEADLINE
    )
    # pexpect blocks: it waits in a thread while this loop serves the emulator.
    await asyncio.to_thread(child.expect, "running-job")
    fwbatch_emulator.add_job(LATE_JOB)
    await asyncio.to_thread(child.expect, "late-job")
    fwbatch_emulator.clock.advance(700)
    await asyncio.to_thread(child.expect, pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", child.before or "")
    assert re.search(r"running-job +COMPLETED", screen)
    assert re.search(r"late-job +COMPLETED", screen)


@pytest.mark.parametrize("command", ["watch", "follow"])
async def test_all_with_no_unfinished_job_says_so_and_exits_0(fwbatch: Fwbatch, command: str) -> None:
    result = await fwbatch.run(command, "--all", "--state", "completed,failed")  # those have finished
    assert (result.code, result.out, result.err) == (0, "", "fwbatch: no unfinished jobs\n")


@pytest.mark.parametrize("command", ["watch", "follow"])
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["done-job", "--all"], "give job ids or --all, not both"),
        (["--state", "running", "done-job"], "--state goes with --all"),
        ([], "Missing argument 'JOB...' (or --all)"),
        (["--all", "--state", "nope"], "unknown job state 'nope'"),
    ],
)
async def test_ids_and_all_together_or_neither_is_bad_usage(
    fwbatch: Fwbatch, command: str, args: list[str], message: str
) -> None:
    result = await fwbatch.run(command, *args)
    assert (result.code, result.out) == (2, "")
    assert message in result.err
