"""Exit codes, and running a command's coroutine so that every way it can end becomes one of them.

A user sees one clear line on stderr for anything that goes wrong, never a traceback (``-v`` adds the traceback of
an unexpected error, which is a bug worth reporting).
"""

from __future__ import annotations

import asyncio
import enum
import errno
import logging
import os
import sys
from collections.abc import Coroutine, Iterable
from typing import Any, Final
from urllib.parse import urlsplit

import fwbatch_async as fw

__all__ = ["ExitCode", "connection_problem", "describe", "in_cli_words", "job_outcome", "refused", "run"]

_LOG = logging.getLogger("fwbatch_async.cli")


class ExitCode(enum.IntEnum):
    """What ``fwbatch`` exits with."""

    OK = 0
    """Done; every job it waited for completed."""
    JOB_FAILED = 1
    """A job it waited for finished without success (failed, expired, cancelled, deleted)."""
    USAGE = 2
    """Bad flags or arguments, or missing credentials."""
    API = 3
    """The API refused (unknown job, bad key) or could not be reached."""
    INTERNAL = 70
    """A bug in fwbatch (``-v`` shows its traceback): worth reporting."""
    INTERRUPTED = 130
    """Stopped with Ctrl-C."""


def job_outcome(ends: Iterable[fw.JobEnded]) -> ExitCode:
    """The exit code for jobs followed to their end: an error reading one outranks a job that failed."""
    ends = list(ends)
    if any(end.error is not None for end in ends):
        return ExitCode.API
    if all(end.succeeded for end in ends):
        return ExitCode.OK
    return ExitCode.JOB_FAILED


# The library advises Python callers; a shell user needs the flag or variable that does the same.
_CLI_WORDS: Final = (
    ("batch_job_id ", "job "),  # a log id, given as JOB or as --batch-job-id
    ("job_id ", "job "),
    (
        "pass account_id= to the client, set FIREWORKS_ACCOUNT_ID, or pass the full name",
        "pass --account, set FIREWORKS_ACCOUNT_ID (or account_id in ~/.fireworks/auth.ini), or give the full name",
    ),
    (
        "pass account_id= to the client or set FIREWORKS_ACCOUNT_ID",
        "pass --account or set FIREWORKS_ACCOUNT_ID (or account_id in ~/.fireworks/auth.ini)",
    ),
    ("base_url ", "--base-url "),
    (
        "use https, or pass allow_insecure_http=True if you really mean it",
        "give an https:// address (plain http only to this machine, such as the emulator)",
    ),
    ("; pass allow_insecure_http=True", " (plain http only to this machine)"),
    ("api_key is", "the API key is"),
)


def in_cli_words(message: str) -> str:
    """A library message with its Python advice (``pass account_id=``) turned into the command's flags.

    Example:
        >>> in_cli_words("base_url 'ftp://h' is not http")
        "--base-url 'ftp://h' is not http"
    """
    for python, shell in _CLI_WORDS:
        message = message.replace(python, shell)
    return message


def _verbose() -> bool:
    """``-v`` given: the package's log shows INFO, and errors name the URL and request id."""
    return logging.getLogger("fwbatch_async").isEnabledFor(logging.INFO)


def _where(url: str, request_id: str | None = None) -> str:
    """The URL and request id, for ``-v`` only: they make a line long and matter only to whoever digs deeper."""
    notes = ([f"request id {request_id}"] if request_id else []) + ([url] if url else [])
    return f" [{'; '.join(notes)}]" if notes and _verbose() else ""


def refused(error: fw.FwBatchError) -> bool:
    """Whether nothing listens at the address: the connection was refused, not lost or slow."""
    cause = error.__cause__
    return isinstance(error, fw.APIConnectionError) and isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED


def connection_problem(error: fw.APIConnectionError) -> str:
    """What went wrong reaching the server, shortly: ``connection refused by 127.0.0.1:9``.

    Example:
        >>> connection_problem(fw.APITimeoutError("no response within the timeout", url="http://h:1/v1/x"))
        'no response within the timeout'
    """
    if refused(error):
        return f"connection refused by {urlsplit(error.url).netloc or 'the server'}"
    return error.message


def describe(error: fw.FwBatchError, *, advice: bool = True) -> str:
    """The error's one short line in the command's words; ``-v`` adds the URL and the request id.

    ``advice`` adds where to look when the key or the address is wrong.

    Example:
        >>> describe(fw.NotFoundError("job 'x' not found", status=404, code="NOT_FOUND", url="http://h/v1/x"))
        "HTTP 404 NOT_FOUND: job 'x' not found"
    """
    if isinstance(error, fw.APIStatusError):
        # The summary prints the server's text safely; without the URL, reason and request id it stays short.
        bare = fw.APIStatusError(error.message, status=error.status, code=error.code)
        text = bare.summary + _where(error.url, error.request_id)
        if advice and isinstance(error, fw.AuthenticationError):
            return f"{text} (check --api-key or FIREWORKS_API_KEY)"
        return text
    if isinstance(error, fw.APIConnectionError):
        text = in_cli_words(connection_problem(error)) + _where(error.url)
        return f"{text} (check --base-url or FIREWORKS_BASE_URL)" if advice else text
    if isinstance(error, fw.InvalidResponseError):
        return f"invalid {error.endpoint} response (HTTP {error.status}): {error.problem}{_where(error.url)}"
    return str(error)


def _silence_stdout() -> None:
    """After a closed pipe, send what is still buffered nowhere, so exiting does not print a second error."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def run(main: Coroutine[Any, Any, ExitCode]) -> ExitCode:
    """Run a command's coroutine to its exit code; errors become one line on stderr."""
    try:
        return asyncio.run(main)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception as error:  # every error is one line; a bug's traceback only under -v
        if _closed_pipe(error):  # `fwbatch logs -f job | head`: the reader is done, and so are we
            _silence_stdout()
            return ExitCode.OK
        code, message = _failure(error)
        _report(message)
        return code


def _closed_pipe(error: BaseException) -> bool:
    """Whether stdout's reader went away, however deep in the command's tasks that was noticed (``watch | head``)."""
    if isinstance(error, BaseExceptionGroup):
        return error.subgroup(lambda leaf: not isinstance(leaf, BrokenPipeError | BaseExceptionGroup)) is None
    return isinstance(error, BrokenPipeError)


def _failure(error: Exception) -> tuple[ExitCode, str]:
    """The exit code and the line for an error: a job's end, the API's answer, bad usage, or a bug of ours."""
    if isinstance(error, fw.JobError):
        return ExitCode.JOB_FAILED, str(error)
    if isinstance(error, fw.FwBatchError):
        return ExitCode.API, describe(error)
    if isinstance(error, fw.ArgumentError):  # the library checks arguments before it sends anything
        return ExitCode.USAGE, in_cli_words(str(error))
    # Not the user's mistake, even a ValueError: the library raised it for something other than an argument.
    return ExitCode.INTERNAL, f"internal error, please report it: {type(error).__name__}: {error}"


def _report(message: str) -> None:
    _LOG.debug("the command failed", exc_info=True)
    sys.stderr.write(f"fwbatch: error: {message}\n")
