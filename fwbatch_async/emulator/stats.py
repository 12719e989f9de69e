"""Counters of what the emulator served, readable from Python and from ``GET /_emulator/stats``."""

from __future__ import annotations

from collections import Counter
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
        entries_served: log entries in successful getLogs responses.
        pages_served: successful getLogs responses.
    """

    requests: Counter[str] = attrs.field(factory=Counter)
    responses: Counter[int] = attrs.field(factory=Counter)
    faults: Counter[str] = attrs.field(factory=Counter)
    entries_served: int = 0
    pages_served: int = 0

    def to_json(self) -> dict[str, Any]:
        """The counters as a JSON-ready dict (statuses as string keys)."""
        return {
            "requests": dict(self.requests),
            "responses": {str(status): n for status, n in sorted(self.responses.items())},
            "faults": dict(self.faults),
            "entriesServed": self.entries_served,
            "pagesServed": self.pages_served,
        }

    def reset(self) -> None:
        """Zero every counter."""
        self.requests.clear()
        self.responses.clear()
        self.faults.clear()
        self.entries_served = 0
        self.pages_served = 0
