"""Each example script, run as a user would, against an emulator subprocess; their output checked against the truth."""

from __future__ import annotations

import json
import select
import signal
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

import fwbatch_async as fw
from fwbatch_async.emulator import Scenario

from .conftest import EmulatorThread, Line, relative, short_job

HUNDRED_JOBS = Scenario(
    account="examples",
    seed=9,
    jobs=[short_job(f"job-{n:03}", "FAILED" if n % 10 == 0 else "COMPLETED", duration=30.0) for n in range(100)],
)
LONG_JOB = Scenario(account="examples", seed=4, jobs=[short_job("job-long", duration=240.0)])
SIX_JOBS = Scenario(account="examples", seed=6, jobs=[short_job(f"job-{n}", duration=120.0) for n in range(6)])


def parse_tail(lines: Iterable[str]) -> list[Line]:
    """``tail_logs.py`` output, without its closing ``--`` line."""
    parsed = []
    for text in lines:
        if text and not text.startswith("--"):
            time, rank, message = text.rstrip("\n").split(" ", 2)
            parsed.append((fw.Timestamp.parse(time).ns, int(rank.strip("[]")), message))
    return parsed


def test_wait_for_job_prints_the_final_state_and_exits_0_on_success(emulator: EmulatorThread) -> None:
    result = emulator.run("wait_for_job.py", "job-ok")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("job-ok: COMPLETED,")


def test_wait_for_job_exits_1_with_the_servers_reason_on_failure(emulator: EmulatorThread) -> None:
    result = emulator.run("wait_for_job.py", "job-bad")
    assert result.returncode == 1, result.stderr
    assert "ended FAILED" in result.stdout
    assert "last state: FAILED" in result.stdout


def test_tail_until_finished_prints_every_line_once_and_ends_with_the_job(
    emulator: EmulatorThread, scenario: Scenario
) -> None:
    result = emulator.run("tail_logs.py", "job-ok", "-n", "5000", "--until-finished", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "-- job-ok ended: COMPLETED"
    assert relative(parse_tail(result.stdout.splitlines())) == emulator.truth("job-ok")


def read_lines(process: subprocess.Popen[str], count: int, *, quiet_for: float = 20.0) -> list[str]:
    """Up to ``count`` lines of ``process``'s output; fewer if it prints nothing for ``quiet_for`` seconds or ends.

    A lost line must fail the test with the difference, not hang it until the suite's timeout.
    """
    assert process.stdout is not None
    lines: list[str] = []
    while len(lines) < count:
        ready, _, _ = select.select([process.stdout], [], [], quiet_for)
        line = process.stdout.readline() if ready else ""
        if not line:
            break
        lines.append(line)
    return lines


def interrupted_tail(emulator: EmulatorThread, cursor_file: Path, lines_wanted: int) -> tuple[list[str], str]:
    """Run ``tail -f`` until it printed ``lines_wanted`` lines, interrupt it (Ctrl-C): all it printed, and stderr."""
    tail = emulator.start("tail_logs.py", "job-long", "-n", "5000", "--cursor-file", str(cursor_file))
    try:
        printed = read_lines(tail, lines_wanted)
        tail.send_signal(signal.SIGINT)
        rest, errors = tail.communicate(timeout=30)
    finally:
        if tail.poll() is None:  # the test failed while it ran: leave no process behind
            tail.kill()
            tail.communicate()
    assert tail.returncode == 0, errors
    return printed + rest.splitlines(), errors


@pytest.mark.parametrize("scenario", [LONG_JOB])
def test_tail_interrupted_and_rerun_with_its_cursor_file_repeats_and_loses_nothing(
    emulator: EmulatorThread, scenario: Scenario, tmp_path: Path
) -> None:
    cursor_file = tmp_path / "cursor.json"
    first, _ = interrupted_tail(emulator, cursor_file, 20)
    assert cursor_file.exists()
    assert emulator.run("wait_for_job.py", "job-long").returncode == 0
    expected = emulator.truth("job-long")
    # The rerun reads until the job's last line: one line repeated would end it early, one lost would stop it short.
    second, errors = interrupted_tail(emulator, cursor_file, expected.total() - len(parse_tail(first)))
    delivered = relative(parse_tail(first + second))
    lost, repeated = expected - delivered, delivered - expected
    diagnosis = f"lost {sorted(lost)[:5]}, repeated {sorted(repeated)[:5]}; stderr: {errors}"
    assert (lost.total(), repeated.total()) == (0, 0), diagnosis


@pytest.mark.parametrize("scenario", [HUNDRED_JOBS])
def test_follow_many_summarises_a_hundred_jobs_with_every_line_counted(
    emulator: EmulatorThread, scenario: Scenario
) -> None:
    result = emulator.run("follow_many.py", "--all", "--lookback", "1", timeout=120)
    assert result.returncode == 1, result.stderr  # ten of them fail
    summary = result.stdout.splitlines()
    assert summary[-1] == "100 jobs: 90 succeeded, 10 did not"
    for line, spec in zip(summary[:-1], scenario.jobs, strict=True):
        assert line == f"{spec.id}\t{spec.outcome}\t{emulator.truth(spec.id).total()} lines"


@pytest.mark.parametrize("scenario", [SIX_JOBS])
def test_sharded_workers_killed_midway_resume_from_their_checkpoints_without_loss_or_repeats(
    emulator: EmulatorThread, scenario: Scenario, tmp_path: Path
) -> None:
    ids = [spec.id for spec in scenario.jobs]
    common = ["--shards", "3", "--state-dir", str(tmp_path), "--checkpoint-every", "20", "--lookback", "1"]
    crashed = emulator.run("sharded.py", *ids, *common, "--crash-after", "50")
    assert crashed.returncode == 1, crashed.stderr
    assert list(tmp_path.glob("*.checkpoint"))  # some progress was saved before the crash...
    resumed = emulator.run("sharded.py", *ids, *common, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    for job_id in ids:
        written = [json.loads(line) for line in (tmp_path / f"{job_id}.jsonl").read_text().splitlines()]
        lines = [(fw.Timestamp.parse(w["time"]).ns, w["rank"], w["message"]) for w in written]
        assert relative(lines) == emulator.truth(job_id), job_id  # ...and the rerun completed it exactly


def test_the_examples_refuse_to_run_without_job_ids(emulator: EmulatorThread) -> None:
    result = emulator.run("follow_many.py")
    assert result.returncode == 2
    assert "give job ids or --all" in result.stderr
