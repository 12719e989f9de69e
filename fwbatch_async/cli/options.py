"""Options and arguments several commands share, and the group that knows the commands' aliases.

Like the rest of ``app``, this module loads click only: what an option needs to run is imported when it runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

import click

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from .discovery import JobFinder

__all__ = [
    "NEWEST_FIRST",
    "STATE_HELP",
    "AliasedGroup",
    "all_options",
    "complete_jobs",
    "jobs_argument",
    "states_option",
    "table_options",
]

_F = TypeVar("_F", bound=Callable[..., Any])

NEWEST_FIRST: Final = "created_time desc"  # the field the API documents as its default order
STATE_HELP: Final = "Only jobs in this state: RUNNING, completed, ... (repeatable, or a comma-separated list)."


class AliasedGroup(click.Group):
    """The commands, and the short names people type for some of them (``ls``, as in kubectl and gh)."""

    aliases: Final = {"ls": "list"}

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command of that name or alias."""
        return super().get_command(ctx, self.aliases.get(cmd_name, cmd_name))


def complete_jobs(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Job ids from the account's list, for the shell's Tab (``fwbatch completion``)."""
    from .completion import complete_job_ids  # noqa: PLC0415 - see the imports

    return complete_job_ids(ctx, incomplete)


def jobs_argument(*, required: bool = True) -> Callable[[_F], _F]:
    """The ``JOB...`` argument, its ids completed from the account's list."""
    return click.argument("jobs", nargs=-1, required=required, metavar="JOB...", shell_complete=complete_jobs)


def table_options(function: _F) -> _F:
    """``-o table|wide|json`` and ``--json``, handed to the command as ``output``."""

    @click.option(
        "-o",
        "--output",
        type=click.Choice(["table", "wide", "json"]),
        default="table",
        show_default=True,
        help="table; wide: with tokens and model; json: the jobs as the API sends them.",
    )
    @click.option("--json", "as_json", is_flag=True, help="Same as -o json.")
    @functools.wraps(function)
    def command(*args: Any, output: str, as_json: bool, **kwargs: Any) -> Any:
        return function(*args, output="json" if as_json else output, **kwargs)

    return cast("_F", command)


def _states(ctx: click.Context, param: click.Parameter, values: Sequence[str]) -> frozenset[Any]:
    from .listing import parse_states  # noqa: PLC0415 - see the imports

    try:
        return parse_states(values)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def states_option(help_text: str) -> Callable[[_F], _F]:
    """``--state``, repeatable, handed to the command as ``states``, a frozenset of ``JobState``."""
    return click.option("--state", "states", multiple=True, metavar="STATE", callback=_states, help=help_text)


def all_options(function: _F) -> _F:
    """``--all`` and ``--state``, handed to the command as ``finder`` (``None`` without ``--all``)."""

    @click.option("--all", "all_jobs", is_flag=True, help="Every unfinished job of the account, and new ones.")
    @states_option(f"With --all: {STATE_HELP}")
    @functools.wraps(function)
    def command(*args: Any, jobs: Sequence[str], all_jobs: bool, states: frozenset[Any], **kwargs: Any) -> Any:
        return function(*args, jobs=jobs, finder=_finder(jobs, all_jobs, states), **kwargs)

    return cast("_F", command)


def _finder(jobs: Sequence[str], all_jobs: bool, states: frozenset[Any]) -> JobFinder | None:
    if all_jobs and jobs:
        raise click.UsageError("give job ids or --all, not both")
    if not all_jobs and not jobs:
        raise click.UsageError("Missing argument 'JOB...' (or --all).")
    if states and not all_jobs:
        raise click.UsageError("--state goes with --all")
    from .discovery import JobFinder  # noqa: PLC0415 - see the imports
    from .listing import JobSelection  # noqa: PLC0415

    return JobFinder(JobSelection(states)) if all_jobs else None
