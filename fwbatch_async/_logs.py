"""Following a log like ``tail -f``: the :class:`FollowLogs` stream, which hands out a follow machine's entries.

It pulls: requests are made when the consumer asks for the next entry, and no background task is started, so
breaking out of a loop, cancelling, or an exception in the consumer's code leaves nothing running. What a follow does
is decided by its :class:`~fwbatch_async._core.following.FollowMachine`.
"""

from __future__ import annotations

import operator
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from contextlib import aclosing
from typing import Self

from ._core.cursor import FollowCursor
from ._core.following import FollowMachine
from ._core.models import LogEntry
from ._core.window import FollowStats
from ._drive import Attempts, follow_batches

__all__ = ["FollowLogs"]


class FollowLogs:
    """An open log follow: iterate it for entries; read :attr:`cursor` and :attr:`stats` at any time.

    Iteration goes on until :meth:`finish` was called and the log has drained, or forever. Made by
    :meth:`fwbatch_async.AsyncClient.follow_logs`; use it with ``async with``. Leaving the block (normally, by
    ``break``, by an exception or by cancellation) stops the follow; it holds no task and no connection of its
    own between requests. Entries come oldest first, except that an entry which became visible late is delivered
    when it is found, after newer ones (:attr:`FollowStats.late_entries` counts them).

    Example:
        >>> import fwbatch_async as fw
        >>> async def resume(client: fw.AsyncClient, saved: str | None) -> str:
        ...     start = {"cursor": saved} if saved else {"last": 10}
        ...     async with client.follow_logs("my-job", **start) as logs:
        ...         async for entry in logs:
        ...             print(entry.message)
        ...             if entry.message.startswith("Batch inference job completed"):
        ...                 break
        ...     return logs.cursor.to_json()
    """

    def __init__(self, machine: FollowMachine, sender: Attempts, *, label: str) -> None:
        self._machine = machine
        self._sender = sender
        self._label = label
        self._batch: Sequence[LogEntry] = ()
        self._left: Iterator[LogEntry] = iter(())
        self._earlier = 0  # entries handed over before the batch being handed over
        self._iterator: AsyncGenerator[LogEntry] | None = None
        self._closed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[LogEntry]:
        if self._closed:
            raise RuntimeError("this log follow is closed")
        if self._iterator is None:
            self._iterator = self._entries()
        return self._iterator

    async def aclose(self) -> None:
        """Stop following. Safe to call more than once."""
        self._closed = True
        iterator, self._iterator = self._iterator, None
        if iterator is not None:
            await iterator.aclose()

    def finish(self) -> None:
        """Say the job has finished: iteration ends once its lookback has passed and a read finds nothing new.

        Lines that the job wrote before it finished but that become visible late are still delivered. Calling it
        again changes nothing.
        """
        self._machine.finish(self._sender.clock.monotonic())

    @property
    def stats(self) -> FollowStats:
        """Counters of this follow, updated as it runs."""
        stats = self._machine.stats
        stats.entries_delivered = self._earlier + self._handed_over()  # counted when asked, not for every entry
        return stats

    def _handed_over(self) -> int:
        """Entries of the batch being handed over that the consumer has received."""
        return len(self._batch) - operator.length_hint(self._left)

    @property
    def cursor(self) -> FollowCursor:
        """Where the follow is now: pass it as ``cursor=`` to resume, in this process or another.

        Exactly the entries handed to the consumer so far count as delivered.

        Raises:
            RuntimeError: a follow from ``last=`` has not read its first entries yet.
        """
        return self._machine.cursor(self._batch[self._handed_over() :])

    async def _entries(self) -> AsyncGenerator[LogEntry]:
        """Entries one by one, keeping count of what the consumer has received (the cursor depends on it)."""
        async with aclosing(follow_batches(self._machine, self._sender, label=self._label)) as batches:
            async for batch in batches:
                self._batch = batch
                self._left = left = iter(batch)  # what it has not yielded is what is left to hand over
                try:
                    for entry in left:
                        yield entry
                finally:
                    self._earlier += self._handed_over()
                    self._batch, self._left = (), iter(())
                del batch  # not kept while the next page is awaited
