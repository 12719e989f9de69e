"""The ``fwbatch`` command: its options, its subcommands and their help."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, cast

import click

from .options import (
    NEWEST_FIRST,
    STATE_HELP,
    AliasedGroup,
    all_options,
    complete_jobs,
    jobs_argument,
    states_option,
    table_options,
)

# Each command imports what it needs when it runs: `fwbatch --help` loads click and this module, no client, no
# emulator, no rich (issue 18: help in well under 0.3 s).
if TYPE_CHECKING:
    from .context import Settings
    from .discovery import JobFinder
    from .lineformat import LineTemplate, Output
    from .lines import LineWriter
    from .logs import LogSelection
    from .outcome import ExitCode

__all__ = ["main"]

_F = TypeVar("_F", bound=Callable[..., Any])

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
_EXIT_CODES = """
\b
Exit codes: 0 done (every job waited for completed); 1 a job failed, expired or was cancelled;
2 bad usage or missing credentials; 3 the API refused or could not be reached; 70 a bug; 130 Ctrl-C.
"""


def _finish(code: ExitCode) -> None:
    sys.exit(int(code))


def _run(command: Any) -> None:
    """Run a command's coroutine and exit with its code."""
    from .outcome import run  # noqa: PLC0415 - see the imports

    _finish(run(command))


@click.group(cls=AliasedGroup, context_settings=_CONTEXT, epilog=_EXIT_CODES)
@click.option("--api-key", envvar="FIREWORKS_API_KEY", show_envvar=True, help="Fireworks API key.")
@click.option("--account", envvar="FIREWORKS_ACCOUNT_ID", show_envvar=True, help="Account that bare job ids are in.")
@click.option(
    "--profile",
    envvar="FIREWORKS_PROFILE",
    show_envvar=True,
    metavar="NAME",
    help="firectl's profile: a key and account missing above come from ~/.fireworks/profiles/NAME/auth.ini "
    "[default: ~/.fireworks/auth.ini].",
)
@click.option(
    "--base-url", envvar="FIREWORKS_BASE_URL", show_envvar=True, help="API address [default: https://api.fireworks.ai]."
)
@click.option(
    "--timeout", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True, help="Seconds a request."
)
@click.option(
    "--retries", type=click.IntRange(min=1), default=6, show_default=True, help="Attempts a request, retries included."
)
@click.option(
    "--max-rate",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    metavar="N",
    help="Requests a second at most; 0: no ceiling (the account's cap, 100 a second, covers inference too).",
)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour: on a terminal (auto, NO_COLOR and FORCE_COLOR respected), always, or never.",
)
@click.option("-v", "--verbose", count=True, help="Log what the client does (-vv: every request).")
@click.version_option(package_name="fwbatch-async", prog_name="fwbatch")
@click.pass_context
def main(
    ctx: click.Context,
    api_key: str | None,
    account: str | None,
    profile: str | None,
    base_url: str | None,
    timeout: float,
    retries: int,
    max_rate: float,
    color: str,
    verbose: int,
) -> None:
    """Status, logs and progress of Fireworks batch inference jobs.

    \b
    Try it without an account:
      fwbatch demo
      fwbatch emulator            # then, in another shell, the exports it prints and:
      fwbatch status demo-summaries demo-translations
      fwbatch logs -f demo-translations --rank 0
    """
    from .authfile import Credentials, complete_credentials  # noqa: PLC0415 - see the imports
    from .context import Settings  # noqa: PLC0415
    from .stderrlog import log_to_stderr  # noqa: PLC0415

    # The flag wins over the environment by setting it: our lines and rich's displays both read these variables.
    if color == "always":
        os.environ.pop("NO_COLOR", None)
        os.environ["FORCE_COLOR"] = "1"
    elif color == "never":
        os.environ.pop("FORCE_COLOR", None)
        os.environ["NO_COLOR"] = "1"
    log_to_stderr(logging.WARNING if not verbose else logging.INFO if verbose == 1 else logging.DEBUG)
    try:  # flags, then the environment (click reads both), then firectl's file
        given = complete_credentials(Credentials(api_key, account), profile=profile, home=Path.home())
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    ctx.obj = Settings(
        api_key=given.api_key,
        account_id=given.account_id,
        base_url=base_url,
        timeout=timeout,
        attempts=retries,
        max_rate=max_rate or None,  # 0: no ceiling
    )


