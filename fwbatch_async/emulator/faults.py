"""Fault injection: seeded rates per endpoint, and scripts that dictate the next outcomes exactly."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import Final

from fwbatch_async.emulator.rng import seeded

__all__ = ["ENDPOINTS", "FAULT_KINDS", "Faults"]

ENDPOINTS: Final = ("job", "logs", "list", "batch_job", "delete")
# 429_plain: a 429 whose body is {"error": "Too Many Requests"}, a plain string, as some live 429s carry.
FAULT_KINDS: Final = (
    "429",
    "429_retry_after",
    "429_plain",
    "500",
    "503",
    "502_html",
    "slow",
    "reset",
    "truncated",
)
# "slow" is left out of the default mix: it is meant to outlast a client timeout, so only ask for it explicitly.
_DEFAULT_KINDS: Final = {kind: 1.0 for kind in FAULT_KINDS if kind != "slow"}


def _check_kinds(kinds: Iterable[str], allowed: Iterable[str]) -> None:
    unknown = set(kinds) - set(allowed)
    if unknown:
        raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {', '.join(allowed)}")


class Faults:
    """Which requests fail, and how.

    Every request to an endpoint in ``endpoints`` fails with probability ``rate``, the kind drawn by ``kinds``
    weights; each endpoint has its own rng seeded from ``seed``, so the same sequence of requests meets the same
    faults. A script (:meth:`script`) overrides the draw for the next requests to an endpoint.

    Args:
        rate: probability that a request fails.
        kinds: relative weights of fault kinds (default: every kind but ``slow``, equally).
        endpoints: endpoints subject to the rate: ``"job"``, ``"logs"``, ``"list"``, ``"batch_job"``, ``"delete"``.
        seed: seed of the draws.
        slow_seconds: real seconds a ``slow`` response waits before answering.
        retry_after: seconds sent in ``Retry-After`` by ``429_retry_after``.
    """

    def __init__(
        self,
        rate: float = 0.0,
        *,
        kinds: Mapping[str, float] | None = None,
        endpoints: Iterable[str] = ENDPOINTS,
        seed: int = 0,
        slow_seconds: float = 30.0,
        retry_after: int = 1,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, not {rate}")
        weights = dict(_DEFAULT_KINDS if kinds is None else kinds)
        _check_kinds(weights, FAULT_KINDS)
        if rate and not any(w > 0 for w in weights.values()):
            raise ValueError("fault kinds need at least one positive weight")
        self.endpoints = tuple(endpoints)
        _check_kinds(self.endpoints, ENDPOINTS)
        self.rate = rate
        self.kinds = weights
        self.seed = seed
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self._rngs = {endpoint: seeded(seed, "faults", endpoint) for endpoint in ENDPOINTS}
        self._scripts: dict[str, deque[str]] = {endpoint: deque() for endpoint in ENDPOINTS}

    @classmethod
    def parse(cls, text: str, *, seed: int = 0, slow_seconds: float = 30.0) -> Faults:
        """Parse the command-line form: ``"429=0.05,503=0.02,reset=0.01"``: each kind with its own rate.

        ``seed=N`` and ``slow_seconds=S`` items are accepted too. An empty text means no faults.

        Raises:
            ValueError: on an unknown kind or a malformed item.
        """
        rates: dict[str, float] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, sep, value = item.partition("=")
            name = name.strip()
            if not sep:
                raise ValueError(f"fault item {item!r} is not kind=rate")
            if name == "seed":
                seed = int(value)
            elif name == "slow_seconds":
                slow_seconds = float(value)
            else:
                rates[name] = float(value)
        _check_kinds(rates, FAULT_KINDS)
        total = sum(rates.values())
        if any(r < 0 for r in rates.values()) or total > 1.0 + 1e-9:  # tolerance for float sums like 0.1 + 0.2
            raise ValueError(f"fault rates must be >= 0 and add up to at most 1: {text!r}")
        return cls(rate=min(total, 1.0), kinds=rates or None, seed=seed, slow_seconds=slow_seconds)

    def to_text(self) -> str:
        """The command-line form of these rates (``"none"`` without faults): each kind with its share of the rate.

        Scripts are not part of it; endpoints other than all of them are named after ``on``.

        Example:
            >>> Faults.parse("429=0.05,reset=0.01").to_text()
            '429=0.05,reset=0.01'
        """
        total = sum(self.kinds.values())
        if not self.rate or not total:
            return "none"
        text = ",".join(
            f"{kind}={round(self.rate * weight / total, 9):g}" for kind, weight in self.kinds.items() if weight > 0
        )
        return text if set(self.endpoints) == set(ENDPOINTS) else f"{text} on {','.join(self.endpoints)}"

    def script(self, endpoint: str, outcomes: Iterable[str]) -> None:
        """The next requests to ``endpoint`` get exactly ``outcomes``, in order (``"ok"``: no fault).

        Replaces any script left for that endpoint; after the script, the rate applies again.

        Raises:
            ValueError: on an unknown endpoint or outcome.
        """
        _check_kinds([endpoint], ENDPOINTS)
        queue = list(outcomes)
        _check_kinds(queue, (*FAULT_KINDS, "ok"))
        self._scripts[endpoint] = deque(queue)

    def pending_script(self, endpoint: str) -> list[str]:
        """The scripted outcomes not yet used for ``endpoint``."""
        return list(self._scripts[endpoint])

    def decide(self, endpoint: str) -> str | None:
        """The fault for the next request to ``endpoint``, or None to answer normally."""
        script = self._scripts[endpoint]
        if script:
            outcome = script.popleft()
            return None if outcome == "ok" else outcome
        if not self.rate or endpoint not in self.endpoints:
            return None
        rng = self._rngs[endpoint]
        if rng.random() >= self.rate:
            return None
        kinds = list(self.kinds)
        return rng.choices(kinds, weights=[self.kinds[k] for k in kinds])[0]
