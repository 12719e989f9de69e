"""The account's request cap: a token bucket over every endpoint, as Fireworks caps an account.

Fireworks allows an account 6,000 requests a minute across all its API use (10 a minute without a payment method);
over it, 429. Whether such a 429 says how long to wait is not published, so a share of them carry ``Retry-After``
(the seconds until a request would be let through, rounded up) and the rest do not. Times are real seconds, as
clients count them: on an emulator sped up 60 times, a cap of 600 a minute is still 10 requests a real second.
"""

from __future__ import annotations

import math

from fwbatch_async.emulator.rng import seeded

__all__ = ["AccountCap"]


class AccountCap:
    """At most ``per_minute`` requests a minute, in bursts of at most a second's worth (at least one).

    Args:
        per_minute: requests allowed a minute; the limit can be changed while it runs (:attr:`per_minute`).
        retry_after_share: the share of refused requests whose 429 carries ``Retry-After``.
        seed: seed of the draw of which carry it.

    Example:
        >>> cap = AccountCap(per_minute=120, retry_after_share=1.0)
        >>> [cap.admit(0.0) for _ in range(3)]  # two a second: the burst is two
        [None, None, 1]
    """

    def __init__(self, per_minute: float, *, retry_after_share: float = 0.5, seed: int = 0) -> None:
        if not (math.isfinite(per_minute) and per_minute > 0):
            raise ValueError(f"the account cap must be a positive number of requests a minute, not {per_minute}")
        if not 0.0 <= retry_after_share <= 1.0:
            raise ValueError(f"retry_after_share must be between 0 and 1, not {retry_after_share}")
        self._per_minute = float(per_minute)
        self._retry_after_share = retry_after_share
        self._rng = seeded(seed, "account cap")
        self._tokens = self._burst
        self._filled: float | None = None

    @property
    def per_minute(self) -> float:
        """Requests allowed a minute."""
        return self._per_minute

    @per_minute.setter
    def per_minute(self, value: float) -> None:
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"the account cap must be a positive number of requests a minute, not {value}")
        self._per_minute = float(value)
        self._tokens = min(self._tokens, self._burst)

    @property
    def _burst(self) -> float:
        return max(1.0, self._per_minute / 60)

    def admit(self, now: float) -> int | None:
        """Let a request through at ``now`` (emulated seconds), or refuse it.

        Returns:
            ``None`` to let it through; to refuse it, the ``Retry-After`` seconds to send with the 429, or 0 for none.
        """
        rate = self._per_minute / 60
        if self._filled is None:  # the first request finds the bucket full, at the cap of that moment
            self._tokens = self._burst
        else:
            self._tokens = min(self._burst, self._tokens + max(0.0, now - self._filled) * rate)
        self._filled = now
        if self._tokens >= 1:
            self._tokens -= 1
            return None
        if self._rng.random() >= self._retry_after_share:
            return 0
        return max(1, math.ceil((1 - self._tokens) / rate))
