"""Lazy, seeded generation of a job's log as its clock advances.

A job's log comes from *sources* (startup lines, the running stream, the ending, ...), each covering a span of
time. Lines are produced one UTC second at a time from an rng seeded by ``(seed, job, source, second)``, so the
log does not depend on how the clock was advanced, only on the seed (and on when a test forced an ending).
Lines are stored once their logTime has passed; each may be written twice (duplicates), be visible only some
seconds later (late lines), and carry a time rounded to its fraction digits. Rounding never leaves the second,
so storing whole seconds in order keeps the log sorted.
"""

from __future__ import annotations

import bisect
import random
from typing import Final

import attrs

from fwbatch_async.emulator.logsources import EventSource, Line, RateSource
from fwbatch_async.emulator.logstore import Entry, LogStore, make_fragment
from fwbatch_async.emulator.messages import JobText
from fwbatch_async.emulator.realism import Realism
from fwbatch_async.emulator.rng import seeded
from fwbatch_async.emulator.scenario import JobSpec
from fwbatch_async.emulator.timeline import NEVER, Timeline
from fwbatch_async.emulator.wire import FRACTION_SCALE, NS_PER_SECOND, format_fraction, second_prefix

__all__ = ["LogGenerator"]

_MS: Final = 1_000_000
_STARTUP_NS: Final = 3 * NS_PER_SECOND
# A stuck job's ranks each complain about once a minute.
_STALL_SECONDS_PER_LINE: Final = 60


@attrs.define
class _Slot:
    source: EventSource | RateSource
    next_second: int


