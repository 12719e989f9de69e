"""``fwbatch demo``: the whole product against a local emulator, no account needed.

It starts the emulator in this process with the ``demo`` scenario (four jobs, one of which fails, one starting
late) on a fast clock, follows every job from its first line with :meth:`~fwbatch_async.AsyncClient.follow_jobs`
(progress bars and the newest lines on a terminal; state changes elsewhere), and finally checks what it received
against what the emulator holds: every line exactly once.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict, deque
from typing import Any, Final, TextIO

import attrs
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.text import Text

import fwbatch_async as fw
from fwbatch_async.emulator import Emulator
from fwbatch_async.emulator.cli import build

from .board import JobBoard, describe_end, describe_update
from .context import Settings
from .discovery import JobFinder, adding_to, finding
from .jobtable import console_for, job_table
from .lines import LineWriter, use_colour
from .outcome import ExitCode

__all__ = ["run_demo"]

_TAIL_LINES: Final = 12
_REFRESHES_PER_SECOND: Final = 8
# The demo's late lines are at most 4 s late; a shorter drain keeps the demo short.
_LOOKBACK: Final = 5.0
Key = tuple[int, int, str]


class _Screen:
    """What the demo shows while it runs: bars and the newest lines on a terminal, state changes elsewhere."""

    def __init__(self, console: Console, job_ids: list[str], *, live: bool) -> None:
        self._console = console
        self._board = JobBoard(job_ids)
        self._tail: deque[Text] = deque(maxlen=_TAIL_LINES)
        self._format = LineWriter(sys.stdout, colour=True, show_job=True).format
        self.lines = 0
        self._live = (
            Live(get_renderable=self._render, console=console, refresh_per_second=_REFRESHES_PER_SECOND)
            if live
            else None
        )

    def __enter__(self) -> _Screen:
        if self._live is not None:
            self._live.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def _render(self) -> Group:
        lines = Text("\n").join(self._tail) if self._tail else Text("waiting for the first lines…", style="dim")
        title = f"newest log lines ({self.lines:,} so far, every one exactly once)"
        return Group(Panel(lines, title=title, title_align="left", height=_TAIL_LINES + 2), self._board.progress)

    def show(self, event: fw.JobEvent) -> None:
        if isinstance(event, fw.LogLine):
            self.lines += 1
            if self._live is not None:
                self._tail.append(Text.from_ansi(self._format(event.entry, event.job_id), no_wrap=True))
        elif isinstance(event, fw.JobUpdate):
            self._board.update(event)
            if self._live is None and event.changes & {fw.Change.FIRST, fw.Change.STATE}:
                self._console.print(describe_update(event))
        else:
            self._board.end(event)
            if self._live is None:
                self._console.print(describe_end(event))


def _held(emulator: Emulator[Any], job_id: str) -> Counter[Key]:
    return Counter((fw.Timestamp.parse(text).ns, rank, message) for text, rank, message in emulator.logs(job_id))


async def _follow(client: fw.AsyncClient, screen: _Screen, received: dict[str, Counter[Key]]) -> None:
    finder = JobFinder()  # one of the demo's jobs starts late: it is added as it appears, as a service would
    ids = await finder.first(client)
    async with (
        client.follow_jobs(ids, from_start=True, lookback=_LOOKBACK) as events,
        finding(client, finder, adding_to(events)),
    ):
        async for event in events:
            screen.show(event)
            if isinstance(event, fw.LogLine):
                entry = event.entry
                received[event.job_id][entry.log_time.ns, entry.rank, entry.message] += 1


async def run_demo(settings: Settings, speed: float, out: TextIO = sys.stdout) -> ExitCode:
    """Run the demo at ``speed`` emulated seconds per real second; OK when every line arrived exactly once.

    The client has the command's settings (``--max-rate``, ``--timeout``, ``--retries``), pointed at the emulator.
    """
    colour = use_colour(out)
    console = console_for(out, colour=colour)
    emulator = build("demo", speed=speed, port=0)
    # Built once the emulator listens: its address has the port it was given then.
    async with emulator:
        at_emulator = attrs.evolve(
            settings, api_key=emulator.api_key, account_id=emulator.account_id, base_url=emulator.base_url
        )
        async with at_emulator.client() as client:
            return await _demonstrate(emulator, client, console, speed, colour=colour)


async def _demonstrate(
    emulator: Emulator[Any], client: fw.AsyncClient, console: Console, speed: float, *, colour: bool
) -> ExitCode:
    job_ids = [job.id for job in emulator.scenario.jobs]
    longest = max(job.start_after + job.duration for job in emulator.scenario.jobs)
    console.print(
        f"[bold]fwbatch demo[/]: a local emulator of the Fireworks batch API at {emulator.base_url}, "
        f"{len(job_ids)} jobs, time running {speed:g}x (about {longest / speed:.0f} s).\n"
        "Following every job of the account from its first line with one client, adding jobs as they appear."
    )
    received: defaultdict[str, Counter[Key]] = defaultdict(Counter)
    with _Screen(console, job_ids, live=colour) as screen:
        await _follow(client, screen, received)
    jobs = [await client.get_batch_inference_job(job_id) for job_id in job_ids]
    console.print(job_table(jobs))
    mismatched = [job_id for job_id in job_ids if received[job_id] != _held(emulator, job_id)]
    total = sum(sum(counts.values()) for counts in received.values())
    if mismatched:
        console.print(f"[red]Lines differ from the server's for {', '.join(mismatched)}: please report this.[/]")
        return ExitCode.JOB_FAILED
    failed = [job.job_id for job in jobs if not job.state.is_success]
    console.print(
        f"{total:,} log lines received, each exactly once (checked against the emulator). "
        f"{len(failed)} job(s) did not succeed, as scripted: {', '.join(failed) or 'none'}.\n"
        "Next: [bold]fwbatch emulator[/] serves these jobs for you to try "
        "[bold]fwbatch status / logs -f / watch / follow[/] on."
    )
    return ExitCode.OK
