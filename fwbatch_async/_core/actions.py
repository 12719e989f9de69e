"""What a follow or watch machine asks of its driver next: send a request, wait until a time, or nothing more.

The machines (``following.py``, ``watching.py``) never do I/O: the driver asks ``next_request(now)``, sends what it
gets, and feeds the answer back (``on_page`` / ``on_job``, or ``on_failure``), in the manner of h11's
``Connection``. Times are the driver's monotonic seconds.
"""

from __future__ import annotations

from typing import Final

import attrs

from .requests import Request

__all__ = ["DONE", "Action", "Done", "Wait"]


@attrs.frozen
class Wait:
    """Ask again at :attr:`until` (monotonic seconds): nothing is due before then."""

    until: float


@attrs.frozen
class Done:
    """The machine has finished: nothing more to send."""


DONE: Final = Done()

Action = Request | Wait | Done
"""What ``next_request`` returns."""