class LogGenerator:
    """Produces a job's log into its store as the clock passes, deterministically from the seed."""

    def __init__(
        self,
        *,
        spec: JobSpec,
        timeline: Timeline,
        text: JobText,
        seed: int,
        realism: Realism,
        store: LogStore,
    ) -> None:
        self.spec = spec
        self.timeline = timeline
        self.text = text
        self.seed = seed
        self.store = store
        self.digits = sorted(realism.log_digits)
        self.extra_fields = realism.unknown_fields
        self.omit_defaults = realism.omit_defaults
        self.horizon = -(2**63)  # every line with a time at or before this is stored
        self._pending: list[Entry] = []
        self._unsorted = False
        self._slots: list[_Slot] = []
        if spec.generate_logs:
            for source in self._plan():
                self._add_source(source)

    # ----------------------------------------------------------------------------------------------- planning

    def _coarsest(self, t: int) -> int:
        """``t`` rounded up to the coarsest fraction digits in use, so it is exact at every digit count."""
        scale = FRACTION_SCALE[self.digits[0]]
        return -(-t // scale) * scale

    def _plan(self) -> list[EventSource | RateSource]:
        spec, timeline, text = self.spec, self.timeline, self.text
        run = timeline.run_start
        if run == NEVER:  # no worker ever starts, so nothing is logged
            return []
        rng = seeded(self.seed, self.spec.id, "plan")
        startup: list[Line] = []
        for rank in range(spec.ranks):
            at = run + rng.randrange(0, 200 * _MS)
            for message in text.startup(rank, rng):
                startup.append((at, rank, message, None))
                at += rng.randrange(5 * _MS, 400 * _MS)
        sources: list[EventSource | RateSource] = [EventSource("startup", startup)]
        stream_start = run + _STARTUP_NS
        if spec.lines_per_second > 0 and stream_start < timeline.stop:
            sources.append(
                RateSource(
                    "progress",
                    stream_start,
                    timeline.stop,
                    round(spec.lines_per_second * 1000),
                    text,
                    timeline,
                    spec.ranks,
                    burst_every=round(spec.burst_every * NS_PER_SECOND) if spec.burst_every else None,
                    burst_size=spec.burst_size,
                    digits=tuple(self.digits),
                )
            )
        writing = timeline.writing_at
        final = timeline.final_at
        sources += self._ending(
            timeline.outcome, self._coarsest(timeline.stop), spacing=True, summary=writing is None, name="end"
        )
        if writing is not None and final is not None:
            sources.append(self._writing(writing, final))
        return sources

    def _writing(self, writing: int, final: int) -> EventSource:
        """WRITING_RESULTS: a first line, uploaded shards spread over the phase, and the summary."""
        timeline, text = self.timeline, self.text
        processed = timeline.processed(final)
        shards = min(8, 2 * self.spec.ranks)
        span = max(final - writing, 1)
        events: list[Line] = [(writing + _MS, 0, text.writing(), None)]
        rows = processed - processed * text.profile.failed_ppm // 1_000_000
        events += [
            (writing + span * (i + 1) // (shards + 1), 0, text.shard(i, shards, rows // shards), None)
            for i in range(shards)
        ]
        summary_at = max(writing + 2 * _MS, final - 50 * _MS)
        events.append((summary_at, 0, text.summary(timeline.outcome, processed, timeline.status_message), None))
        return EventSource("writing", events)

    def _ending(
        self, outcome: str, at: int, *, spacing: bool, summary: bool, name: str
    ) -> list[EventSource | RateSource]:
        """Lines at the end of the run: per-rank stops, a crash, the summary; or a stall for STUCK.

        Without ``spacing`` every line carries the same time ``at``, so a forced ending is visible at once.
        ``summary`` adds the job's final line (when no result-writing phase follows to write it).
        """
        timeline, text, ranks = self.timeline, self.text, self.spec.ranks
        if outcome == "STUCK":
            milli_rate = max(1, ranks * 1000 // _STALL_SECONDS_PER_LINE)
            return [RateSource(f"{name}/stalled", at, None, milli_rate, text, timeline, ranks, stalled=True)]
        processed = timeline.processed(at)
        gap = _MS if spacing else 0
        events: list[Line] = []
        if outcome == "FAILED":
            crashed = timeline.fail_rank
            events += [(at, crashed, message, None) for message in text.crash(crashed)]
            events += [(at + gap * (r + 1), r, text.aborted(r), None) for r in range(ranks) if r != crashed]
        elif outcome == "CANCELLED":
            events += [(at + gap * r, r, text.cancelled(r), None) for r in range(ranks)]
        elif outcome == "EXPIRED":
            events += [(at + gap * r, r, text.expired(r), None) for r in range(ranks)]
        finished_at = at + gap * (ranks + 1)
        if outcome in {"COMPLETED", "EXPIRED"}:
            events += [(finished_at + gap * r, r, text.rank_finished(r, processed), None) for r in range(ranks)]
        if summary:
            line = text.summary(outcome, processed, timeline.status_message)
            events.append((finished_at + gap * (ranks + 1), 0, line, None))
        return [EventSource(name, events)]

    def _add_source(self, source: EventSource | RateSource) -> None:
        self._slots.append(_Slot(source, source.start // NS_PER_SECOND))

    def end(self, now: int, timeline: Timeline) -> None:
        """A test ended the job at ``now``: cut every source there and add the ending ``timeline`` describes."""
        self.advance(now)
        self._pending.clear()  # every pending line lies after ``now``: it belonged to the old future
        self.cut(now, timeline)
        self._generate(now)

    def cut(self, at: int, timeline: Timeline, *, ending: bool = True) -> None:
        """End every source at ``at``, from when ``timeline`` holds; with ``ending``, add its ending lines then.

        Nothing is written before ``at``: a job that expires is cut this way when it is planned, lazily. Only
        workers that started write an ending.
        """
        for slot in self._slots:
            end = slot.source.end
            slot.source.end = at if end is None else min(end, at)
        started = self.timeline.run_start < at
        self.timeline = timeline
        if ending and started and self.spec.generate_logs:
            forced = self._ending(
                timeline.outcome, self._coarsest(at), spacing=False, summary=True, name=f"forced@{at}"
            )
            for source in forced:
                self._add_source(source)

    def stop(self, now: int, timeline: Timeline) -> None:
        """The job was deleted at ``now``: its workers stop without another line."""
        self.advance(now)
        self._pending.clear()
        self.cut(now, timeline, ending=False)

    # ----------------------------------------------------------------------------------------------- generating

    def advance(self, now: int) -> None:
        """Store every line whose time is at or before ``now``."""
        if now > self.horizon:
            self._generate(now)

    def _generate(self, now: int) -> None:
        # Second by second over all sources, storing each second before generating the next, so that a long
        # backlog (a job that started long ago) never sits in memory as pending lines.
        last_second = now // NS_PER_SECOND
        while True:
            due = [(second, slot) for slot in self._slots if (second := self._due(slot)) is not None]
            second = min((s for s, _ in due), default=last_second + 1)
            if second > last_second:
                break
            for slot_second, slot in due:
                if slot_second == second:
                    self._produce(slot, second)
            self._store_until(min(now, (second + 1) * NS_PER_SECOND - 1))
        self._store_until(now)
        self.horizon = now

    @staticmethod
    def _due(slot: _Slot) -> int | None:
        """The next second in which the slot's source has lines (None: it has no more)."""
        source = slot.source
        lo = max(slot.next_second * NS_PER_SECOND, source.start)
        if source.end is not None and lo >= source.end:
            return None
        if isinstance(source, EventSource):
            upcoming = source.next_time(lo)
            if upcoming is None or (source.end is not None and upcoming >= source.end):
                return None
            slot.next_second = max(slot.next_second, upcoming // NS_PER_SECOND)
        return slot.next_second

    def _produce(self, slot: _Slot, second: int) -> None:
        """Generate the source's lines of one second into the pending lines."""
        source = slot.source
        lo = max(second * NS_PER_SECOND, source.start)
        hi = (second + 1) * NS_PER_SECOND
        if source.end is not None:
            hi = min(hi, source.end)
        rng = seeded(self.seed, self.spec.id, source.name, second)
        self._decorate(source.lines(lo, hi, rng), second, rng)
        self._unsorted = True
        slot.next_second = second + 1

    def _store_until(self, t: int) -> None:
        """Move pending lines with a time at or before ``t`` into the store."""
        pending = self._pending
        if self._unsorted:
            pending.sort(key=lambda e: e[0])
            self._unsorted = False
        ready = bisect.bisect_right(pending, t, key=lambda e: e[0])
        if ready:
            self.store.add(pending[:ready])
            del pending[:ready]

    def _decorate(self, lines: list[Line], second: int, rng: random.Random) -> None:
        """Round times to their digits, build fragments, draw late delays and duplicates."""
        prefix = second_prefix(second)
        digits, extra = self.digits, self.extra_fields
        late, max_delay_ns = self.spec.late.fraction, round(self.spec.late.max_delay * NS_PER_SECOND)
        duplicates = self.spec.duplicates
        pending = self._pending
        for raw, rank, message, fixed in lines:
            d = fixed if fixed is not None else digits[0] if len(digits) == 1 else rng.choice(digits)
            t = raw - raw % FRACTION_SCALE[d]
            fragment = make_fragment(
                prefix + format_fraction(t, d), rank, message, extra_fields=extra, omit_defaults=self.omit_defaults
            )
            visible = t
            if late and max_delay_ns and rng.random() < late:
                visible += rng.randrange(1, max_delay_ns + 1)
            entry = (t, visible, rank, fragment)
            pending.append(entry)
            if duplicates and rng.random() < duplicates:
                pending.append(entry)
