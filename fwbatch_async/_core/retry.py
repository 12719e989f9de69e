"""Retry decisions: whether a failed request is tried again, and after how long. Pure: it returns delays.

Exponential backoff with full jitter (delay = random x min(cap, base x 2^(attempt-1))), unless the server said how
long to wait (``Retry-After`` in seconds or as an HTTP date, or ``retry-after-ms``), which is honoured up to a cap.
Every call has an overall time limit (``timeout``): a retry whose wait would end past it is not made. How fast
requests go out at all (the client's send rate, which a ``Retry-After`` pauses for every request) is decided
elsewhere, in ``rate.py``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Final

import attrs
from attrs import validators

from .errors import APIConnectionError, APIStatusError, FwBatchError, InvalidResponseError

__all__ = ["RetryPolicy", "retry_after_seconds"]

RETRYABLE_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})
_DOUBLINGS: Final = 60  # the backoff stops growing long before this; the cap keeps the arithmetic small


def _status_set(statuses: Iterable[int]) -> frozenset[int]:
    return frozenset(statuses)


@attrs.frozen
class RetryPolicy:
    """How a failed request is retried.

    Connection errors, timeouts, responses cut short, and the statuses in :attr:`statuses` are retried;
    400, 401, 403 and 404 never are: asking again cannot change the answer.

    Example:
        >>> from fwbatch_async import NotFoundError, RateLimitError
        >>> policy = RetryPolicy(max_attempts=3, base_delay=1.0)
        >>> policy.delay_after(RateLimitError("slow down", status=429), attempt=1, elapsed=0.0, random=0.5)
        0.5
        >>> policy.delay_after(NotFoundError("no such job", status=404), attempt=1, elapsed=0.0, random=0.5)
    """

    max_attempts: int = attrs.field(default=6, validator=validators.ge(1))
    """Attempts in all, the first included; ``1`` disables retries."""
    base_delay: float = attrs.field(default=0.5, validator=validators.ge(0))
    """The backoff before the first retry, before jitter."""
    max_delay: float = attrs.field(default=20.0, validator=validators.ge(0))
    """The largest backoff of our own, before jitter."""
    max_retry_after: float = attrs.field(default=120.0, validator=validators.ge(0))
    """The longest server-requested wait that is honoured; longer requests wait this long."""
    timeout: float | None = 300.0
    """Overall seconds for one call, all attempts and waits included; ``None`` for no limit."""
    statuses: frozenset[int] = attrs.field(default=RETRYABLE_STATUSES, converter=_status_set)
    """HTTP statuses that are retried."""

    def __attrs_post_init__(self) -> None:
        if self.timeout is not None and not self.timeout > 0:
            raise ValueError(f"timeout must be positive seconds or None, got {self.timeout!r}")

    @classmethod
    def never(cls) -> RetryPolicy:
        """A policy that makes every request once."""
        return cls(max_attempts=1)

    def patient(self) -> RetryPolicy:
        """The same waits without an end: for follows and watches, to which failures are weather, not death.

        Errors that retrying cannot fix still end them; the caller's own deadline (a wait's ``timeout``) still holds.

        Example:
            >>> RetryPolicy().patient().timeout is None
            True
        """
        return attrs.evolve(self, max_attempts=sys.maxsize, timeout=None)

    def is_retryable(self, error: BaseException) -> bool:
        """Whether asking again could succeed."""
        if isinstance(error, APIStatusError):
            return error.status in self.statuses
        if isinstance(error, InvalidResponseError):
            return error.transient
        return isinstance(error, APIConnectionError)

    def delay_after(self, error: FwBatchError, *, attempt: int, elapsed: float, random: float) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` to give up and raise ``error``.

        Args:
            error: what the attempt failed with.
            attempt: how many attempts have been made (1 after the first failure).
            elapsed: seconds since the call began.
            random: a uniform number in [0, 1) for the jitter.
        """
        if attempt >= self.max_attempts or not self.is_retryable(error):
            return None
        requested = error.retry_after if isinstance(error, APIStatusError) else None
        if requested is not None:
            delay = min(requested, self.max_retry_after)
        else:
            delay = random * min(self.max_delay, self.base_delay * 2 ** min(attempt - 1, _DOUBLINGS))
        if self.timeout is not None and elapsed + delay > self.timeout:
            return None
        return delay


def _seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def retry_after_seconds(headers: Mapping[str, str], *, now: float) -> float | None:
    """How long the server asked to wait, from ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date).

    Args:
        headers: response headers, looked up with lower-case names.
        now: the current Unix time in seconds, to turn an HTTP date into a wait.
    """
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = _seconds(millis.strip())
        if seconds is not None:
            return seconds / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _seconds(value.strip())
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)
