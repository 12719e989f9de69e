"""Counters of what the emulator served, readable from Python and from ``GET /_emulator/stats``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs

__all__ = ["Stats"]


@attrs.define
class Stats:
    """Request, response, fault and log counters.

    Attributes:
        requests: requests per endpoint (``job``, ``logs``, ``list``, ``admin``, ``unknown``).
        responses: responses per HTTP status (injected faults included).
        faults: faults injected per kind.
        capped: requests refused (429) because the account's request cap was reached.
        per_second: API requests (``job``, ``logs`` and ``list`` together) per whole second since the emulator
            started, real seconds on a sped-up clock: to check a rate over any window.
        capped_per_second: the same, of the requests refused by the account's cap.
        entries_served: log entries in successful getLogs responses.
        pages_served: successful getLogs responses.
        in_flight: API requests being handled now: from when the handler starts to when its response is ready,
            an injected slow answer included (the admin endpoint and unknown paths are not counted).
        max_in_flight: the most API requests handled at once.
    """

    requests: Counter[str] = attrs.field(factory=Counter)
    responses: Counter[int] = attrs.field(factory=Counter)
    faults: Counter[str] = attrs.field(factory=Counter)
    capped: int = 0
    per_second: Counter[int] = attrs.field(factory=Counter)
    capped_per_second: Counter[int] = attrs.field(factory=Counter)
    entries_served: int = 0
    pages_served: int = 0
    in_flight: int = 0
    max_in_flight: int = 0

    @contextmanager
    def handling(self) -> Iterator[None]:
        """Count one request as in flight while the block runs."""
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            yield
        finally:
            self.in_flight -= 1

    def to_json(self) -> dict[str, Any]:
        """The counters as a JSON-ready dict (statuses as string keys)."""
        return {
            "requests": dict(self.requests),
            "responses": {str(status): n for status, n in sorted(self.responses.items())},
            "faults": dict(self.faults),
            "capped": self.capped,
            "perSecond": {str(second): n for second, n in sorted(self.per_second.items())},
            "cappedPerSecond": {str(second): n for second, n in sorted(self.capped_per_second.items())},
            "entriesServed": self.entries_served,
            "pagesServed": self.pages_served,
            "maxInFlight": self.max_in_flight,
        }

    def reset(self) -> None:
        """Zero every counter; the most in flight starts again from the requests in flight now."""
        self.requests.clear()
        self.responses.clear()
        self.faults.clear()
        self.capped = 0
        self.per_second.clear()
        self.capped_per_second.clear()
        self.entries_served = 0
        self.pages_served = 0
        # Requests in flight still finish, and count themselves out, after a reset.
        self.max_in_flight = self.in_flight
