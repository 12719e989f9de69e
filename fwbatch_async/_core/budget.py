"""One request budget per client: an adaptive send rate, after botocore's adaptive retry mode, simplified.

Pure: the caller passes the time (monotonic seconds) and does the waiting. The rule:

- **Unlimited** until the first throttle: :meth:`AdaptiveRate.reserve` returns 0.
- **Measuring.** Every reservation counts as a send in 1 s buckets. When a bucket closes, the measured rate becomes
  0.8 x its count + 0.2 x the previous measure (buckets without sends count as 0). A throttle uses the larger of that
  and the count of the bucket still open, a lower bound of the rate right now.
- **Throttled** (the caller decides what is a throttle; the client counts 429 and 503): the allowed rate drops to
  ``max(min_rate, beta x min(allowed rate, measured rate))``. A throttle of a request sent no later than the last
  drop is counted but lowers nothing: it answers a request made at the old rate, so it says nothing about the new
  one (without this, a burst of in-flight requests answered 429 together would collapse the rate to ``min_rate``).
  The drop that begins a limit also sets its ceiling: 2 x the measured rate (at least 2 x ``min_rate``).
- **Succeeded**: the allowed rate grows by ``max(1, 0.1 x rate)`` requests/s for each second since it last changed
  (additive below 10 requests/s, 10 % a second above). Once it reaches the ceiling the limit is lifted: unlimited
  again until the next throttle.
- **Taking turns** (a token bucket whose fill rate is the allowed rate, holding at most ``burst`` sends): a caller
  :meth:`~AdaptiveRate.join` s the queue and asks :meth:`~AdaptiveRate.turn` when it may send. Its turn comes once
  the bucket holds a send for it and for every caller still waiting ahead of it. The answer is computed from the
  rate of the moment it is asked, never fixed in advance: a caller that asks again after the rate recovered gets a
  shorter wait, and one that :meth:`~AdaptiveRate.leave` s (cancelled) takes nobody's send with it.
"""

from __future__ import annotations

import bisect
import itertools
import math
from typing import Final

__all__ = ["RECHECK_AFTER", "THROTTLE_STATUSES", "AdaptiveRate"]

THROTTLE_STATUSES: Final = frozenset({429, 503})
"""HTTP statuses that mean "slow down": they lower the client's rate."""

RECHECK_AFTER: Final = 1.0
"""The longest a waiting caller sleeps before asking again, so a rate that recovers reaches the whole queue soon."""

_BUCKET: Final = 1.0  # seconds over which sends are counted
_SMOOTHING: Final = 0.8  # weight of the newest bucket in the measured rate
_CEILING_FACTOR: Final = 2.0  # the ceiling, in measured rates at the first throttle
_GROWTH: Final = 1.0  # requests/s gained per second while the rate is low...
_GROWTH_FRACTION: Final = 0.1  # ... and the fraction of the rate gained per second once that is more
_CLOSE_ENOUGH: Final = 1e-6  # a shorter wait is a turn: clocks count in ns or coarser, so it might never pass


