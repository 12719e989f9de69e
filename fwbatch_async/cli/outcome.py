"""Exit codes, and running a command's coroutine so that every way it can end becomes one of them.

A user sees one clear line on stderr for anything that goes wrong, never a traceback (``-v`` adds the traceback of
an unexpected error, which is a bug worth reporting).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import sys
from collections.abc import Coroutine, Iterable
from typing import Any

import fwbatch_async as fw

__all__ = ["ExitCode", "describe", "job_outcome", "run"]

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


def describe(error: fw.FwBatchError) -> str:
    """The error's one line, with where to look when it is about the key or the address."""
    if isinstance(error, fw.AuthenticationError):
        return f"{error.summary} (check --api-key or FIREWORKS_API_KEY)"
    if isinstance(error, fw.APIConnectionError):
        return f"{error} (check --base-url or FIREWORKS_BASE_URL)"
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
    except BrokenPipeError:  # `fwbatch logs -f job | head`: the reader is done, and so are we
        _silence_stdout()
        return ExitCode.OK
    except Exception as error:  # every error is one line; a bug's traceback only under -v
        code, message = _failure(error)
        _report(message)
        return code


def _failure(error: Exception) -> tuple[ExitCode, str]:
    """The exit code and the line for an error: a job's end, the API's answer, bad usage, or a bug of ours."""
    if isinstance(error, fw.JobError):
        return ExitCode.JOB_FAILED, str(error)
    if isinstance(error, fw.FwBatchError):
        return ExitCode.API, describe(error)
    if isinstance(error, fw.ArgumentError):  # the library checks arguments before it sends anything
        return ExitCode.USAGE, str(error)
    # Not the user's mistake, even a ValueError: the library raised it for something other than an argument.
    return ExitCode.INTERNAL, f"internal error, please report it: {type(error).__name__}: {error}"


def _report(message: str) -> None:
    _LOG.debug("the command failed", exc_info=True)
    sys.stderr.write(f"fwbatch: error: {message}\n")
