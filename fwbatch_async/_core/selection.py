"""Which log lines a read asks for, and how: one value for every method that reads logs.

The methods of :class:`~fwbatch_async.AsyncClient` that read logs take the line filters as keyword arguments typed
by :class:`LineFilter` (a new filter is one key here, not one more parameter in every signature) and build one
:class:`LogSelection`, which checks every argument before anything is sent and encodes the query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Final, Literal, TypedDict

import attrs

from .errors import ArgumentError
from .requests import (
    MAX_LOG_PAGE_SIZE,
    LogQuery,
    check_page_size,
    check_ranks,
    check_read_mask,
    log_query,
    to_timestamp,
)
from .timestamps import Timestamp

__all__ = ["DIRECTIONS", "LineFilter", "LogSelection"]

DIRECTIONS: Final = ("forward", "backward")


class LineFilter(TypedDict, total=False):
    """The lines a log read keeps, as keyword arguments of every method that reads logs.

    Example:
        >>> import fwbatch_async as fw
        >>> async def errors(client: fw.AsyncClient) -> list[fw.LogEntry]:
        ...     return await client.tail_logs("my-job", 20, ranks=[0, 3], filter="ERROR")
    """

    ranks: Iterable[int] | None
    """Only lines from these worker ranks (sent as repeated ``ranks`` parameters); every rank when ``None``."""
    filter: str | None
    """Only lines whose message contains this text."""


_FILTER_KEYS: Final = frozenset(LineFilter.__annotations__)


@attrs.frozen(kw_only=True)
class LogSelection:
    """A checked log selection: the line filters, page size, read mask, direction and lower bound of a read.

    Example:
        >>> selection = LogSelection.create({"ranks": [0]}, page_size=500, direction="backward")
        >>> selection.query("job-1", "acct").request().query
        'ranks=0&pageSize=500'
    """

    ranks: tuple[int, ...] | None = None
    filter: str | None = None
    page_size: int | None = None
    read_mask: str | None = None
    forward: bool = True
    start_time: Timestamp | None = None

    @classmethod
    def create(
        cls,
        lines: Mapping[str, object],
        *,
        page_size: int | None = None,
        read_mask: str | Iterable[str] | None = None,
        direction: Literal["forward", "backward"] | str = "forward",
        start_time: Timestamp | datetime | str | None = None,
    ) -> LogSelection:
        """A selection from a method's arguments (``lines`` holds its :class:`LineFilter` keywords).

        Raises:
            TypeError: an unknown keyword, or an argument of the wrong type.
            ValueError: an argument out of range; nothing has been sent.
        """
        unknown = sorted(set(lines) - _FILTER_KEYS)
        if unknown:
            raise TypeError(f"unexpected keyword argument {unknown[0]!r} (line filters: ranks=, filter=)")
        if direction not in DIRECTIONS:
            raise ArgumentError(f"direction must be 'forward' or 'backward', got {direction!r}")
        ranks = lines.get("ranks")
        if ranks is not None and not isinstance(ranks, Iterable):
            raise TypeError(f"ranks must be an iterable of ints, not {type(ranks).__name__}")
        text = lines.get("filter")
        if text is not None and not isinstance(text, str):
            raise TypeError(f"filter must be a str, not {type(text).__name__}")
        return cls(
            ranks=check_ranks(ranks),
            filter=text,
            page_size=check_page_size(page_size, MAX_LOG_PAGE_SIZE),
            read_mask=check_read_mask(read_mask),
            forward=direction == "forward",
            start_time=None if start_time is None else to_timestamp(start_time, "start_time"),
        )

    def query(self, batch_job: str, account_id: str | None) -> LogQuery:
        """The encoded query for ``batch_job`` (an id or full name), checked.

        Raises:
            ValueError: ``batch_job`` is malformed, or a bare id with no account known.
        """
        return log_query(
            batch_job,
            account_id,
            ranks=self.ranks,
            page_size=self.page_size,
            start_time=self.start_time,
            filter=self.filter,
            start_from_head=self.forward,
            read_mask=self.read_mask,
        )
