"""The log follower's state: what has been delivered, where the next read starts, and what may have been missed.

Log entries carry no id, so an entry is its key ``(time in ns, rank, message)``, and identical lines at the same
time are distinct lines: the follower counts copies per key instead of keeping a set (design §3.1).

Following is a sequence of *reads*. A read asks for entries from a start time onwards, oldest first, and follows
page tokens to the end. Every read re-reads a window behind the newest entry, because entries become visible late
(a slow rank). The window's anchor is a lower bound on the server's clock when the *previous* read began: entries
that became visible after that moment, behind the read's page token, are at most ``lookback`` older than the
server's clock then, so the next read, starting ``lookback`` before the anchor, sees every one of them (§3.3).

Two lower bounds are known, and the anchor is the lower of them, so that it holds if either does:

- the server's ``Date`` on the read's first page (the time it answered, to the second);
- the newest entry time seen at any moment of the read, minus the time the read had taken by then on the
  follower's clock. This one needs no ``Date``, but it holds only while both clocks run at the same rate: against
  an emulator sped up 20 times, a read that waited 2 s for a failed request let the server's clock run 40 s, and
  anchoring there skipped lines that had appeared behind the token meanwhile (issue 14).

Either bound, rather than the newest entry just read, is what keeps a read that pages through minutes of backlog
from losing a late entry that appeared behind its page token; neither is the watermark from before the read, which
is what keeps catching up on a long backlog from reading it twice.

Counts are kept for every key at or after the next read's start; older keys are folded into per-second totals.
A read's new entries are counted lazily: they are held as the pages that brought them (pages come oldest first, as
the API sends a forward read), entries that fall below the next read's start are only ever added to their second's
total, found by bisecting the page on time, and only those that can still be re-read become keys, when the read ends
(or a cursor is taken). Catching up on a million-line backlog parses and counts a window's worth of keys, not a
million.
Each read also re-reads one more ``audit`` span below the window and compares the server's per-second counts with
those totals: entries that arrived later than the window are not delivered (there is no way to know which of a
second's lines they are) but they are counted and reported, so a loss is never silent (§3.9).

Everything here is pure: time comes in as arguments, and the caller does the requests and the waiting.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from .cursor import FollowCursor, message_digest
from .models import LogEntry, entry_times_ns
from .window import FollowStats, ReadOutcome, WindowSettings

__all__ = ["LogFollower"]

_NS: Final = 1_000_000_000
_NEVER: Final = -(2**80)  # below any timestamp: "no watermark yet"
# Mid-read pruning runs when the window has doubled since the last prune: amortised O(1) per entry.
_PRUNE_GROWTH: Final = 2
_MIN_PRUNE_SIZE: Final = 4096
# A run of entries spanning fewer seconds than 1/this of its length is counted per second by bisection (about
# log2(n) times parsed per second); a sparser one has every time parsed.
_ENTRIES_PER_SECOND_TO_BISECT: Final = 32

Key = tuple[int, int, str]
DigestKey = tuple[int, int, str]


def _key(entry: LogEntry) -> Key:
    return (entry.log_time.ns, entry.rank, entry.message)


def _ns(entry: LogEntry) -> int:
    return entry.log_time.ns


def _count_seconds(entries: Sequence[LogEntry], low: int, high: int, into: dict[int, int]) -> None:
    """Add the entries ``[low, high)`` of a page (oldest first) to the per-second totals ``into``."""
    if low >= high:
        return
    first, last = _ns(entries[low]) // _NS, _ns(entries[high - 1]) // _NS
    if (last - first + 1) * _ENTRIES_PER_SECOND_TO_BISECT > high - low:
        for ns in entry_times_ns(entries[low:high]):
            second = ns // _NS
            into[second] = into.get(second, 0) + 1
        return
    while low < high:
        second = _ns(entries[low]) // _NS
        end = bisect_left(entries, (second + 1) * _NS, low + 1, high, key=_ns)
        into[second] = into.get(second, 0) + end - low
        low = end


def _floor_second(ns: int) -> int:
    return ns - ns % _NS


def _ceil_second(ns: int) -> int:
    return -(-ns // _NS) * _NS


class LogFollower:
    """The state of one log follow; see the module documentation for the algorithm.

    Use it as: :meth:`begin_read` (gives the start time to request), :meth:`accept` for each page in order,
    :meth:`end_read`; repeat. :meth:`cursor` captures the state at any point.
    """

    def __init__(
        self,
        settings: WindowSettings,
        stats: FollowStats,
        *,
        start: int | None = None,
        floor: int | None = None,
        watermark: int | None = None,
    ) -> None:
        """Set up a follow that starts reading at ``start`` (``None``: the first entry) and never goes below ``floor``.

        Args:
            settings: how far back to look, and the cap on the window.
            stats: the counters to update.
            start: nanoseconds, where the first read starts.
            floor: nanoseconds, below which nothing is delivered.
            watermark: nanoseconds, the newest entry already accounted for.
        """
        self._lookback = round(settings.lookback * _NS)
        self._audit = round(settings.audit * _NS)
        self._max_window = settings.max_window
        self.stats = stats
        self._floor = floor
        self._start = start if start is None or floor is None else max(start, floor)
        self._watermark = _NEVER if watermark is None else watermark
        self._delivered: dict[Key, int] = {}
        self._seconds: dict[int, int] = {}
        self._restored: dict[DigestKey, int] = {}
        self._restored_max = _NEVER
        self._reading = False
        # State of the read in progress.
        self._read_began = 0.0
        self._read_w0 = _NEVER
        self._read_dedup_from = _NEVER
        self._read_bound = _NEVER
        self._read_date: int | None = None
        self._read_position = _NEVER
        self._read_delivered = 0
        self._tally: dict[Key, int] = {}
        self._audit_seen: dict[int, int] = {}
        # This read's new entries not counted yet (see the module documentation): runs of pages, oldest first.
        self._uncounted: list[Sequence[LogEntry]] = []
        self._uncounted_size = 0
        self._size_at_prune = _MIN_PRUNE_SIZE
        # A tail's first entries below the window (oldest first), and the entries at the oldest one's time that
        # ``last`` left out: a cursor taken while they are handed over needs both. Dropped at the first read.
        self._tail_below: tuple[Key, ...] = ()
        self._tail_cut: Counter[Key] = Counter()

    # --- construction from a tail or a cursor ------------------------------------------------------------------

    @classmethod
    def after_tail(
        cls, newest_first: Sequence[LogEntry], last: int, settings: WindowSettings, stats: FollowStats
    ) -> tuple[LogFollower, list[LogEntry]]:
        """A follow that begins with the last ``last`` entries, from entries read backwards from the newest.

        ``newest_first`` must reach at least ``lookback`` below its newest entry (or hold the whole log): every
        entry in that span is accounted for, so only entries that appear later are delivered as new.

        Returns:
            The follower, and the entries to deliver first, oldest first.
        """
        follower = cls(settings, stats)
        if not newest_first:
            return follower, []
        newest = max(entry.log_time.ns for entry in newest_first)
        floor = newest - follower._lookback
        for entry in newest_first:
            ns = entry.log_time.ns
            if ns >= floor:
                key = (ns, entry.rank, entry.message)
                follower._delivered[key] = follower._delivered.get(key, 0) + 1
        follower._floor = follower._start = floor
        follower._watermark = newest
        first = list(reversed(newest_first[:last])) if last else []
        if first and first[0].log_time.ns < floor:
            oldest = first[0].log_time.ns
            follower._tail_below = tuple(_key(e) for e in first if e.log_time.ns < floor)
            follower._tail_cut = Counter(_key(e) for e in newest_first[last:] if e.log_time.ns == oldest)
        return follower, first

    @classmethod
    def from_cursor(cls, cursor: FollowCursor, settings: WindowSettings, stats: FollowStats) -> LogFollower:
        """A follow that resumes where ``cursor`` was taken."""
        follower = cls(settings, stats, start=cursor.start, floor=cursor.floor, watermark=cursor.watermark)
        follower._restored = {(ns, rank, digest): count for ns, rank, digest, count in cursor.seen}
        follower._restored_max = max((ns for ns, _, _, _ in cursor.seen), default=_NEVER)
        follower._seconds = dict(cursor.seconds)
        return follower

    # --- reads -----------------------------------------------------------------------------------------------

    @property
    def reading(self) -> bool:
        """Whether a read is in progress."""
        return self._reading

    def begin_read(self, now: float) -> int | None:
        """Start a read at monotonic time ``now`` (seconds).

        Returns:
            The start time to request, in nanoseconds, or ``None`` to read from the first entry.
        """
        if self._reading:
            raise RuntimeError("a read is already in progress")
        self._reading = True
        self.stats.reads += 1
        self._tail_below, self._tail_cut = (), Counter()
        self._read_began = now
        self._read_w0 = self._watermark
        self._read_bound = self._watermark
        self._read_date = None
        self._read_position = _NEVER
        self._read_delivered = 0
        self._tally = {}
        self._audit_seen = {}
        start = self._start
        self._read_dedup_from = _NEVER if start is None else start
        audit_from = self._audit_from()
        return audit_from if audit_from is not None else start

    def _audit_from(self) -> int | None:
        """The start of this read's audit span (whole seconds below the window), or None if there is none."""
        if self._start is None or not self._audit or self._watermark == _NEVER:
            return None
        lowest = _floor_second(self._start - self._audit)
        if self._floor is not None:
            lowest = max(lowest, _ceil_second(self._floor))
        return lowest if lowest < self._start else None

    def accept(self, entries: Sequence[LogEntry], now: float, server_time: int | None = None) -> list[LogEntry]:
        """Take the next page of the read (in server order) and return its new entries, in that order.

        Args:
            entries: the page's entries.
            now: the follower's monotonic time, in seconds.
            server_time: nanoseconds, the server's clock when it answered (its ``Date`` header), if it said.

        Raises:
            ValueError: an entry's time is not a valid timestamp.
        """
        if not self._reading:
            raise RuntimeError("accept() outside a read")
        if self._read_date is None:
            self._read_date = server_time
        if self._read_position != _NEVER and (
            len(self._delivered) >= self._size_at_prune
            or self._uncounted_size >= max(_MIN_PRUNE_SIZE, len(self._delivered))
        ):
            # Pages come oldest first, so keys below the position reached are not needed again in this read.
            self._prune(self._safe_start(), limit=self._read_position)
        if not entries:
            return []
        w0, dedup_from = self._read_w0, self._read_dedup_from
        size = len(entries)
        # The page in three runs, by time: below the window (audited), in it (deduplicated), newer than anything
        # before this read (all new).
        newest = _ns(entries[-1])
        first_new = 0 if _ns(entries[0]) > w0 else bisect_right(entries, w0, key=_ns)
        first_in_window = 0 if first_new == 0 else bisect_left(entries, dedup_from, 0, first_new, key=_ns)
        _count_seconds(entries, 0, first_in_window, self._audit_seen)
        new = self._deduplicate(entries[first_in_window:first_new]) if first_in_window < first_new else []
        if first_new < size:
            fresh = entries[first_new:] if first_new else entries
            new.extend(fresh)
            self._uncounted.append(fresh)
            self._uncounted_size += len(fresh)
            self._watermark = max(self._watermark, newest)
        self._read_position = max(self._read_position, newest)
        if self._watermark != _NEVER:
            elapsed = round((now - self._read_began) * _NS)
            self._read_bound = max(self._read_bound, self._watermark - elapsed)
        self._read_delivered += len(new)
        if self._uncounted_size > self._max_window:
            self._count_uncounted()
        return new

    def _deduplicate(self, entries: Sequence[LogEntry]) -> list[LogEntry]:
        """The entries of the window (read before, or late) that were not delivered yet, counting copies."""
        delivered, tally = self._delivered, self._tally
        new: list[LogEntry] = []
        for entry, ns in zip(entries, entry_times_ns(entries), strict=True):
            key = (ns, entry.rank, entry.message)
            seen = tally.get(key, 0) + 1
            tally[key] = seen
            prior = delivered.get(key)
            if prior is None:
                prior = self._take_restored(key) if self._restored else 0
            if seen > prior:
                delivered[key] = seen
                new.append(entry)
                self.stats.late_entries += 1
        return new

    def _count_uncounted(self) -> None:
        """Make keys of the read's new entries held uncounted (every copy is one more)."""
        delivered = self._delivered
        for run in self._uncounted:
            for entry, ns in zip(run, entry_times_ns(run), strict=True):
                key = (ns, entry.rank, entry.message)
                delivered[key] = delivered.get(key, 0) + 1
        self._uncounted, self._uncounted_size = [], 0

    def _fold_uncounted_below(self, start: int) -> None:
        """Add the uncounted entries below ``start`` to their seconds' totals; they will never be re-read."""
        runs = self._uncounted
        for index, run in enumerate(runs):
            if _ns(run[-1]) < start:
                _count_seconds(run, 0, len(run), self._seconds)
                continue
            cut = bisect_left(run, start, key=_ns)
            _count_seconds(run, 0, cut, self._seconds)
            self._uncounted = [run[cut:], *runs[index + 1 :]] if cut else runs[index:]
            break
        else:
            self._uncounted = []
        self._uncounted_size = sum(len(run) for run in self._uncounted)

    def _take_restored(self, key: Key) -> int:
        """Move a key restored from a cursor (stored by digest) into the exact counts; its count, or 0."""
        ns, rank, message = key
        if ns > self._restored_max:
            return 0
        count = self._restored.pop((ns, rank, message_digest(message)), 0)
        if count:
            self._delivered[key] = count
        return count

    def _anchor(self) -> int:
        """A lower bound on the server's clock when this read began (see the module documentation)."""
        if self._read_date is None:
            return self._read_bound
        return min(self._read_bound, self._read_date)

    @property
    def reached_head(self) -> bool:
        """Whether this read has reached entries as new as the server's clock when it began, less the lookback.

        What comes after them is the next read's: it re-reads the window for late entries anyway. A server whose
        reads always carry a token never ends a read while lines keep coming, and a read that never ends keeps its
        window from moving on.
        """
        return self._read_date is not None and self._read_position >= self._read_date - self._lookback

    def _safe_start(self) -> int | None:
        """The start the next read would have if this one ended now: keys below it are no longer needed."""
        anchor = self._anchor()
        if anchor == _NEVER:
            return self._start
        start = _floor_second(anchor - self._lookback)
        if self._floor is not None:
            start = max(start, self._floor)
        return start if self._start is None else max(start, self._start)

    def end_read(self, now: float) -> ReadOutcome:
        """Finish the read at monotonic time ``now``: count entries missed, and move the window forward."""
        if not self._reading:
            raise RuntimeError("end_read() outside a read")
        if self._watermark != _NEVER:
            elapsed = round((now - self._read_began) * _NS)
            self._read_bound = max(self._read_bound, self._watermark - elapsed)
        missed, missed_from, missed_until = 0, None, None
        for second, count in sorted(self._audit_seen.items()):
            accounted = self._seconds.get(second, 0)
            if count > accounted:
                missed += count - accounted
                missed_from = missed_from if missed_from is not None else second * _NS
                missed_until = (second + 1) * _NS
                self._seconds[second] = count
        self.stats.possibly_missed += missed
        overflowed = self._prune(self._safe_start(), limit=self._watermark, count_the_rest=True)
        self._drop_old_seconds()
        self._reading = False
        self._tally = {}
        self._audit_seen = {}
        return ReadOutcome(self._read_delivered, missed, missed_from, missed_until, overflowed)

    def _prune(self, start: int | None, *, limit: int, count_the_rest: bool = False) -> bool:
        """Fold keys below ``start`` (never above ``limit``) into per-second totals and enforce the cap.

        The read's uncounted entries below ``start`` are folded too; with ``count_the_rest``, those left become keys.

        Returns:
            Whether the cap forced the oldest keys out.
        """
        overflowed = False
        if start is not None:
            start = min(start, limit)
            if self._start is None or start > self._start:
                self._fold_uncounted_below(start)
                self._fold_below(start)
                self._start = start
        if count_the_rest:
            self._count_uncounted()
        if len(self._delivered) > self._max_window:
            overflowed = self._evict_oldest(limit)
        self._size_at_prune = max(_MIN_PRUNE_SIZE, _PRUNE_GROWTH * len(self._delivered))
        return overflowed

    def _drop_old_seconds(self) -> None:
        """Forget per-second totals that no future audit span can reach."""
        if self._start is not None:
            horizon = (self._start - self._audit) // _NS - 1
            self._seconds = {second: n for second, n in self._seconds.items() if second >= horizon}

    def _fold_below(self, start: int) -> None:
        seconds = self._seconds
        keep: dict[Key, int] = {}
        for key, count in self._delivered.items():
            if key[0] >= start:
                keep[key] = count
            else:
                second = key[0] // _NS
                seconds[second] = seconds.get(second, 0) + count
        self._delivered = keep
        if self._restored:
            restored: dict[DigestKey, int] = {}
            for digest_key, count in self._restored.items():
                if digest_key[0] >= start:
                    restored[digest_key] = count
                else:
                    second = digest_key[0] // _NS
                    seconds[second] = seconds.get(second, 0) + count
            self._restored = restored

    def _evict_oldest(self, limit: int) -> bool:
        """Drop the oldest keys down to 3/4 of the cap, never at or above ``limit`` (those are still needed)."""
        times = sorted(key[0] for key in self._delivered)
        cut = min(_ceil_second(times[len(times) - (self._max_window * 3) // 4]), limit)
        if self._start is not None and cut <= self._start:
            return False
        self._fold_below(cut)
        self._start = cut
        self.stats.window_overflows += 1
        return True

    # --- cursors ---------------------------------------------------------------------------------------------

    def cursor(self, query: str, pending: Iterable[LogEntry] = ()) -> FollowCursor:
        """The state as a cursor, as if the ``pending`` entries (accepted, not yet delivered) had not been read."""
        self._count_uncounted()
        counts = dict(self._delivered)
        start, floor = self._start, self._floor
        below: list[Key] = []
        for entry in pending:
            key = _key(entry)
            if key in counts:
                counts[key] -= 1
                if not counts[key]:
                    del counts[key]
            else:
                below.append(key)
        if below:
            start = floor = below[0][0]
            counts.update(self._tail_seen_at(below))
        seen = [(ns, rank, message_digest(message), n) for (ns, rank, message), n in counts.items()]
        seen.extend((ns, rank, digest, n) for (ns, rank, digest), n in self._restored.items())
        seen.sort()
        return FollowCursor(
            start=start,
            floor=floor,
            watermark=None if self._watermark == _NEVER else self._watermark,
            seen=tuple(seen),
            seconds=tuple(sorted(self._seconds.items())),
            query=query,
        )

    def _tail_seen_at(self, pending_below: list[Key]) -> Counter[Key]:
        """What a cursor resuming at the oldest pending tail entry's time counts as seen at that time.

        Only a tail's first entries can be pending below the window (reads begin after a batch is handed over), and
        they are the newest of them: the cursor resumes at the oldest pending one, and there the entries handed
        over, and (at the tail's oldest time) those ``last`` left out, are accounted for.

        Raises:
            RuntimeError: the pending entries are not the end of the tail.
        """
        handed_over = len(self._tail_below) - len(pending_below)
        if handed_over < 0 or self._tail_below[handed_over:] != tuple(pending_below):
            raise RuntimeError("a pending entry is neither in the window nor among the tail's first entries")
        low = pending_below[0][0]
        seen: Counter[Key] = Counter()
        position = handed_over - 1
        while position >= 0 and self._tail_below[position][0] == low:
            seen[self._tail_below[position]] += 1
            position -= 1
        if position < 0:  # ``low`` is the tail's oldest time
            seen.update(self._tail_cut)
        return seen

    @property
    def window_size(self) -> int:
        """Keys held in the window now."""
        return len(self._delivered) + len(self._restored) + self._uncounted_size

    @property
    def watermark(self) -> int | None:
        """Nanoseconds: the newest entry time accounted for, or None."""
        return None if self._watermark == _NEVER else self._watermark

    def accounted(self) -> Mapping[Key, int]:
        """The exact counts held for the window (for tests and diagnostics)."""
        self._count_uncounted()
        return dict(self._delivered)
