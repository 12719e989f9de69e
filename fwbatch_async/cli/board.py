"""Live progress of jobs: a rich progress bar a job on a terminal, or one plain line a change elsewhere."""

from __future__ import annotations

import time
from collections.abc import Iterable

from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Column
from rich.text import Text

import fwbatch_async as fw
from fwbatch_async._core.jobs import failure_reason

from .jobtable import format_duration, format_expiry, progress_text, state_text, styled_state
from .outcome import describe

__all__ = ["JobBoard", "describe_end", "describe_update"]


def describe_update(update: fw.JobUpdate) -> str:
    """One line for a change of a job: its state, counts and percent.

    Example:
        >>> job = fw.BatchInferenceJob(
        ...     name="accounts/a/batchInferenceJobs/j",
        ...     state=fw.JobState.RUNNING,
        ...     job_progress=fw.JobProgress(percent=40, total_input_requests=1000, total_processed_requests=400),
        ... )
        >>> describe_update(fw.JobUpdate(job, None, frozenset({fw.Change.FIRST})))
        'j RUNNING 400/1,000 (40%) failed 0'
    """
    progress = update.job.job_progress
    text = f"{update.job_id} {state_text(update.job)}"
    if progress is not None and progress_text(progress) != "-":
        text += f" {progress_text(progress)} ({progress.percent}%) failed {progress.failed_requests:,}"
    if fw.Change.FIRST in update.changes and format_expiry(update.job) != "-":
        text += f" (expiry {format_expiry(update.job)})"
    if fw.Change.STALLED in update.changes and update.stalled_for is not None:
        text += f" (no progress for {update.stalled_for:.0f}s)"
    return text


def describe_end(end: fw.JobEnded) -> str:
    """One line for how a job ended."""
    if end.error is not None:
        return f"{end.job_id} error: {describe(end.error)}"
    job = end.job
    if job is None:
        return f"{end.job_id} ended ?"
    if end.succeeded:
        return f"{end.job_id} ended {job.state.short_name}{_ran_for(job)}"
    return f"{end.job_id} ended {failure_reason(job)}"


def _ran_for(job: fw.BatchInferenceJob) -> str:
    """`` after running 1h2m`` from the job's lifecycle, when the server sent it."""
    lifecycle = job.lifecycle
    if lifecycle is None or lifecycle.run_start_time is None or lifecycle.end_time is None:
        return ""
    seconds = max(0, (lifecycle.end_time.ns - lifecycle.run_start_time.ns) // 1_000_000_000)
    return f" after running {format_duration(seconds)}"


class _RateColumn(ProgressColumn):
    """Requests processed a second, measured over the last half minute."""

    def render(self, task: Task) -> Text:
        speed = task.speed
        return Text(f"{speed:,.0f}/s" if speed else "", style="progress.data.speed")


class _EtaColumn(TimeRemainingColumn):
    """Time remaining while the job runs; nothing once it has stopped, however far it got."""

    def render(self, task: Task) -> Text:
        return Text("") if task.stop_time is not None else super().render(task)


class _StallColumn(ProgressColumn):
    """How long a stalled job has made no progress, counting on, until it moves again (the ETA cannot say)."""

    def render(self, task: Task) -> Text:
        since = task.fields.get("stalled_since")
        if since is None or task.stop_time is not None:
            return Text("")
        return Text(f"no progress for {format_duration(int(time.monotonic() - since))}", style="yellow")


class JobBoard:
    """A progress bar a job with its state, counts, failures, rate and ETA; render :attr:`progress`."""

    def __init__(self, job_ids: Iterable[str]) -> None:
        self.progress = Progress(
            TextColumn("{task.fields[job]}"),
            TextColumn("{task.fields[state]}"),
            BarColumn(),
            TextColumn("{task.fields[counts]}"),
            TextColumn("{task.fields[failed]}", style="red"),
            _RateColumn(),
            _EtaColumn(),
            _StallColumn(table_column=Column(no_wrap=True)),
            auto_refresh=False,
        )
        self._tasks: dict[str, TaskID] = {}
        for job_id in job_ids:
            self._tasks[job_id] = self.progress.add_task(
                job_id, total=None, job=job_id, state="…", counts="", failed="", stalled_since=None, start=False
            )

    def update(self, update: fw.JobUpdate) -> None:
        """Show a job as it is now."""
        task = self._tasks[update.job_id] if update.job_id in self._tasks else self._add(update.job_id)
        progress = update.job.job_progress
        processed = progress.total_processed_requests if progress is not None else 0
        declared = progress.total_input_requests if progress is not None else 0
        total = max(declared, processed) or None
        if update.state.is_active and total is not None:
            self.progress.start_task(task)
        failed = progress.failed_requests if progress is not None else 0
        self.progress.update(
            task,
            total=total,
            completed=processed,
            state=styled_state(update.job),
            counts=progress_text(progress),
            failed=f"{failed:,} failed" if failed else "",
        )
        if fw.Change.STALLED in update.changes and update.stalled_for is not None:
            self.progress.update(task, stalled_since=time.monotonic() - update.stalled_for)
        elif update.changes & {fw.Change.PROGRESS, fw.Change.STATE}:
            self.progress.update(task, stalled_since=None)
        if update.finished:
            self.progress.stop_task(task)

    def end(self, end: fw.JobEnded) -> None:
        """Show how a job ended, if it ended without a final update (it could not be read)."""
        if end.error is not None:
            task = self._tasks[end.job_id] if end.job_id in self._tasks else self._add(end.job_id)
            self.progress.update(task, state="[red]ERROR[/]")  # why: on stderr below the bars, whole
            self.progress.stop_task(task)

    def _add(self, job_id: str) -> TaskID:
        self._tasks[job_id] = self.progress.add_task(
            job_id, total=None, job=job_id, state="", counts="", failed="", stalled_since=None
        )
        return self._tasks[job_id]
