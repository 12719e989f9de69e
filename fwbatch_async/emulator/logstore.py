"""Compact, time-ordered storage of one job's log entries, and the scans that serve pages from it.

Each entry is kept as its ready-to-send JSON fragment in one ``bytearray`` plus four machine-word arrays (time,
visible-from time, running maximum of visible-from, rank) and an offset: about 40 bytes per entry beyond its
fragment. A page is the join of fragment slices, and a forward page of entries that are all visible is a
single slice.

Order is ``(logTime, arrival)``: an entry arriving with the same logTime as stored ones goes after them, so an
entry's position among equal times never changes and a page cursor ``(time, ordinal among equal times)`` stays
exact while entries are added.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Container, Iterable, Sequence

import attrs
import orjson

__all__ = ["Entry", "LogStore", "Scan", "make_fragment"]

# (logTime ns, visible-from ns, rank, JSON fragment)
Entry = tuple[int, int, int, bytes]
Cursor = tuple[int, int]


@attrs.frozen
class Scan:
    """What a scan found.

    Attributes:
        parts: JSON of the entries in page order, as comma-separated runs (one part may hold many entries).
        count: how many entries the parts hold.
        boundary: forward, the index after the last entry taken; backward, the index of the last one taken
            (where the scan started if nothing was taken).
        more: another visible, matching entry exists beyond the boundary now.
    """

    parts: list[bytes | bytearray]
    count: int
    boundary: int
    more: bool


def make_fragment(
    time_text: str, rank: int, message: str, *, extra_fields: bool = False, omit_defaults: bool = False
) -> bytes:
    """The JSON object of one entry, every field written as live; ``omit_defaults`` drops rank 0 and ``""``.

    ``extra_fields`` adds a ``severity`` key the client does not know (the unknown-fields realism switch).
    """
    out = b'{"logTime":"' + time_text.encode() + b'"'
    if rank or not omit_defaults:
        out += b',"rank":%d' % rank
    if message or not omit_defaults:
        out += b',"message":' + orjson.dumps(message)
    if extra_fields:
        if message.startswith("WARNING"):
            out += b',"severity":"WARNING"'
        elif message.startswith(("ERROR", "Traceback")):
            out += b',"severity":"ERROR"'
        else:
            out += b',"severity":"INFO"'
    return out + b"}"


class LogStore:
    """The entries of one job, in server order."""

    def __init__(self) -> None:
        self.times = array("q")
        self.visible = array("q")
        # running maximum of ``visible``: every entry before bisect_right(max_visible, now) is visible at now
        self.max_visible = array("q")
        self.ranks = array("i")
        self.offsets = array("q", [0])
        self.blob = bytearray()

    def __len__(self) -> int:
        return len(self.times)

    def nbytes(self) -> int:
        """Bytes held by the arrays and the fragment buffer (not counting Python object headers)."""
        arrays = (self.times, self.visible, self.max_visible, self.ranks, self.offsets)
        return sum(a.itemsize * len(a) for a in arrays) + len(self.blob)

    def add(self, entries: Sequence[Entry]) -> None:
        """Add entries sorted by time; each goes after every stored entry with the same or an earlier time."""
        if not entries:
            return
        start = bisect.bisect_right(self.times, entries[0][0])
        if start == len(self.times):
            self._append(entries)
            return
        # Rare (only tests append into the past): merge with the stored tail and rebuild it.
        tail = [self._entry(i) for i in range(start, len(self.times))]
        self._truncate(start)
        merged = sorted([*tail, *entries], key=lambda e: e[0])  # stable: stored entries stay first
        self._append(merged)

    def _append(self, entries: Iterable[Entry]) -> None:
        times, visible, max_visible, ranks, offsets, blob = (
            self.times,
            self.visible,
            self.max_visible,
            self.ranks,
            self.offsets,
            self.blob,
        )
        running = max_visible[-1] if max_visible else -(2**63)
        for time_ns, visible_ns, rank, fragment in entries:
            times.append(time_ns)
            visible.append(visible_ns)
            running = max(running, visible_ns)
            max_visible.append(running)
            ranks.append(rank)
            blob += fragment
            blob += b","
            offsets.append(len(blob))

    def _entry(self, i: int) -> Entry:
        return self.times[i], self.visible[i], self.ranks[i], self.fragment(i)

    def _truncate(self, n: int) -> None:
        for a in (self.times, self.visible, self.max_visible, self.ranks):
            del a[n:]
        del self.blob[self.offsets[n] :]
        del self.offsets[n + 1 :]

    def fragment(self, i: int) -> bytes:
        """The JSON object of entry ``i``."""
        return bytes(self.blob[self.offsets[i] : self.offsets[i + 1] - 1])

    def decode(self, i: int) -> tuple[str, int, str]:
        """``(logTime text, rank, message)`` of entry ``i``."""
        data = orjson.loads(self.fragment(i))
        return data["logTime"], data.get("rank", 0), data.get("message", "")

    def all_visible_before(self, now: int) -> int:
        """Every entry before this index is visible at ``now``."""
        return bisect.bisect_right(self.max_visible, now)

    def cursor_at(self, i: int) -> Cursor:
        """The cursor of the boundary just before entry ``i`` (``i == len`` is the end)."""
        n = len(self.times)
        if n == 0:
            return (0, 0)
        time_ns = self.times[i] if i < n else self.times[n - 1]
        return (time_ns, i - bisect.bisect_left(self.times, time_ns))

    def index_of(self, cursor: Cursor) -> int:
        """The index of the boundary a cursor names."""
        time_ns, ordinal = cursor
        return min(bisect.bisect_left(self.times, time_ns) + ordinal, len(self.times))

    def lower_bound(self, start_ns: int | None) -> int:
        """Index of the first entry at or after ``start_ns`` (inclusive bound; None: the first entry)."""
        return 0 if start_ns is None else bisect.bisect_left(self.times, start_ns)

    def scan(
        self,
        *,
        now: int,
        start: int,
        stop: int,
        forward: bool,
        limit: int,
        ranks: Container[int] | None,
        text: str | None,
    ) -> Scan:
        """Collect up to ``limit`` visible, matching entries of ``start..stop-1``, oldest or newest first."""
        frontier = self.all_visible_before(now)
        if ranks is None and not text:
            return self._scan_all(now=now, start=start, stop=stop, forward=forward, limit=limit, frontier=frontier)
        blob, offsets, visible, all_ranks = self.blob, self.offsets, self.visible, self.ranks
        needle = orjson.dumps(text)[1:-1] if text else None
        picked: list[bytes | bytearray] = []
        step = 1 if forward else -1
        i, end = (start, stop) if forward else (stop - 1, start - 1)
        boundary = i if forward else stop
        while i != end:
            if (i < frontier or visible[i] <= now) and (ranks is None or all_ranks[i] in ranks):
                fragment = blob[offsets[i] : offsets[i + 1] - 1]
                # JSON escaping maps each character to a fixed string, so a substring of the message is a
                # substring of the escaped fragment: a cheap test first, the exact one on candidates only.
                if needle is None or (needle in fragment and text in orjson.loads(fragment).get("message", "")):
                    if len(picked) == limit:
                        return Scan(picked, len(picked), boundary, more=True)
                    picked.append(fragment)
                    boundary = i + 1 if forward else i
            i += step
        return Scan(picked, len(picked), boundary, more=False)

    def _scan_all(self, *, now: int, start: int, stop: int, forward: bool, limit: int, frontier: int) -> Scan:
        """:meth:`scan` without filters: entries known to be visible are taken without checks."""
        blob, offsets, visible = self.blob, self.offsets, self.visible
        picked: list[bytes | bytearray] = []
        if forward:
            count, i = 0, start
            if i < frontier:  # one slice for the whole visible run
                j = min(stop, frontier, start + limit)
                picked.append(blob[offsets[i] : offsets[j] - 1])
                count, i = j - i, j
            boundary = i
            while i < stop:
                if i < frontier or visible[i] <= now:
                    if count == limit:
                        return Scan(picked, count, boundary, more=True)
                    picked.append(blob[offsets[i] : offsets[i + 1] - 1])
                    count, boundary = count + 1, i + 1
                i += 1
            return Scan(picked, count, boundary, more=False)
        i, boundary = stop - 1, stop
        while i >= start and i >= frontier:
            if visible[i] <= now:
                if len(picked) == limit:
                    return Scan(picked, len(picked), boundary, more=True)
                picked.append(blob[offsets[i] : offsets[i + 1] - 1])
                boundary = i
            i -= 1
        take = min(limit - len(picked), i - start + 1)
        if take > 0:
            picked.extend([blob[offsets[j] : offsets[j + 1] - 1] for j in range(i, i - take, -1)])
            boundary = i - take + 1
            i -= take
        return Scan(picked, len(picked), boundary, more=i >= start)
