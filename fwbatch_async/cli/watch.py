"""``fwbatch watch``: progress of jobs until every one has finished."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from contextlib import aclosing

from rich.live import Live

import fwbatch_async as fw

from .board import JobBoard, describe_end, describe_update
from .context import Settings
from .discovery import JobFinder, finding, starting_jobs
from .jobtable import console_for
from .lines import use_colour
from .logs import report_end
from .outcome import ExitCode, job_outcome

__all__ = ["watch_jobs"]

# Often enough for a smooth bar; the jobs themselves are read at most once a second.
_REFRESHES_PER_SECOND = 4


async def _watch_one(
    client: fw.AsyncClient, job_id: str, show: Callable[[fw.JobUpdate], None], stall_after: float | None
) -> fw.JobEnded:
    last: fw.BatchInferenceJob | None = None
    try:
        async with aclosing(client.watch_job(job_id, stall_after=stall_after, raise_on_stall=False)) as updates:
            async for update in updates:
                last = update.job
                show(update)
    except fw.FwBatchError as error:
        return fw.JobEnded(job_id, last, error)
    return fw.JobEnded(job_id, last, None)


async def watch_jobs(
    settings: Settings, job_ids: Sequence[str], *, stall_after: float | None, finder: JobFinder | None = None
) -> ExitCode:
    """Watch every job at once: live bars on a terminal, a line a change elsewhere; exit code from the outcomes.

    With a ``finder`` (``--all``), its jobs instead of ``job_ids``, new ones added as they appear.
    """
    async with settings.client() as client:
        ids = await starting_jobs(client, job_ids, finder)
        if ids is None:
            return ExitCode.API
        if not ids:
            return ExitCode.OK
        if use_colour(sys.stdout):
            board = JobBoard(ids)
            with Live(
                board.progress,
                console=console_for(sys.stdout, colour=True),
                refresh_per_second=_REFRESHES_PER_SECOND,
            ):
                ends = await _watch_all(client, ids, board.update, stall_after, finder)
                for end in ends:
                    board.end(end)
            for end in ends:  # the bars show states; these say why
                report_end(end)
        else:

            def show(update: fw.JobUpdate) -> None:
                sys.stdout.write(describe_update(update) + "\n")
                sys.stdout.flush()

            ends = await _watch_all(client, ids, show, stall_after, finder)
            for end in ends:
                if end.error is None:
                    sys.stdout.write(describe_end(end) + "\n")
            sys.stdout.flush()
            for end in ends:  # errors on stderr, as everywhere
                if end.error is not None:
                    report_end(end)
    return job_outcome(ends)


async def _watch_all(
    client: fw.AsyncClient,
    ids: Sequence[str],
    show: Callable[[fw.JobUpdate], None],
    stall_after: float | None,
    finder: JobFinder | None,
) -> list[fw.JobEnded]:
    tasks: list[asyncio.Task[fw.JobEnded]] = []
    async with asyncio.TaskGroup() as group:

        def add(job_id: str) -> bool:
            if tasks and all(task.done() for task in tasks):
                return False  # every job has ended, and so has the watch
            tasks.append(group.create_task(_watch_one(client, job_id, show, stall_after)))
            return True

        for job_id in ids:
            add(job_id)
        async with finding(client, finder, add):
            while not all(task.done() for task in tasks):  # the jobs the finder adds meanwhile too
                await asyncio.wait([task for task in tasks if not task.done()])
    return [task.result() for task in tasks]