@main.command(epilog=_EXIT_CODES)
@jobs_argument()
@table_options
@click.pass_obj
def status(settings: Settings, jobs: Sequence[str], output: str) -> None:
    """Show jobs: state, progress, failures, age, expiry (-o wide: tokens and model too).

    A narrow terminal drops the less important columns; a job's id and state are never cut.

    \b
    Examples:
      fwbatch status nightly-eval
      fwbatch status job-a job-b -o wide
      fwbatch status job-a job-b -o json | jq '.[].state'
    """
    from .status import show_status  # noqa: PLC0415 - see the imports

    _run(show_status(settings, jobs, output=output))


@main.command("list", epilog=_EXIT_CODES)
@states_option(STATE_HELP)
@click.option("--filter", "wire_filter", metavar="EXPR", help="The API's filter, e.g. 'create_time > \"2026-01-01\"'.")
@click.option(
    "--order-by", metavar="EXPR", default=NEWEST_FIRST, show_default=True, help="The API's order ('': its default)."
)
@click.option(
    "--limit", type=click.IntRange(min=0), default=50, show_default=True, metavar="N", help="At most N jobs; 0: all."
)
@table_options
@click.pass_obj
def list_jobs(
    settings: Settings, states: frozenset[Any], wire_filter: str | None, order_by: str, limit: int, output: str
) -> None:
    """List the account's jobs, newest first (alias: ls): state, progress, failures, age, expiry.

    --state is checked by fwbatch (one state alone is also sent as the filter); --filter and --order-by are the
    API's own (AIP-160). Whether more jobs were left out by --limit is said on stderr.

    \b
    Examples:
      fwbatch list
      fwbatch ls --state running,pending -o wide
      fwbatch list --state failed --limit 0 -o json | jq -r '.[].name'
    """
    from .listing import JobSelection, show_list  # noqa: PLC0415 - see the imports

    selection = JobSelection(states, wire_filter)
    _run(show_list(settings, selection, order_by=order_by or None, limit=limit or None, output=output))


def _log_options(function: _F) -> _F:
    """The options that choose lines and how they look, handed to the command as ``selection`` and ``style``."""
    options = [
        click.option(
            "-n", "--tail", type=click.IntRange(min=0), help="Start with the last N lines (of those since --since)."
        ),
        click.option(
            "--since", metavar="10m|TIME", help="Start this long ago (90s, 10m, 2h, 1d) or at an RFC 3339 time."
        ),
        click.option("--from-start", is_flag=True, help="Start from the first line (the default)."),
        click.option("--rank", "ranks", type=click.IntRange(min=0), multiple=True, help="Only this rank (repeatable)."),
        click.option("--filter", "text", help="Only lines containing this text (the server filters)."),
        click.option(
            "--include",
            multiple=True,
            metavar="REGEX",
            help="Only lines whose message matches one of these (repeatable; counted after --tail).",
        ),
        click.option("--exclude", multiple=True, metavar="REGEX", help="No line whose message matches (repeatable)."),
        click.option(
            "-o",
            "--output",
            type=click.Choice(["text", "raw", "json", "template"]),  # lineformat.OUTPUTS, not imported for speed
            help="text: [rank] and message [default]; raw: the message alone; json: an object a line; template.",
        ),
        click.option("--json", "as_json", is_flag=True, help="Same as -o json."),
        click.option(
            "--template",
            metavar="FORMAT",
            help="With -o template (implied): a Python format string of {time}, {rank}, {job} and {message}.",
        ),
        click.option("--timestamps", is_flag=True, help="Text: start each line with its time, to the nanosecond."),
        click.option("--no-prefix", is_flag=True, help="Text: no [rank] or [job/rank] before each line."),
        click.option(
            "--lookback",
            type=click.FloatRange(min=0),
            default=10.0,
            show_default=True,
            metavar="SECONDS",
            help="Following: re-read this far behind the newest line, for lines that show up late.",
        ),
    ]

    @functools.wraps(function)
    def command(
        *args: Any,
        tail: int | None,
        since: str | None,
        from_start: bool,
        ranks: Sequence[int],
        text: str | None,
        include: Sequence[str],
        exclude: Sequence[str],
        lookback: float,
        output: str | None,
        as_json: bool,
        template: str | None,
        timestamps: bool,
        no_prefix: bool,
        **kwargs: Any,
    ) -> Any:
        from .lineformat import choose_output  # noqa: PLC0415 - see the imports
        from .logs import LogSelection  # noqa: PLC0415

        try:
            selection = LogSelection.from_options(
                tail=tail,
                since=since,
                from_start=from_start,
                ranks=ranks,
                text=text,
                lookback=lookback,
                include=include,
                exclude=exclude,
            )
            chosen, line_template = choose_output(output, as_json=as_json, template=template)
        except ValueError as error:
            raise click.UsageError(str(error)) from None
        style = _LineStyle(chosen, line_template, timestamps=timestamps, prefix=not no_prefix)
        return function(*args, selection=selection, style=style, **kwargs)

    for option in reversed(options):
        command = option(command)
    return cast("_F", command)


