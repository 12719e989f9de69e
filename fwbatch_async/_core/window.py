"""What a log follow is told (its window) and what it reports (its counters, and what each read found)."""

from __future__ import annotations

import attrs

__all__ = ["FollowStats", "ReadOutcome", "WindowSettings"]


@attrs.frozen
class WindowSettings:
    """How far back a follower looks.

    Attributes:
        lookback: seconds behind the newest entry that every read re-reads, for entries that arrive late.
        audit: seconds below that window that every read also re-reads, to count entries that arrived too late.
        max_window: the most keys kept; beyond it the oldest are dropped and the loss is reported.
    """

    lookback: float = attrs.field(default=10.0, validator=attrs.validators.ge(0))
    audit: float = attrs.field(default=10.0, validator=attrs.validators.ge(0))
    max_window: int = attrs.field(default=200_000, validator=attrs.validators.ge(1))


@attrs.define
class FollowStats:
    """Counters of a log follow, updated as it runs.

    Attributes:
        entries_delivered: entries handed to the consumer.
        requests: HTTP requests sent, retries included.
        retries: requests that were retries of a failed one.
        reads: reads (polls) begun.
        late_entries: entries delivered after a newer one had been (they became visible late).
        possibly_missed: entries that arrived later than the lookback window and were not delivered.
        window_overflows: times the window outgrew its hard cap and its oldest keys were dropped.
        failures: requests that failed after every retry; the follower waited and went on.
        token_restarts: reads restarted because the server rejected a page token.

    Example:
        >>> import fwbatch_async as fw
        >>> async def follow(client: fw.AsyncClient) -> None:
        ...     async with client.follow_logs("my-job") as logs:
        ...         async for _entry in logs:
        ...             if logs.stats.possibly_missed:
        ...                 print("some lines arrived later than the lookback")
    """

    entries_delivered: int = 0
    requests: int = 0
    retries: int = 0
    reads: int = 0
    late_entries: int = 0
    possibly_missed: int = 0
    window_overflows: int = 0
    failures: int = 0
    token_restarts: int = 0


@attrs.frozen
class ReadOutcome:
    """What a finished read found."""

    delivered: int
    """Entries the read delivered."""
    missed: int
    """Entries found to have arrived later than the window (counted, not delivered)."""
    missed_from: int | None = None
    """Nanoseconds: the start of the earliest second where entries were missed."""
    missed_until: int | None = None
    """Nanoseconds: the end of the latest second where entries were missed."""
    overflowed: bool = False
    """The window outgrew its cap and its oldest keys were dropped."""
