"""``fwbatch list``: the account's jobs, chosen by state and the API's filter, newest first, as a table or JSON."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterable
from typing import Final

import attrs

import fwbatch_async as fw

from .context import Settings
from .jobtable import show_jobs
from .outcome import ExitCode

__all__ = ["PAGE_SIZE", "JobSelection", "list_jobs", "parse_states", "show_list"]

# Requests are the scarce resource (the account's cap covers inference too), not bytes: the largest page.
PAGE_SIZE: Final = 200


def parse_states(values: Iterable[str]) -> frozenset[fw.JobState]:
    """States by name, as ``--state`` takes them: repeated or comma-separated, short or full, any case.

    Raises:
        ValueError: a name no known state has.

    Example:
        >>> sorted(state.short_name for state in parse_states(["running,Pending", "JOB_STATE_COMPLETED"]))
        ['COMPLETED', 'PENDING', 'RUNNING']
    """
    return frozenset(fw.JobState.from_name(name) for value in values for name in value.split(",") if name.strip())


@attrs.frozen
class JobSelection:
    """Which of the account's jobs a command takes: those in any of ``states`` (all when empty) that ``filter`` keeps.

    ``filter`` is an AIP-160 expression the API applies, e.g. ``create_time > "2026-01-01T00:00:00Z"``.
    """

    states: frozenset[fw.JobState] = frozenset()
    filter: str | None = None

    @property
    def wire_filter(self) -> str | None:
        """The filter sent: the user's, or else the one state asked for, so that the server pages only those jobs.

        Several states are checked here instead, as is a state next to the user's filter: whether the service takes
        ``OR`` and ``AND`` in a filter is not documented.

        Example:
            >>> JobSelection(frozenset({fw.JobState.RUNNING})).wire_filter
            'state = "JOB_STATE_RUNNING"'
        """
        if self.filter is None and len(self.states) == 1:
            (state,) = self.states
            return f'state = "{state.value}"'
        return self.filter

    def matches(self, job: fw.BatchInferenceJob) -> bool:
        """Whether ``job`` is in one of the states asked for (the filter was the server's to apply)."""
        return not self.states or job.state in self.states

    def listing(self, client: fw.AsyncClient, *, order_by: str | None = None) -> AsyncIterator[fw.BatchInferenceJob]:
        """Every job of the account the server lists for this selection (:meth:`matches` still to be checked)."""
        return client.list_batch_inference_jobs(filter=self.wire_filter, order_by=order_by, page_size=PAGE_SIZE)


async def list_jobs(
    client: fw.AsyncClient, selection: JobSelection, *, order_by: str | None, limit: int | None
) -> tuple[list[fw.BatchInferenceJob], bool]:
    """The selected jobs, at most ``limit`` (all when ``None``), and whether more were selected than shown."""
    jobs: list[fw.BatchInferenceJob] = []
    async for job in selection.listing(client, order_by=order_by):
        if not selection.matches(job):
            continue
        if limit is not None and len(jobs) == limit:
            return jobs, True
        jobs.append(job)
    return jobs, False


async def show_list(
    settings: Settings, selection: JobSelection, *, order_by: str | None, limit: int | None, output: str
) -> ExitCode:
    """Print the selected jobs; what was left out, or that none matched, is said on stderr."""
    async with settings.client(one_shot=True) as client:
        jobs, more = await list_jobs(client, selection, order_by=order_by, limit=limit)
        now = client.server_time().ns / 1e9  # ages and expiries on the server's clock, which may differ from ours
    show_jobs(jobs, now, output=output, reasons=False)  # `status JOB` says why a job failed
    if more:
        sys.stderr.write(f"fwbatch: more jobs than the {len(jobs)} shown: --limit N shows N, --limit 0 all\n")
    elif not jobs and output != "json":
        sys.stderr.write("fwbatch: no jobs found\n")
    return ExitCode.OK
