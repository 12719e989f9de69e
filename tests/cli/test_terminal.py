"""``fwbatch watch``, ``follow`` and ``demo`` in a pseudo-terminal: the live display renders and finishes."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
from testkit import read_exports

from fwbatch_async.emulator import JobSpec, Scenario

from .clikit import FWBATCH, NO_LATE_LINES

pytestmark = pytest.mark.timeout(120)

BAR = "━"  # rich's progress bar
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def spawn(*args: str, env: dict[str, str]) -> pexpect.spawn[str]:
    return pexpect.spawn(str(FWBATCH), list(args), env=env, encoding="utf-8", dimensions=(40, 140), timeout=60)


@pytest.fixture
def terminal_env() -> dict[str, str]:
    # COLUMNS and LINES (set by some runners) would override the pseudo-terminal's own size.
    skipped = ("FIREWORKS_", "NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skipped)}
    return env | {"TERM": "xterm-256color", "PYTHONWARNINGS": "error"}


@contextlib.contextmanager
def emulator_process(scenario: Scenario, path: Path, env: dict[str, str]) -> Iterator[dict[str, str]]:
    """``fwbatch emulator`` in its own process at 200x real time serving ``scenario``; ``env`` pointing at it."""
    path.write_text(json.dumps(scenario.to_json()))
    process = subprocess.Popen(
        [str(FWBATCH), "emulator", "--port", "0", "--speed", "200", "--scenario", str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env=env | {"PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    try:
        yield env | read_exports(process.stdout)
    finally:  # also when the test failed: no emulator outlives it
        process.terminate()
        process.communicate(timeout=30)


@pytest.fixture
def served(tmp_path: Path, terminal_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """Two jobs of 10 emulated minutes, one failing."""
    scenario = Scenario(
        account="tty-account",
        seed=5,
        jobs=[
            JobSpec(id="tty-ok", requests=3000, ranks=2, duration=600, late=NO_LATE_LINES),
            JobSpec(id="tty-bad", requests=3000, ranks=2, duration=600, outcome="FAILED", late=NO_LATE_LINES),
        ],
    )
    with emulator_process(scenario, tmp_path / "scenario.json", terminal_env) as env:
        yield env


def test_watch_shows_live_bars_and_ends_with_the_outcome(served: dict[str, str]) -> None:
    child = spawn("watch", "tty-ok", "tty-bad", env=served)
    child.expect("RUNNING")
    child.expect(BAR)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1  # one job failed
    screen = ANSI.sub("", child.before or "")
    assert "COMPLETED" in screen
    assert "FAILED" in screen
    assert "Traceback" not in screen


def test_ctrl_c_on_a_live_follow_exits_130_and_leaves_a_clean_line(served: dict[str, str]) -> None:
    child = spawn("follow", "tty-ok", "tty-bad", env=served)
    child.expect(r"\[tty-(ok|bad)/\d\]")
    child.expect("jobs: ")  # the status line
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert "Traceback" not in (child.before or "")


def test_demo_runs_to_the_end_in_a_terminal(terminal_env: dict[str, str]) -> None:
    child = spawn("demo", "--speed", "600", env=terminal_env)
    child.expect("newest log lines")
    child.expect(BAR)
    child.expect(r"log lines received, each exactly once")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_watch_shows_a_stalled_job_on_the_board(tmp_path: Path, terminal_env: dict[str, str]) -> None:
    stuck = JobSpec(id="tty-stuck", requests=3000, ranks=2, duration=600, start_after=-300, outcome="STUCK")
    scenario = Scenario(account="tty-account", seed=5, jobs=[stuck])
    with emulator_process(scenario, tmp_path / "scenario.json", terminal_env) as env:
        child = spawn("watch", "tty-stuck", "--stall-after", "1", env=env)
        child.expect("RUNNING")
        child.expect(r"no progress for \d+[smhd]")
        child.sendintr()
        child.expect(pexpect.EOF)
        child.close()
    assert child.exitstatus == 130


@pytest.mark.parametrize("columns", [80, 40])
@pytest.mark.parametrize("command", ["status", "list"])
def test_status_and_list_on_a_narrow_terminal_drop_columns_but_never_cut_an_id_or_a_state(
    tmp_path: Path, terminal_env: dict[str, str], columns: int, command: str
) -> None:
    ids = [f"nightly-evaluation-shard-{n:04}" for n in range(3)]
    # Created a second apart, newest last: `list` shows them newest first.
    jobs = [
        JobSpec(id=job_id, requests=3000, ranks=2, duration=600, start_after=n - 700) for n, job_id in enumerate(ids)
    ]
    with emulator_process(Scenario(account="tty-account", seed=5, jobs=jobs), tmp_path / "s.json", terminal_env) as env:
        args = [command, *ids] if command == "status" else [command]
        child = pexpect.spawn(str(FWBATCH), args, env=env, encoding="utf-8", dimensions=(40, columns), timeout=60)
        child.expect(pexpect.EOF)
        child.close()
    assert child.exitstatus == 0
    header, *rows = ANSI.sub("", child.before or "").splitlines()
    assert header.split()[:2] == ["JOB", "STATE"]
    assert "MODEL" not in header  # model and tokens are for -o wide
    shown = ids if command == "status" else ids[::-1]
    assert [row.split()[:2] for row in rows] == [[job_id, "COMPLETED"] for job_id in shown]
    assert all(len(line) <= columns for line in [header, *rows])
    assert "…" not in header + "".join(rows)
