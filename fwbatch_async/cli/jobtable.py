"""Jobs as a table (``fwbatch status``, the demo's summary) and as JSON."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Final, TextIO

import orjson
from rich.console import Console
from rich.table import Table

import fwbatch_async as fw
from fwbatch_async._core.jobs import failure_reason

from .lines import use_colour

__all__ = [
    "console_for",
    "failure_lines",
    "format_age",
    "format_duration",
    "format_expiry",
    "job_table",
    "jobs_json",
    "progress_text",
    "show_jobs",
    "state_text",
    "styled_state",
]

_STATE_STYLES: Final = {
    fw.StateCategory.SUCCESS: "green",
    fw.StateCategory.FAILURE: "red",
    fw.StateCategory.CANCELLED: "yellow",
    fw.StateCategory.GONE: "yellow",
    fw.StateCategory.PARTIAL: "yellow",
}
# A pipe has no width: a wide console keeps each job on one line instead of wrapping at 80 columns.
_PIPE_WIDTH: Final = 1000


def console_for(stream: TextIO, *, colour: bool) -> Console:
    """A rich console on ``stream``, plain text when ``colour`` is off; as wide as a terminal, or a pipe's width.

    The width follows the stream, not the colour: ``FORCE_COLOR=1 fwbatch status ... | cat`` keeps whole lines.
    """
    width = None if stream.isatty() else _PIPE_WIDTH
    if colour:
        return Console(file=stream, force_terminal=True, highlight=False, width=width)
    return Console(file=stream, no_color=True, width=width or _PIPE_WIDTH, highlight=False, force_terminal=False)


def format_duration(seconds: int) -> str:
    """``45s``, ``12m``, ``3h5m`` or ``2d4h``."""
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if days:
        return f"{days}d{hours % 24}h"
    if hours:
        return f"{hours}h{minutes % 60}m"
    if minutes:
        return f"{minutes}m"
    return f"{seconds}s"


def format_age(job: fw.BatchInferenceJob, now: float | None = None) -> str:
    """How long ago a job was created, as ``45s``, ``12m``, ``3h5m`` or ``2d4h``.

    Example:
        >>> job = fw.BatchInferenceJob(create_time=fw.Timestamp.parse("2026-11-22T04:00:00Z"))
        >>> format_age(job, now=job.create_time.ns / 1e9 + 3 * 3600 + 300)
        '3h5m'
    """
    if job.create_time is None:
        return "-"
    return format_duration(max(0, int((time.time() if now is None else now) - job.create_time.ns / 1e9)))


def format_expiry(job: fw.BatchInferenceJob, now: float | None = None) -> str:
    """How long an unfinished job has before it expires (``in 23h5m``, ``past due``), ``-`` if it cannot.

    Example:
        >>> expire_time = fw.Timestamp.parse("2026-11-23T04:00:00Z")
        >>> job = fw.BatchInferenceJob(state=fw.JobState.PENDING, expire_time=expire_time)
        >>> format_expiry(job, now=expire_time.ns / 1e9 - 5 * 3600)
        'in 5h0m'
    """
    if job.expire_time is None or job.state.is_finished:
        return "-"
    left = int(job.expire_time.ns / 1e9 - (time.time() if now is None else now))
    return f"in {format_duration(left)}" if left > 0 else "past due"


def progress_text(progress: fw.JobProgress | None) -> str:
    """``processed/total`` with thousands separators, ``-`` before the job reports any.

    The total is never below the processed count: live servers echo the declared dataset size, which processing can
    pass.
    """
    if progress is None:
        return "-"
    processed = progress.total_processed_requests
    total = max(progress.total_input_requests, processed)
    return f"{processed:,}/{total:,}" if total else "-"


def state_text(job: fw.BatchInferenceJob) -> str:
    """The job's state, and that it waits on capacity when it says so.

    Example:
        >>> state_text(fw.BatchInferenceJob(state=fw.JobState.PENDING, waiting_on_capacity=True))
        'PENDING, waiting on capacity'
    """
    name = job.state.short_name
    return f"{name}, waiting on capacity" if job.waiting_on_capacity else name


def styled_state(job: fw.BatchInferenceJob) -> str:
    """The job's state in rich markup: green for success, red for failure, cyan while it runs."""
    style = _STATE_STYLES.get(job.state.category, "cyan" if job.state.is_active else "")
    name = state_text(job)
    return f"[{style}]{name}[/]" if style else name


