"""Writing log lines: prefixes in stable colours on a terminal, plain in a pipe; the message alone, JSON, a template.

Every line is flushed as it is written, so ``fwbatch logs -f job | grep ERROR`` shows matches as they happen. On a
terminal an optional status line stays below the log: it is cleared before a line is written and written again
after.
"""

from __future__ import annotations

import os
import sys
import zlib
from typing import TYPE_CHECKING, Any, Final, TextIO

import orjson

import fwbatch_async as fw

if TYPE_CHECKING:
    from .lineformat import LineTemplate, Output

__all__ = ["LineWriter", "use_colour"]

# Foreground colours readable on dark and light terminals; red is kept for failures.
_PALETTE: Final = ("36", "33", "35", "32", "34", "96", "93", "95", "92", "94")
_RESET: Final = "\x1b[0m"
_CLEAR_LINE: Final = "\r\x1b[2K"


def use_colour(stream: TextIO) -> bool:
    """Colour for a terminal, unless ``NO_COLOR`` is set; ``FORCE_COLOR`` forces it anywhere."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream.isatty()


def _colour_of(key: str | int) -> str:
    """The same job or rank gets the same colour in every run."""
    index = key if isinstance(key, int) else zlib.crc32(key.encode())
    return _PALETTE[index % len(_PALETTE)]


class LineWriter:
    """Writes log lines and a status line to one stream.

    Args:
        stream: where to write (standard output).
        colour: colour the prefixes, and show state changes and a status line among text lines (a terminal, see
            :func:`use_colour`); other outputs keep the stream for their lines alone.
        output: ``text`` (prefix and message), ``raw`` (the message alone, exactly), ``json`` (one object a line:
            the entry as on the wire, and its job) or ``template`` (``template`` filled in).
        timestamps: text: start each line with its time, all nine fractional digits.
        prefix: text: start each line with ``[rank]`` (``[job/rank]`` with ``show_job``).
        template: what ``template`` output fills in.
        show_job: prefix lines with their job id as well as their rank (many jobs in one stream).

    Raises:
        ValueError: ``template`` output without a template.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        colour: bool,
        output: Output = "text",
        timestamps: bool = False,
        prefix: bool = True,
        template: LineTemplate | None = None,
        show_job: bool = False,
    ) -> None:
        if output == "template" and template is None:
            raise ValueError("template output needs a template")
        self._stream = stream
        self._colour = colour
        self._decorated = colour and output == "text"
        self._output = output
        self._timestamps = timestamps
        self._prefixed = prefix
        self._template = template
        self._show_job = show_job
        self._status = ""
        self.lines = 0
        """How many log lines were written."""

    def entry(self, entry: fw.LogEntry, job_id: str | None = None) -> None:
        """Write one log entry; a multi-line message is written whole."""
        self.lines += 1
        if self._output == "json":
            record: dict[str, Any] = {"logTime": entry.log_time.rfc3339(), "rank": entry.rank, "message": entry.message}
            self.record(record if job_id is None else {"job": job_id, **record})
            return
        self._write(self.format(entry, job_id) + "\n")

    def record(self, record: dict[str, Any]) -> None:
        """Write one JSON object as a line."""
        self._write(orjson.dumps(record).decode() + "\n")

    def note(self, text: str) -> None:
        """Tell of a state change: dimmed among text lines on a terminal; on stderr elsewhere, to keep the log clean."""
        if self._decorated:
            self._write(f"\x1b[2m{text}{_RESET}\n")
        else:
            sys.stderr.write(f"fwbatch: {text}\n")
            sys.stderr.flush()

    def error(self, text: str) -> None:
        """Report an error on stderr, also on a terminal, where the status line is cleared first and drawn again."""
        if self._status:
            self._stream.write(_CLEAR_LINE)
            self._stream.flush()
        sys.stderr.write(f"fwbatch: error: {text}\n")
        sys.stderr.flush()
        if self._status:
            self._stream.write(self._status)
            self._stream.flush()

    def status(self, text: str) -> None:
        """Show ``text`` as the status line below the log (terminal only; elsewhere it is dropped)."""
        if not self._decorated or text == self._status:
            return
        self._status = text
        self._stream.write(_CLEAR_LINE + text)
        self._stream.flush()

    def end_status(self) -> None:
        """Leave the status line where it is and move below it."""
        if self._status:
            self._stream.write("\n")
            self._stream.flush()
            self._status = ""

    def format(self, entry: fw.LogEntry, job_id: str | None = None) -> str:
        """An entry as a line of text (without its newline): its message, whole, as the output asks."""
        if self._output == "raw":
            return entry.message
        if self._output == "template" and self._template is not None:
            return self._template.render(entry, job_id)
        return self._prefix(entry, job_id) + entry.message

    def _prefix(self, entry: fw.LogEntry, job_id: str | None) -> str:
        time = f"{entry.log_time.rfc3339()} " if self._timestamps else ""
        if not self._prefixed:
            return time
        label = f"{job_id}/{entry.rank}" if self._show_job and job_id is not None else str(entry.rank)
        if self._colour:
            colour = _colour_of(job_id if self._show_job and job_id is not None else entry.rank)
            label = f"\x1b[{colour}m[{label}]{_RESET}"
        else:
            label = f"[{label}]"
        return f"{time}{label} "

    def _write(self, text: str) -> None:
        if self._status:
            text = _CLEAR_LINE + text + self._status
        self._stream.write(text)
        self._stream.flush()
