"""Tail a batch job's logs like ``tail -f``: the last lines, then every new one exactly once.

Usage::

    python examples/tail_logs.py JOB_ID [-n LINES] [--cursor-file PATH] [--until-finished [LOOKBACK]]

With ``--cursor-file`` the position is saved after every line and a rerun resumes where the last one stopped,
without repeating a line. ``--until-finished`` stops once the job finished and its log drained (a plain
``tail -f`` runs until Ctrl-C). The connection comes from ``FIREWORKS_*`` environment variables.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path

import fwbatch_async as fw


def print_entry(entry: fw.LogEntry) -> None:
    """One line of output: time (as the server sent it), rank, message."""
    print(f"{entry.log_time} [{entry.rank}] {entry.message}", flush=True)


def read_cursor(cursor_file: Path | None) -> str | None:
    """The saved cursor, if there is one."""
    return cursor_file.read_text() if cursor_file is not None and cursor_file.exists() else None


async def tail_forever(client: fw.AsyncClient, job_id: str, lines: int, cursor_file: Path | None) -> None:
    """Follow until cancelled, saving the cursor to ``cursor_file`` (if given) after every line."""
    saved = read_cursor(cursor_file)
    async with client.follow_logs(job_id, cursor=saved) if saved else client.follow_logs(job_id, last=lines) as logs:
        async for entry in logs:
            print_entry(entry)
            if cursor_file is not None:
                # Saved after the line is printed: a crash between the two repeats that one line, never loses it.
                cursor_file.write_text(logs.cursor.to_json())  # noqa: ASYNC240 - a small local file, no thread needed


async def tail_until_finished(client: fw.AsyncClient, job_id: str, lines: int, lookback: float) -> None:
    """Follow the job's log and state together; the stream ends after the job finished and its log drained."""
    async with client.follow_job(job_id, last=lines, lookback=lookback) as events:
        async for event in events:
            if isinstance(event, fw.LogLine):
                print_entry(event.entry)
            elif isinstance(event, fw.JobEnded):
                print(f"-- {job_id} ended: {event.job.state.short_name if event.job else event.error}")


async def tail(job_id: str, lines: int, cursor_file: Path | None, lookback: float | None) -> None:
    """Open one client and tail ``job_id``; until it finished if a ``lookback`` is given (see ``--until-finished``)."""
    async with fw.AsyncClient() as client:
        if lookback is not None:
            await tail_until_finished(client, job_id, lines, lookback)
        else:
            await tail_forever(client, job_id, lines, cursor_file)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and tail until Ctrl-C (or the job's end with ``--until-finished``)."""
    parser = argparse.ArgumentParser(description="Tail a batch job's logs like tail -f.")
    parser.add_argument("job_id")
    parser.add_argument("-n", "--lines", type=int, default=10, help="start with the last LINES lines")
    parser.add_argument("--cursor-file", type=Path, default=None, help="save the position here; resume from it")
    parser.add_argument(
        "--until-finished",
        type=float,
        nargs="?",
        const=10.0,
        default=None,
        metavar="LOOKBACK",
        help="stop when the job has finished and LOOKBACK seconds (default 10) brought no late line",
    )
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(tail(args.job_id, args.lines, args.cursor_file, args.until_finished))
    return 0


if __name__ == "__main__":
    sys.exit(main())
