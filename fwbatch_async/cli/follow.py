"""``fwbatch follow``: the logs of many jobs in one stream, with a status line, until every job has finished."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import Final

import fwbatch_async as fw

from .board import describe_end, describe_update
from .context import Settings
from .discovery import JobFinder, adding_to, finding, starting_jobs
from .lines import LineWriter
from .logs import LogSelection
from .outcome import ExitCode, describe, job_outcome
from .picking import LinePicker

__all__ = ["follow_jobs"]

# The status line counts lines; redrawing it for every line would cost more than writing the line.
_STATUS_EVERY: Final = 0.25


class _Status:
    """Jobs by state and lines so far, for the status line."""

    def __init__(self, job_ids: Sequence[str]) -> None:
        self._states: dict[str, str] = dict.fromkeys(job_ids, "PENDING")
        self._drawn = 0.0

    def seen(self, job_id: str, state: str) -> None:
        self._states[job_id] = state

    def text(self, lines: int) -> str:
        counts = Counter(self._states.values())
        states = ", ".join(f"{n} {state.lower()}" for state, n in sorted(counts.items()))
        return f"{len(self._states)} jobs: {states} · {lines:,} lines"

    def due(self) -> bool:
        now = time.monotonic()
        if now - self._drawn < _STATUS_EVERY:
            return False
        self._drawn = now
        return True


def _json_event(event: fw.JobEvent) -> dict[str, object]:
    if isinstance(event, fw.LogLine):
        entry = event.entry
        return {
            "event": "log",
            "job": event.job_id,
            "logTime": entry.log_time.rfc3339(),
            "rank": entry.rank,
            "message": entry.message,
        }
    if isinstance(event, fw.JobUpdate):
        return {"event": "update", "job": event.job_id, "changes": sorted(c.value for c in event.changes)} | {
            "state": fw.to_wire(event.job)["state"],
            "jobProgress": fw.to_wire(event.job.job_progress) if event.job.job_progress else None,
        }
    return {
        "event": "end",
        "job": event.job_id,
        "state": fw.to_wire(event.job)["state"] if event.job is not None else None,
        "error": None if event.error is None else describe(event.error),
    }


async def follow_jobs(
    settings: Settings,
    job_ids: Sequence[str],
    selection: LogSelection,
    writer: LineWriter,
    *,
    as_json: bool,
    finder: JobFinder | None = None,
) -> ExitCode:
    """Follow every job's log to its end; exit code from the outcomes.

    With a ``finder`` (``--all``), its jobs instead of ``job_ids``, new ones added as they appear.
    """
    async with settings.client() as client:
        ids = await starting_jobs(client, job_ids, finder)
        if ids is None:
            return ExitCode.API
        if not ids:
            return ExitCode.OK
        picker = selection.picker(client.server_time())  # the reads of the jobs have set the server's clock
        events = client.follow_jobs(ids, **selection.follow_arguments())
        async with events, finding(client, finder, adding_to(events)):
            await _show(events, picker, _Status(ids), writer, as_json=as_json)
    return job_outcome(events.ended.values())


async def _show(
    events: fw.JobEvents, picker: LinePicker, status: _Status, writer: LineWriter, *, as_json: bool
) -> None:
    """Write every event as it comes (the log lines ``picker`` shows); the status line counts jobs and lines."""
    async for event in events:
        if isinstance(event, fw.LogLine) and not picker.shows(event.entry):
            continue
        if isinstance(event, fw.JobEnded) and event.error is not None:
            writer.error(f"{event.job_id}: {describe(event.error)}")  # errors go to stderr, whatever the format
        if as_json:
            writer.record(_json_event(event))
            continue
        if isinstance(event, fw.LogLine):
            writer.entry(event.entry, event.job_id)
        elif isinstance(event, fw.JobUpdate):
            status.seen(event.job_id, event.state.short_name)
            if event.changes & {fw.Change.FIRST, fw.Change.STATE, fw.Change.STALLED}:
                writer.note(describe_update(event))
        elif event.error is None:
            writer.note(describe_end(event))
        if status.due() or not isinstance(event, fw.LogLine):
            writer.status(status.text(writer.lines))
    writer.status(status.text(writer.lines))
    writer.end_status()
