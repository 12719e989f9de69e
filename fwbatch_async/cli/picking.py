"""Which of the lines read are printed: ``--include`` / ``--exclude`` on the message, and the ``--since`` of a tail.

These choose among lines already delivered, in this process: the follower underneath still sees every line the
server sent, so its exactly-once bookkeeping (and the count of lines it reports) is untouched by them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs

import fwbatch_async as fw

__all__ = ["LinePicker", "compile_patterns"]


def compile_patterns(texts: Iterable[str], option: str) -> tuple[re.Pattern[str], ...]:
    """The regular expressions given to ``option``, compiled.

    Example:
        >>> compile_patterns(["ERROR", "rank [0-3]"], "--include")[1].pattern
        'rank [0-3]'

    Raises:
        ValueError: one is not a regular expression; the message names the option and says why.
    """
    patterns = []
    for text in texts:
        try:
            patterns.append(re.compile(text))
        except re.error as error:
            raise ValueError(f"{option} {text!r} is not a regular expression: {error.msg}") from None
    return tuple(patterns)


@attrs.frozen
class LinePicker:
    """Which lines to print: a message matching an ``include`` (or none given) and no ``exclude``, not too old.

    ``not_before_ns`` is the ``--since`` that goes with a ``--tail``: the server is asked for the tail only.

    Example:
        >>> picker = LinePicker(include=compile_patterns(["ERR"], "--include"))
        >>> picker.shows(fw.LogEntry(fw.Timestamp(0), 0, "ERROR: out of memory"))
        True
    """

    include: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()
    not_before_ns: int | None = None

    def shows(self, entry: fw.LogEntry) -> bool:
        """Whether to print ``entry``; a pattern may match anywhere in the message, which may span lines."""
        if self.not_before_ns is not None and entry.log_time.ns < self.not_before_ns:
            return False
        message = entry.message
        if self.include and not any(pattern.search(message) for pattern in self.include):
            return False
        return not any(pattern.search(message) for pattern in self.exclude)
