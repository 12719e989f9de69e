"""The sources of a job's log: lines at fixed times (startup, endings, result writing) and steady streams.

Each source covers a span of time and yields the lines of any part of it from an rng it is handed, so the log
generator can produce a job's log one second at a time, in any order of seconds, with the same result.
"""

from __future__ import annotations

import bisect
import random

import attrs

from fwbatch_async.emulator.messages import JobText
from fwbatch_async.emulator.timeline import Timeline
from fwbatch_async.emulator.wire import NS_PER_SECOND

__all__ = ["EventSource", "Line", "RateSource"]

# (raw time ns, rank, message, fraction digits or None to draw them)
Line = tuple[int, int, str, int | None]


@attrs.define
class EventSource:
    """Lines at fixed, precomputed times (startup, endings, result writing)."""

    name: str
    events: list[Line]
    start: int = attrs.field(init=False)
    end: int | None = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.events.sort(key=lambda e: e[0])
        self.start = self.events[0][0] if self.events else 0
        self.end = self.events[-1][0] + 1 if self.events else 0

    def lines(self, lo: int, hi: int, _rng: random.Random) -> list[Line]:
        """The precomputed lines in ``[lo, hi)`` (no randomness: the rng is not used)."""
        first = bisect.bisect_left(self.events, lo, key=lambda e: e[0])
        last = bisect.bisect_left(self.events, hi, key=lambda e: e[0])
        return self.events[first:last]

    def next_time(self, after: int) -> int | None:
        """The first event time at or after ``after``, to skip empty seconds."""
        i = bisect.bisect_left(self.events, after, key=lambda e: e[0])
        return self.events[i][0] if i < len(self.events) else None


@attrs.define
class RateSource:
    """A steady stream: ``milli_rate`` lines per 1000 s over ``[start, end)``, with optional bursts.

    ``stalled`` streams write "no progress" warnings instead of batch progress.
    """

    name: str
    start: int
    end: int | None
    milli_rate: int
    text: JobText
    timeline: Timeline
    ranks: int
    stalled: bool = False
    burst_every: int | None = None
    burst_size: int = 0
    digits: tuple[int, ...] = (9,)

    def _count_before(self, t: int) -> int:
        return self.milli_rate * (t - self.start) // (1000 * NS_PER_SECOND)

    def lines(self, lo: int, hi: int, rng: random.Random) -> list[Line]:
        """Lines at random times in ``[lo, hi)``, plus the bursts that fall in it."""
        count = self._count_before(hi) - self._count_before(lo)
        uniform, span = rng.random, hi - lo
        times = sorted([lo + int(uniform() * span) for _ in range(count)])
        text, ranks, stalled = self.text, self.ranks, self.stalled
        processed = self.timeline.processed(lo)
        out: list[Line] = []
        for t in times:
            rank = int(uniform() * ranks)
            message = text.stalled(rank, rng) if stalled else text.progress(rank, processed, rng)
            out.append((t, rank, message, None))
        if self.burst_every:
            out += self._bursts(lo, hi, self.burst_every, rng)
            out.sort(key=lambda line: line[0])
        return out

    def _bursts(self, lo: int, hi: int, every: int, rng: random.Random) -> list[Line]:
        out: list[Line] = []
        j = max(1, -(-(lo - self.start) // every))
        while (at := self.start + j * every) < hi:
            rank = rng.randrange(self.ranks)
            # One digit count for the whole burst, so every line shows the same timestamp text.
            digits = rng.choice(self.digits)
            out += [(at, rank, self.text.burst(rank, i, rng), digits) for i in range(self.burst_size)]
            j += 1
        return out
