"""Poll schedules: how long a caught-up reader waits before asking again.

Adaptive: a read that found new lines is followed soon (``min_interval``); each read that finds nothing waits
longer, by ``backoff``, up to ``max_interval``; new lines reset the wait. Waits are jittered so that many followers
started together do not poll in lockstep. Pure: the caller supplies the random number and does the waiting.
"""

from __future__ import annotations

from typing import Final

import attrs
from attrs import validators

__all__ = ["DEADLINE_SLACK", "PollPolicy", "PollSchedule"]

DEADLINE_SLACK: Final = 1e-3
"""Seconds within which a deadline counts as reached: a clock that keeps whole nanoseconds cannot sleep the last
fraction of one, and a loop waiting for it would ask again and again."""


@attrs.frozen
class PollPolicy:
    """When a caught-up follower asks again.

    Example:
        >>> schedule = PollPolicy(min_interval=0.5, max_interval=4.0, jitter=0.0).schedule()
        >>> [schedule.next_delay(found_new=False, random=0.5) for _ in range(5)]
        [0.5, 1.0, 2.0, 4.0, 4.0]
        >>> schedule.next_delay(found_new=True, random=0.5)
        0.5
    """

    min_interval: float = attrs.field(default=0.5, validator=validators.gt(0))
    """Seconds to wait after a read that found new lines."""
    max_interval: float = attrs.field(default=5.0, validator=validators.gt(0))
    """The longest wait, reached after reads that keep finding nothing."""
    backoff: float = attrs.field(default=2.0, validator=validators.ge(1))
    """How much longer each empty read makes the next wait."""
    jitter: float = attrs.field(default=0.1, validator=[validators.ge(0), validators.lt(1)])
    """The wait varies by up to this fraction either way."""

    def __attrs_post_init__(self) -> None:
        if self.max_interval < self.min_interval:
            raise ValueError(f"max_interval {self.max_interval} is below min_interval {self.min_interval}")

    def schedule(self) -> PollSchedule:
        """A fresh schedule, starting at the shortest wait."""
        return PollSchedule(self)


class PollSchedule:
    """The running state of a :class:`PollPolicy`: the current wait."""

    def __init__(self, policy: PollPolicy) -> None:
        self._policy = policy
        self._interval: float | None = None

    def next_delay(self, *, found_new: bool, random: float) -> float:
        """Seconds to wait after a read, given whether it found new lines and a uniform number in [0, 1)."""
        policy = self._policy
        if found_new or self._interval is None:
            self._interval = policy.min_interval
        else:
            self._interval = min(policy.max_interval, self._interval * policy.backoff)
        return self._interval * (1 + policy.jitter * (2 * random - 1))

    def reset(self) -> None:
        """Start again from the shortest wait (e.g. after the job was seen to change)."""
        self._interval = None
