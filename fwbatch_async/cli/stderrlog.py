"""The library's log on stderr, in the command's words: ``fwbatch: warning: ...``; more of it with ``-v``."""

from __future__ import annotations

import logging
import sys

import fwbatch_async as fw

from .outcome import describe

__all__ = ["log_to_stderr"]


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is when a record comes, so a live display that redirects it stays whole."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            args = record.args
            if isinstance(args, tuple):  # errors in the command's words, short: URLs only with -v
                record = logging.makeLogRecord(record.__dict__)
                record.args = tuple(
                    describe(arg, advice=False) if isinstance(arg, fw.FwBatchError) else arg for arg in args
                )
            sys.stderr.write(f"fwbatch: {record.levelname.lower()}: {self.format(record)}\n")
        except Exception:  # logging must never take the command down
            self.handleError(record)


def _not_reported_again(record: logging.LogRecord) -> bool:
    """Drop the library's note that a job's follow stopped: every command reports each job's end itself, once."""
    return not str(record.msg).startswith("job %s: following stopped")


def log_to_stderr(level: int) -> None:
    """The library's warnings (lines possibly missed, an outage) always; more with -v."""
    handler = _StderrHandler()
    handler.addFilter(_not_reported_again)
    package = logging.getLogger("fwbatch_async")
    package.addHandler(handler)
    package.setLevel(level)