class AdaptiveRate:
    """How fast a client may send: unlimited until the server throttles, then limited, recovering with success.

    See the module's documentation for the exact rule.

    Args:
        min_rate: the lowest rate it drops to, in requests per second.
        beta: the factor a throttle multiplies the rate by, between 0 and 1.
        burst: how many sends may go back to back after an idle spell while limited.

    Raises:
        ValueError: on an argument out of range.

    Example:
        >>> budget = AdaptiveRate()
        >>> [budget.turn(budget.join(), 0.0) for _ in range(32)][-1], budget.limited
        (0.0, False)
        >>> budget.throttled(0.5)  # 32 sends in this second: half of that is allowed
        >>> budget.rate, budget.ceiling
        (16.0, 64.0)
        >>> queue = [budget.join() for _ in range(3)]
        >>> [budget.turn(ticket, 0.5) for ticket in queue]  # the third waits for two sends, 1/16 s apart
        [0.0625, 0.125, 0.1875]
        >>> budget.succeeded(1.5)  # one second later: 10 % more, and the bucket has filled meanwhile
        >>> budget.rate, [budget.turn(ticket, 1.5) for ticket in queue]
        (17.6, [0.0, 0.0, 0.056818181818181816])
    """

    def __init__(self, *, min_rate: float = 0.5, beta: float = 0.5, burst: int = 2) -> None:
        if not (math.isfinite(min_rate) and min_rate > 0):
            raise ValueError(f"min_rate must be a positive number of requests per second, got {min_rate!r}")
        if not 0 < beta < 1:
            raise ValueError(f"beta must be between 0 and 1 (exclusive), got {beta!r}")
        if type(burst) is not int or burst < 1:
            raise ValueError(f"burst must be a positive int, got {burst!r}")
        self._min_rate = float(min_rate)
        self._beta = float(beta)
        self._burst = burst
        self._rate: float | None = None
        self._ceiling = math.inf
        self._tokens = 0.0  # sends the bucket holds, while limited
        self._filled = 0.0  # when the bucket was last filled up to date
        self._waiting: list[int] = []  # tickets of callers waiting for their turn, in order
        self._tickets = itertools.count()
        self._changed = -math.inf  # when the rate last changed
        self._dropped = -math.inf  # when it last dropped
        self._throttles = 0
        self._measured = 0.0
        self._bucket_start: float | None = None
        self._bucket_count = 0

    @property
    def limited(self) -> bool:
        """Whether sends are limited (after a throttle, until the rate recovered to its ceiling)."""
        return self._rate is not None

    @property
    def rate(self) -> float | None:
        """The requests per second allowed now, or ``None`` while unlimited."""
        return self._rate

    @property
    def ceiling(self) -> float | None:
        """The rate at which the limit is lifted, or ``None`` while unlimited."""
        return None if self._rate is None else self._ceiling

    @property
    def throttles(self) -> int:
        """How many throttles were reported, those that lowered nothing included."""
        return self._throttles

    @property
    def waiting(self) -> int:
        """How many callers have joined the queue and neither had their turn nor left."""
        return len(self._waiting)

    def join(self) -> int:
        """Join the queue: the ticket to ask :meth:`turn` with."""
        ticket = next(self._tickets)
        self._waiting.append(ticket)  # tickets grow, so the list stays sorted
        return ticket

    def try_send(self, now: float) -> bool:
        """Send at once, without a ticket, if sends are unlimited and nobody waits: counted as :meth:`turn` counts.

        The usual case, made cheap: it costs a request no queue bookkeeping. False means join and wait for a turn.
        """
        if self._rate is not None or self._waiting:
            return False
        self._measure(now)
        self._bucket_count += 1
        return True

    def turn(self, ticket: int, now: float) -> float:
        """Whether ``ticket``'s turn has come: 0.0 to send now, else the seconds until its turn at the current rate.

        A 0.0 uses the ticket up and counts as a send. A wait is worth asking again after (or sooner).

        Raises:
            ValueError: the ticket is not waiting (it had its turn, left, or never joined).
        """
        position = bisect.bisect_left(self._waiting, ticket)
        if position == len(self._waiting) or self._waiting[position] != ticket:
            raise ValueError(f"ticket {ticket} is not waiting")
        self._measure(now)
        if self._rate is not None:
            self._fill(now, self._rate)
            wait = (position + 1 - self._tokens) / self._rate  # a send for everyone ahead, and one for this ticket
            if wait > _CLOSE_ENOUGH:
                return wait
            self._tokens = max(0.0, self._tokens - 1)
        del self._waiting[position]
        self._bucket_count += 1
        return 0.0

    def leave(self, ticket: int) -> None:
        """Give up ``ticket``'s place (a cancelled caller); nothing happens if it is not waiting."""
        position = bisect.bisect_left(self._waiting, ticket)
        if position < len(self._waiting) and self._waiting[position] == ticket:
            del self._waiting[position]

    def throttled(self, now: float, *, sent: float | None = None) -> None:
        """The server throttled a request (answered at ``now``, sent at ``sent`` if known): lower the rate.

        A request sent no later than the last drop lowers nothing (see the module's documentation).
        """
        self._measure(now)
        self._throttles += 1
        if sent is not None and sent <= self._dropped:
            return
        measured = max(self._measured, self._bucket_count / _BUCKET)
        if self._rate is None:
            self._ceiling = _CEILING_FACTOR * max(measured, self._min_rate)
            current = measured
            self._tokens, self._filled = 0.0, now  # the sends that drew the throttle used the bucket up
        else:
            self._fill(now, self._rate)
            current = min(self._rate, measured)
        self._rate = max(self._min_rate, self._beta * current)
        self._changed = self._dropped = now

    def succeeded(self, now: float) -> None:
        """A request succeeded at ``now``: let the rate grow, and lift the limit once it reaches the ceiling."""
        if self._rate is None:
            return
        self._fill(now, self._rate)
        rate = self._rate + max(_GROWTH, _GROWTH_FRACTION * self._rate) * max(0.0, now - self._changed)
        self._changed = now
        if rate >= self._ceiling:
            self._rate, self._ceiling = None, math.inf
        else:
            self._rate = rate

    def _fill(self, now: float, rate: float) -> None:
        """Add the sends ``rate`` earned since the last fill, up to ``burst``."""
        if now > self._filled:
            self._tokens = min(float(self._burst), self._tokens + (now - self._filled) * rate)
            self._filled = now

    def _measure(self, now: float) -> None:
        """Close the buckets that ended by ``now`` into the measured rate."""
        if self._bucket_start is None:
            self._bucket_start = now
            return
        closed = math.floor((now - self._bucket_start) / _BUCKET)
        if closed >= 1:
            newest = self._bucket_count / _BUCKET
            self._measured = (_SMOOTHING * newest + (1 - _SMOOTHING) * self._measured) * (1 - _SMOOTHING) ** (
                closed - 1
            )
            self._bucket_start += closed * _BUCKET
            self._bucket_count = 0