class _LineStyle(NamedTuple):
    """How log lines are written: text (with times, with prefixes or not), the message alone, JSON or a template."""

    output: Output
    template: LineTemplate | None
    timestamps: bool
    prefix: bool

    @property
    def as_json(self) -> bool:
        return self.output == "json"

    def writer(self, *, show_job: bool = False) -> LineWriter:
        from .lines import LineWriter, use_colour  # noqa: PLC0415 - see the imports

        return LineWriter(
            sys.stdout,
            colour=use_colour(sys.stdout),
            output=self.output,
            timestamps=self.timestamps,
            prefix=self.prefix,
            template=self.template,
            show_job=show_job,
        )


@main.command(epilog=_EXIT_CODES)
@click.argument("job", metavar="JOB", shell_complete=complete_jobs)
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines until the job finishes.")
@_log_options
@click.option("--batch-job-id", metavar="ID", help="Read the log of this batch job (if it differs from JOB).")
@click.pass_obj
def logs(
    settings: Settings,
    job: str,
    follow: bool,
    selection: LogSelection,
    style: _LineStyle,
    batch_job_id: str | None,
) -> None:
    """Print a job's log, oldest first; with -f, follow it like tail -f until the job finishes.

    With -f every line is printed exactly once, late lines included, and the command exits when the job has
    finished and its log drained, with a code that says how the job ended; Ctrl-C stops it (130).

    \b
    Examples:
      fwbatch logs nightly-eval --tail 100
      fwbatch logs nightly-eval -f --since 10m --rank 0
      fwbatch logs nightly-eval --filter ERROR --timestamps
      fwbatch logs nightly-eval --json | jq -r .message
      fwbatch logs nightly-eval -n 20 --since 1h --include 'ERROR|OOM' --exclude '^Heartbeat' -o raw
    """
    from .logs import show_logs  # noqa: PLC0415 - see the imports

    _run(show_logs(settings, job, selection, style.writer(), follow=follow, batch_job_id=batch_job_id))


@main.command(epilog=_EXIT_CODES)
@jobs_argument(required=False)
@all_options
@click.option(
    "--stall-after",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Say so when a running job makes no progress this long.",
)
@click.pass_obj
def watch(settings: Settings, jobs: Sequence[str], finder: JobFinder | None, stall_after: float | None) -> None:
    """Show live progress of jobs (state, counts, rate, ETA) until every one has finished.

    On a terminal each job gets a progress bar; elsewhere each change is one line. With --all: every job of the
    account not finished yet, and each job created later until all of them have finished.

    \b
    Examples:
      fwbatch watch nightly-eval
      fwbatch watch shard-1 shard-2 shard-3 && echo all completed
      fwbatch watch --all --state running
    """
    from .watch import watch_jobs  # noqa: PLC0415 - see the imports

    _run(watch_jobs(settings, jobs, stall_after=stall_after, finder=finder))


