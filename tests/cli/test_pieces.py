"""The command's pure pieces: reading --since, writing lines, exit codes from outcomes."""

from __future__ import annotations

import io
from datetime import timedelta

import msgspec
import pytest

import fwbatch_async as fw
from fwbatch_async.cli.board import describe_end, describe_update
from fwbatch_async.cli.jobtable import format_expiry, progress_text
from fwbatch_async.cli.lines import LineWriter, use_colour
from fwbatch_async.cli.outcome import ExitCode, job_outcome, run
from fwbatch_async.cli.timespec import parse_since

ENTRY = fw.LogEntry(fw.Timestamp.parse("2026-11-22T04:00:00.000000001Z"), 3, "line one\nline two")


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("10m", 600), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("1d2h3m4s", 93784)]
)
def test_since_reads_durations(text: str, seconds: int) -> None:
    assert parse_since(text) == timedelta(seconds=seconds)


def test_since_reads_rfc3339_to_the_nanosecond() -> None:
    assert parse_since("2026-11-22T05:00:00.123456789+01:00") == fw.Timestamp.parse("2026-11-22T04:00:00.123456789Z")


@pytest.mark.parametrize("text", ["", "10", "m", "-5m", "10 m", "yesterday", "2026-11-22T04:00:00"])
def test_since_rejects_anything_else_naming_both_forms(text: str) -> None:
    with pytest.raises(ValueError, match="neither a duration"):
        parse_since(text)


def test_plain_lines_have_a_rank_prefix_and_keep_messages_whole() -> None:
    out = io.StringIO()
    LineWriter(out, colour=False).entry(ENTRY)
    LineWriter(out, colour=False, timestamps=True, show_job=True).entry(ENTRY, "job-a")
    assert out.getvalue() == "[3] line one\nline two\n2026-11-22T04:00:00.000000001Z [job-a/3] line one\nline two\n"


def test_colours_are_stable_per_rank_and_per_job() -> None:
    def prefix(entry: fw.LogEntry, job: str | None = None, *, show_job: bool = False) -> str:
        return LineWriter(io.StringIO(), colour=True, show_job=show_job).format(entry, job).split("[", 2)[1]

    other_rank = msgspec.structs.replace(ENTRY, rank=4)
    assert prefix(ENTRY) == prefix(ENTRY)
    assert prefix(ENTRY) != prefix(other_rank)
    assert prefix(ENTRY, "job-a", show_job=True) == prefix(other_rank, "job-a", show_job=True)  # one colour a job


def test_json_lines_carry_the_full_precision_time() -> None:
    out = io.StringIO()
    LineWriter(out, colour=False, output="json", show_job=True).entry(ENTRY, "job-a")
    assert out.getvalue() == (
        '{"job":"job-a","logTime":"2026-11-22T04:00:00.000000001Z","rank":3,"message":"line one\\nline two"}\n'
    )


def test_the_status_line_is_redrawn_below_each_line_on_a_terminal_only() -> None:
    tty, pipe = io.StringIO(), io.StringIO()
    for stream, colour in ((tty, True), (pipe, False)):
        writer = LineWriter(stream, colour=colour)
        writer.status("2 jobs")
        writer.entry(msgspec.structs.replace(ENTRY, message="x"))
        writer.end_status()
    assert tty.getvalue().endswith("x\n2 jobs\n")
    assert pipe.getvalue() == "[3] x\n"


def test_colour_follows_the_terminal_and_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert not use_colour(io.StringIO())
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert use_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(io.StringIO())


def ended(state: fw.JobState | None, error: fw.FwBatchError | None = None) -> fw.JobEnded:
    job = None if state is None else fw.BatchInferenceJob(name="accounts/a/batchInferenceJobs/j", state=state)
    return fw.JobEnded("j", job, error)


@pytest.mark.parametrize(
    ("ends", "code"),
    [
        ([ended(fw.JobState.COMPLETED)], ExitCode.OK),
        ([ended(fw.JobState.COMPLETED), ended(fw.JobState.FAILED)], ExitCode.JOB_FAILED),
        ([ended(fw.JobState.EXPIRED)], ExitCode.JOB_FAILED),
        ([ended(fw.JobState.CANCELLED)], ExitCode.JOB_FAILED),
        ([ended(fw.JobState.FAILED), ended(None, fw.FwBatchError("gone"))], ExitCode.API),
    ],
)
def test_the_exit_code_mirrors_the_outcomes(ends: list[fw.JobEnded], code: ExitCode) -> None:
    assert job_outcome(ends) is code


async def _bug() -> ExitCode:
    raise ValueError("a library bug, not the user's mistake")


async def _bad_argument() -> ExitCode:
    raise fw.ArgumentError("job_id 'a b' contains ' ', which no id may contain")


def test_only_argument_errors_are_usage_errors_and_a_bug_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    """A library bug that raises ValueError is not the user's bad usage (issue 15)."""
    assert run(_bad_argument()) is ExitCode.USAGE
    assert capsys.readouterr().err == "fwbatch: error: job 'a b' contains ' ', which no id may contain\n"
    assert run(_bug()) is ExitCode.INTERNAL
    err = capsys.readouterr().err
    assert err.startswith("fwbatch: error: internal error, please report it: ValueError: a library bug")
    assert err.count("\n") == 1


# --- issue 16: what live jobs show ----------------------------------------------------------------------------------

LIVE_NAME = "accounts/a/batchInferenceJobs/j"


def test_a_job_waiting_on_capacity_says_so_with_its_time_to_expiry() -> None:
    expire_time = fw.Timestamp.parse("2100-01-01T00:00:00Z")
    job = fw.BatchInferenceJob(
        name=LIVE_NAME, state=fw.JobState.PENDING, waiting_on_capacity=True, expire_time=expire_time
    )
    assert format_expiry(job, now=expire_time.ns / 1e9 - 3 * 3600 - 120) == "in 3h2m"
    update = fw.JobUpdate(job, None, frozenset({fw.Change.FIRST}))
    assert describe_update(update).startswith("j PENDING, waiting on capacity (expiry in ")
    assert format_expiry(job, now=expire_time.ns / 1e9 + 1) == "past due"


def test_progress_never_shows_more_processed_than_its_total() -> None:
    progress = fw.JobProgress(total_input_requests=100, total_processed_requests=104)
    assert progress_text(progress) == "104/104"
    assert progress_text(fw.JobProgress()) == "-"


def test_a_successful_end_says_how_long_the_job_ran() -> None:
    lifecycle = fw.Lifecycle(
        run_start_time=fw.Timestamp.parse("2026-12-01T10:00:00Z"), end_time=fw.Timestamp.parse("2026-12-01T11:02:30Z")
    )
    job = fw.BatchInferenceJob(name=LIVE_NAME, state=fw.JobState.COMPLETED, lifecycle=lifecycle)
    assert describe_end(fw.JobEnded("j", job, None)) == "j ended COMPLETED after running 1h2m"


def test_a_deleted_job_ends_with_the_servers_reason() -> None:
    job = fw.BatchInferenceJob(
        name=LIVE_NAME, state=fw.JobState.DELETED, status=fw.Status("NOT_FOUND", "resource not found")
    )
    assert describe_end(fw.JobEnded("j", job, None)) == "j ended DELETED (NOT_FOUND): resource not found"
