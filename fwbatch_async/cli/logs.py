"""``fwbatch logs``: print a job's log, or follow it until the job finishes (``-f``)."""

from __future__ import annotations

import re
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
from .picking import LinePicker, compile_patterns
from .timespec import parse_since

__all__ = ["LogSelection", "report_end", "show_logs"]

# The server's largest page: catching up on a long log takes the fewest requests.
_PAGE_SIZE = 10_000


@attrs.frozen
class LogSelection:
    """Which lines to show: where to start (a tail, a time, both, or the first line when neither), and filters.

    ``ranks`` and ``filter`` are sent to the server; ``include`` and ``exclude`` choose among the lines it sent.
    """

    tail: int | None = None
    since: timedelta | fw.Timestamp | None = None
    ranks: Sequence[int] | None = None
    filter: str | None = None
    lookback: float = 10.0
    include: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def from_options(
        cls,
        *,
        tail: int | None,
        since: str | None,
        from_start: bool,
        ranks: Sequence[int],
        text: str | None,
        lookback: float,
        include: Sequence[str],
        exclude: Sequence[str],
    ) -> LogSelection:
        """The selection the command-line options describe.

        Raises:
            ValueError: ``--from-start`` with another start, a malformed ``--since`` or a bad regular expression;
                the message names the option.
        """
        if from_start and (tail is not None or since is not None):
            raise ValueError("--from-start cannot go with --tail or --since")
        return cls(
            tail=tail,
            since=None if since is None else parse_since(since),
            ranks=tuple(ranks) or None,
            filter=text,
            lookback=lookback,
            include=compile_patterns(include, "--include"),
            exclude=compile_patterns(exclude, "--exclude"),
        )

    def follow_arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``follow_job``/``follow_jobs`` for this selection (all lines when none given).

        A tail and a time together start with the tail; :meth:`picker` drops its lines older than the time.
        """
        return {
            "last": self.tail,
            "since": self.since if self.tail is None else None,
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

    def picker(self, server_now: fw.Timestamp) -> LinePicker:
        """What to print of the lines read: the regular expressions, and with a tail the lines since ``since``.

        The last N lines since a time (``--tail N --since T``, as kubectl) are the last N lines, less those older
        than the time: the server is asked for the tail, not for everything since the time.
        """
        floor = self.start_time(server_now) if self.tail is not None else None
        return LinePicker(self.include, self.exclude, None if floor is None else floor.ns)


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
            if not await check_jobs(client, [job_id]):  # its answer sets the server's clock too
                return ExitCode.API
            return await _follow(client, job_id, log_id, selection, writer)
        if isinstance(selection.since, timedelta):
            # One light read first: its answer's Date sets the server's clock, which the duration counts back on.
            await client.get_batch_inference_job(job_id)
        picker = selection.picker(client.server_time())
        if selection.tail is not None:
            for entry in await client.tail_logs(log_id, selection.tail, ranks=selection.ranks, filter=selection.filter):
                if picker.shows(entry):
                    writer.entry(entry, job_id)
            return ExitCode.OK
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
                if picker.shows(entry):
                    writer.entry(entry, job_id)
    return ExitCode.OK


async def _follow(
    client: fw.AsyncClient, job_id: str, log_id: str, selection: LogSelection, writer: LineWriter
) -> ExitCode:
    picker = selection.picker(client.server_time())
    async with client.follow_job(job_id, log_id, **selection.follow_arguments()) as events:
        async for event in events:
            if isinstance(event, fw.LogLine) and picker.shows(event.entry):
                writer.entry(event.entry, job_id)
    ends = list(events.ended.values())
    for end in ends:
        report_end(end)
    return job_outcome(ends)