@main.command(epilog=_EXIT_CODES)
@jobs_argument(required=False)
@all_options
@_log_options
@click.pass_obj
def follow(
    settings: Settings,
    jobs: Sequence[str],
    finder: JobFinder | None,
    selection: LogSelection,
    style: _LineStyle,
) -> None:
    """Follow the logs of many jobs in one stream, [job/rank] before each line, until every job has finished.

    On a terminal a status line below the log counts jobs by state and lines; state changes are shown among the
    lines (on stderr when piped). With --json, log lines, updates and ends are JSON objects with an "event" key.
    With --all: every job of the account not finished yet, and each job created later until all have finished.

    \b
    Examples:
      fwbatch follow shard-1 shard-2 shard-3
      fwbatch follow shard-1 shard-2 --tail 0 --filter ERROR
      fwbatch follow shard-1 shard-2 --template '{job} {rank} {message}'
      fwbatch follow --all --tail 0
    """
    from .follow import follow_jobs  # noqa: PLC0415 - see the imports

    writer = style.writer(show_job=True)
    _run(follow_jobs(settings, jobs, selection, writer, as_json=style.as_json, finder=finder))


@main.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell's completion script: commands, options, and job ids from the account's list.

    \b
    Install it once, then open a new shell:
      bash: fwbatch completion bash > ~/.local/share/bash-completion/completions/fwbatch
      zsh:  echo 'eval "$(fwbatch completion zsh)"' >> ~/.zshrc
      fish: fwbatch completion fish > ~/.config/fish/completions/fwbatch.fish

    \b
    Example:
      eval "$(fwbatch completion bash)"
    """
    from .completion import completion_script  # noqa: PLC0415 - see the imports

    click.echo(completion_script(main, shell), nl=False)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port (0: any free one).")
@click.option(
    "--scenario",
    default="demo",
    show_default=True,
    help="A built-in scenario (bench, demo, small) or a JSON file.",  # the emulator's NAMED_SCENARIOS
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="Emulated seconds per real second.",
)
@click.option("--faults", default="", metavar="SPEC", help='Fault rates, e.g. "429=0.05,503=0.02,reset=0.01".')
@click.option(
    "--realism",
    default="",
    metavar="SPEC",
    help='Wire quirks; none by default, which is the live wire. E.g. "omit_defaults,auth_401" or "all".',
)
@click.option(
    "--account-rpm",
    type=click.FloatRange(min=0, min_open=True),
    metavar="N",
    help="Cap the account at N requests a real minute whatever the speed, every endpoint together (429 over it).",
)
@click.option("--api-key", "key", default="emulator-key", show_default=True, help="The API key it accepts.")
@click.option("--seed", type=int, help="Override the scenario's seed.")
def emulator(
    host: str,
    port: int,
    scenario: str,
    speed: float,
    faults: str,
    realism: str,
    account_rpm: float | None,
    key: str,
    seed: int | None,
) -> None:
    """Run a local emulator of the Fireworks batch API in the foreground (Ctrl-C stops it, exit 0).

    It prints the exports that point fwbatch (and your own code) at it.

    \b
    Examples:
      fwbatch emulator --port 8080
      fwbatch emulator --scenario my-jobs.json --speed 1 --faults 429=0.1,reset=0.02
      fwbatch emulator --account-rpm 600
    """
    from fwbatch_async.emulator.cli import build, run  # noqa: PLC0415 - see the imports

    try:
        server = build(
            scenario,
            speed=speed,
            faults=faults,
            realism=realism,
            account_rpm=account_rpm,
            api_key=key,
            seed=seed,
            host=host,
            port=port,
        )
    except (OSError, ValueError) as error:
        raise click.UsageError(str(error)) from None
    sys.exit(run(server, scenario, sys.stdout))


@main.command()
@click.option(
    "--speed",
    type=click.FloatRange(min=1),
    default=100.0,
    show_default=True,
    help="Emulated seconds per real second (the jobs last about an hour of emulated time).",
)
@click.pass_obj
def demo(settings: Settings, speed: float) -> None:
    """See it work in under a minute, no account needed: four emulated jobs followed to their end.

    A local emulator runs in this process; every job's log is followed from its first line while progress bars
    show each job's state; at the end every line received is checked against the emulator's: exactly once.

    \b
    Example:
      fwbatch demo
    """
    from .demo import run_demo  # noqa: PLC0415 - see the imports

    _run(run_demo(settings, speed))
