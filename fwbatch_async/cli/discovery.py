"""``--all``: the account's jobs, those created later included, found by listing the account again and again.

``fwbatch watch --all``, ``fwbatch follow --all`` and ``fwbatch demo`` start with the jobs not finished yet (a job
that had finished when the command started is left out for good) and add each job that appears in a later listing,
until every job they have has ended: after that nothing is added, and the command ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Final

import fwbatch_async as fw

from .context import check_jobs
from .listing import PAGE_SIZE, JobSelection

__all__ = ["JobFinder", "adding_to", "finding", "starting_jobs"]

_LOG = logging.getLogger("fwbatch_async.cli")

_EVERY: Final = 2.0
"""Seconds between two listings: a new job shows up within about this long."""
_SECONDS_PER_PAGE: Final = 1.0
"""A listing of many pages waits longer: finding new jobs takes about a request a second at most."""


class JobFinder:
    """Which of the account's jobs ``--all`` takes: selected ones, not finished at the start or new since."""

    def __init__(self, selection: JobSelection | None = None) -> None:
        self._selection = selection or JobSelection()
        self._taken: set[str] = set()  # the jobs handed out, and those that had finished at the start

    async def first(self, client: fw.AsyncClient) -> list[str]:
        """The selected jobs that have not finished, in the server's order."""
        ids: list[str] = []
        async for job in self._selection.listing(client):
            if job.state.is_finished:
                self._taken.add(job.job_id)
            elif self._selection.matches(job):
                self._taken.add(job.job_id)
                ids.append(job.job_id)
        return ids

    async def add_new(self, client: fw.AsyncClient, add: Callable[[str], bool]) -> None:
        """List the account again and again, and give ``add`` each selected job not taken before.

        It ends when ``add`` says the jobs' stream has ended (``False``). A listing that fails is tried again later.
        """
        listed = 0
        while True:
            await asyncio.sleep(max(_EVERY, listed / PAGE_SIZE * _SECONDS_PER_PAGE))
            listed = 0
            try:
                async for job in self._selection.listing(client):
                    listed += 1
                    if job.job_id in self._taken or not self._selection.matches(job):
                        continue
                    self._taken.add(job.job_id)
                    if not add(job.job_id):
                        return
            except fw.FwBatchError as error:  # the jobs already taken go on; new ones come with a later listing
                _LOG.warning("listing jobs to find new ones failed (%s); trying again", error)


async def starting_jobs(client: fw.AsyncClient, job_ids: Sequence[str], finder: JobFinder | None) -> list[str] | None:
    """The jobs a watch or follow starts with: the ids given, or ``--all``'s; ``None`` when one of them does not exist.

    The ids given are read first (:func:`~fwbatch_async.cli.context.check_jobs`). With ``--all`` and no job
    unfinished, the list is empty and stderr says so.
    """
    if finder is None:
        ids = list(dict.fromkeys(job_ids))
        return ids if await check_jobs(client, ids) else None
    ids = await finder.first(client)
    if not ids:
        sys.stderr.write("fwbatch: no unfinished jobs\n")
    return ids


def adding_to(events: fw.JobEvents) -> Callable[[str], bool]:
    """A function that adds a job to ``events``, or says ``False`` once every job of the stream has ended."""

    def add(job_id: str) -> bool:
        try:
            events.add(job_id)
        except RuntimeError:  # every job ended meanwhile: so has the stream
            return False
        return True

    return add


@contextlib.asynccontextmanager
async def finding(client: fw.AsyncClient, finder: JobFinder | None, add: Callable[[str], bool]) -> AsyncIterator[None]:
    """While the block runs, give ``add`` the new jobs ``finder`` finds (nothing without a finder)."""
    if finder is None:
        yield
        return
    async with asyncio.TaskGroup() as group:
        task = group.create_task(finder.add_new(client, add))
        try:
            yield
        finally:
            task.cancel()