def failure_lines(jobs: Sequence[fw.BatchInferenceJob]) -> list[str]:
    """Why each job that finished without success did, one line each."""
    return [f"{job.job_id} {failure_reason(job)}" for job in jobs if job.state.is_finished and not job.state.is_success]


def _row(job: fw.BatchInferenceJob, now: float | None) -> dict[str, str]:
    """A job's cells as plain text, by column."""
    progress = job.job_progress
    return {
        "JOB": job.job_id,
        "STATE": state_text(job),
        "PROCESSED": progress_text(progress),
        "FAILED": f"{progress.failed_requests:,}" if progress else "-",
        "%": f"{progress.percent}" if progress else "-",
        "TOKENS IN/OUT": f"{progress.input_tokens:,}/{progress.output_tokens:,}" if progress else "-",
        "MODEL": job.model.rsplit("/", 1)[-1] or "-",
        "AGE": format_age(job, now),
        "EXPIRES": format_expiry(job, now),
    }


_TABLE: Final = ("JOB", "STATE", "PROCESSED", "FAILED", "%", "AGE", "EXPIRES")
_WIDE: Final = ("JOB", "STATE", "PROCESSED", "FAILED", "%", "TOKENS IN/OUT", "MODEL", "AGE", "EXPIRES")
_NUMERIC: Final = frozenset({"PROCESSED", "FAILED", "%", "TOKENS IN/OUT"})
# Dropped first to last when the table is wider than the screen; a job's id and state are never dropped nor cut.
_DROPPED_FIRST: Final = ("MODEL", "TOKENS IN/OUT", "EXPIRES", "AGE", "FAILED", "PROCESSED", "%")
_GAP: Final = 2  # between two columns of a table without borders


def job_table(
    jobs: Sequence[fw.BatchInferenceJob], now: float | None = None, *, wide: bool = False, width: int | None = None
) -> Table:
    """One row a job: state, progress, failures, percent, age, time left before it expires (``wide``: tokens, model).

    ``now`` (seconds since the epoch, the server's clock when known) is what ages and expiries count from. A table
    wider than ``width`` drops its less important columns, never the job's id or state, and never cuts a cell: print
    it with ``crop=False`` so that a screen narrower than even those wraps them instead.

    Example:
        >>> job = fw.BatchInferenceJob(name="accounts/a/batchInferenceJobs/nightly-eval", state=fw.JobState.RUNNING)
        >>> [column.header for column in job_table([job], width=40).columns]
        ['JOB', 'STATE', 'PROCESSED', '%']
    """
    rows = [_row(job, now) for job in jobs]
    widths = {name: max(len(name), *(len(row[name]) for row in rows)) for name in _WIDE}
    shown = list(_WIDE if wide else _TABLE)
    for name in _DROPPED_FIRST:
        if width is None or sum(widths[n] for n in shown) + _GAP * (len(shown) - 1) <= width:
            break
        if name in shown:
            shown.remove(name)
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in shown:
        table.add_column(name, justify="right" if name in _NUMERIC else "left", no_wrap=True, min_width=widths[name])
    for job, row in zip(jobs, rows, strict=True):
        table.add_row(*(styled_state(job) if name == "STATE" else row[name] for name in shown))
    return table


def show_jobs(jobs: Sequence[fw.BatchInferenceJob], now: float, *, output: str, reasons: bool = True) -> None:
    """Print jobs on stdout as ``output`` says: ``table``, ``wide`` or ``json``; ``reasons`` why jobs failed, under it.

    ``now`` (seconds since the epoch, the server's clock) is what ages and expiries count from.
    """
    if output == "json":
        jobs_json(jobs)
        return
    if not jobs:
        return
    console = console_for(sys.stdout, colour=use_colour(sys.stdout))
    table = job_table(jobs, now, wide=output == "wide", width=console.width)
    # Not cropped: on a screen narrower than a job's id and state, the terminal wraps them rather than cut them.
    console.print(table, crop=False)
    for line in failure_lines(jobs) if reasons else ():  # why a job failed matters more than any column
        console.print(line, markup=False, style="red")


def jobs_json(jobs: Sequence[fw.BatchInferenceJob], stream: TextIO = sys.stdout) -> None:
    """Write the jobs as a JSON array of their wire form (camelCase, as the API sends them)."""
    stream.write(orjson.dumps([fw.to_wire(job) for job in jobs], option=orjson.OPT_INDENT_2).decode() + "\n")
    stream.flush()
