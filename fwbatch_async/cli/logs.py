"""``fwbatch logs``: print a job's log, or follow it until the job finishes (``-f``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import aclosing
from datetime import timedelta
from typing import Any

import attrs

import fwbatch_async as fw
from fwbatch_async._core.jobs import failure_reason

from .context import Settings, check_jobs
from .lines import LineWriter
from .outcome import ExitCode, describe, job_outcome

__all__ = ["LogSelection", "report_end", "show_logs"]

# The server's largest page: catching up on a long log takes the fewest requests.
_PAGE_SIZE = 10_000


@attrs.frozen
class LogSelection:
    """Which lines to show: where to start (at most one of tail, since, from_start; none means all), and filters."""

    tail: int | None = None
    since: timedelta | fw.Timestamp | None = None
    ranks: Sequence[int] | None = None
    filter: str | None = None
    lookback: float = 10.0

    def follow_arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``follow_job``/``follow_jobs`` for this selection (all lines when none given)."""
        return {
            "last": self.tail,
            "since": self.since,
            "from_start": self.tail is None and self.since is None,
            "ranks": self.ranks,
            "filter": self.filter,
            "lookback": self.lookback,
        }

    def start_time(self, server_now: fw.Timestamp) -> fw.Timestamp | None:
        """The lower bound for a one-off read: ``since`` as a time, a duration counted back from the server's now.

        Example:
            >>> LogSelection(since=timedelta(seconds=90)).start_time(fw.Timestamp.parse("2026-11-22T04:00:00Z"))
            Timestamp('2026-11-22T03:58:30.000000000Z')
        """
        if isinstance(self.since, timedelta):
            return fw.Timestamp(server_now.ns - self.since // timedelta(microseconds=1) * 1000)
        return self.since


def report_end(end: fw.JobEnded) -> None:
    """Name on stderr a job that did not end well: a failed, expired or cancelled job, or one that could not be read."""
    if end.error is not None:
        sys.stderr.write(f"fwbatch: error: {end.job_id}: {describe(end.error)}\n")
    elif end.job is not None and not end.succeeded:
        sys.stderr.write(f"fwbatch: job {end.job_id} {failure_reason(end.job)}\n")


async def show_logs(
    settings: Settings,
    job_id: str,
    selection: LogSelection,
    writer: LineWriter,
    *,
    follow: bool,
    batch_job_id: str | None,
) -> ExitCode:
    """Print the selected lines; with ``follow``, keep printing until the job finished and its log drained."""
    log_id = batch_job_id or job_id
    async with settings.client(one_shot=not follow) as client:
        if follow:
            if not await check_jobs(client, [job_id]):
                return ExitCode.API
            return await _follow(client, job_id, log_id, selection, writer)
        if selection.tail is not None:
            for entry in await client.tail_logs(log_id, selection.tail, ranks=selection.ranks, filter=selection.filter):
                writer.entry(entry)
            return ExitCode.OK
        if isinstance(selection.since, timedelta):
            # One light read first: its answer's Date sets the server's clock, which the duration counts back on.
            await client.get_batch_inference_job(job_id)
        entries = client.iter_logs(
            log_id,
            start_time=selection.start_time(client.server_time()),
            ranks=selection.ranks,
            filter=selection.filter,
            page_size=_PAGE_SIZE,
        )
        # Closed here, not by the garbage collector, when the reader goes away (a closed pipe) mid-log.
        async with aclosing(entries):
            async for entry in entries:
                writer.entry(entry)
    return ExitCode.OK


async def _follow(
    client: fw.AsyncClient, job_id: str, log_id: str, selection: LogSelection, writer: LineWriter
) -> ExitCode:
    async with client.follow_job(job_id, log_id, **selection.follow_arguments()) as events:
        async for event in events:
            if isinstance(event, fw.LogLine):
                writer.entry(event.entry)
    ends = list(events.ended.values())
    for end in ends:
        report_end(end)
    return job_outcome(ends)
