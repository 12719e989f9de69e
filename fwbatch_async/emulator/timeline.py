"""A simulated job's life as a pure function of time: state, progress counters and when they last changed.

Phases, as fractions of the job's duration D: CREATING 0-2 %, VALIDATING 2-5 %, PENDING 5-10 % (the last half
of it is ``JOB_STATE_WARMING_UP`` when the unknown-state switch is on), RUNNING from 10 %, then by outcome:

- COMPLETED: RUNNING to 90 % with every request processed, WRITING_RESULTS to 100 %, COMPLETED.
- EXPIRED: like COMPLETED, but only part of the requests are processed by 90 %; EXPIRED at 100 %.
- FAILED / CANCELLED: RUNNING until 100 % with part of the requests processed, then the final state.
- STUCK: RUNNING forever; progress advances as for COMPLETED but freezes at 40 %.

Progress is published in steps (about 200 over the run), the way a server updates it periodically.
"""

from __future__ import annotations

import bisect
from typing import Final

import attrs

from fwbatch_async.emulator.rng import seeded
from fwbatch_async.emulator.scenario import JobSpec
from fwbatch_async.emulator.wire import NS_PER_SECOND

__all__ = ["FINAL_STATES", "Timeline"]

FINAL_STATES: Final = {
    "COMPLETED": "JOB_STATE_COMPLETED",
    "FAILED": "JOB_STATE_FAILED",
    "EXPIRED": "JOB_STATE_EXPIRED",
    "CANCELLED": "JOB_STATE_CANCELLED",
}
WARMING_UP: Final = "JOB_STATE_WARMING_UP"
RUNNING: Final = "JOB_STATE_RUNNING"
_STATUS_CODES: Final = {
    "COMPLETED": "OK",
    "FAILED": "INTERNAL",
    "EXPIRED": "DEADLINE_EXCEEDED",
    "CANCELLED": "CANCELLED",
}
DEFAULT_MESSAGES: Final = {
    "FAILED": "worker rank 0 exited with code 1: RuntimeError: CUDA error: an illegal memory access was encountered",
    "EXPIRED": "job exceeded its maximum duration; results of completed requests were saved",
    "CANCELLED": "job was cancelled by the user",
}
_PROGRESS_STEPS: Final = 200
_MIN_STEP_NS: Final = 1_000_000


@attrs.frozen(kw_only=True)
class Timeline:
    """When a job is in which state and how many requests it has processed.

    Attributes:
        created: creation time, ns.
        phases: ``(state, start)`` pairs in time order; the last one lasts forever.
        run_start: when RUNNING begins, ns.
        span: progress reaches ``target`` after this many ns of running.
        target: requests processed after ``span``.
        stop: progress stops changing at this time (end of running, freeze, or a forced end).
        step: progress is published every ``step`` ns.
        total: totalInputRequests.
        outcome: the final outcome name (``"STUCK"`` has no final state).
        status_message: the status message of a final state other than COMPLETED.
        forced: ``(time, processed)`` set by a forced end: from ``time`` on, processed is this value.
        fail_rank: the rank that crashes when the job fails.
    """

    created: int
    phases: tuple[tuple[str, int], ...]
    run_start: int
    span: int
    target: int
    stop: int
    step: int
    total: int
    outcome: str
    status_message: str | None
    forced: tuple[int, int] | None = None
    fail_rank: int = 0

    @classmethod
    def plan(cls, spec: JobSpec, created: int, seed: int, *, unknown_state: bool = False) -> Timeline:
        """The timeline of ``spec`` created at ``created`` (ns), with seeded outcome details."""
        rng = seeded(seed, spec.id, "timeline")
        duration = round(spec.duration * NS_PER_SECOND)

        def at(fraction: float) -> int:
            return created + round(duration * fraction)

        phases = [("JOB_STATE_CREATING", at(0.0)), ("JOB_STATE_VALIDATING", at(0.02)), ("JOB_STATE_PENDING", at(0.05))]
        if unknown_state:
            phases.append((WARMING_UP, at(0.075)))
        run_start = at(0.10)
        phases.append((RUNNING, run_start))
        outcome = spec.outcome
        nominal = at(0.90) - run_start
        if outcome in {"COMPLETED", "EXPIRED"}:
            share = 1.0 if outcome == "COMPLETED" else rng.uniform(0.5, 0.85)
            span, stop = nominal, at(0.90)
            phases += [("JOB_STATE_WRITING_RESULTS", at(0.90)), (FINAL_STATES[outcome], at(1.0))]
        elif outcome == "STUCK":
            share, span, stop = 1.0, nominal, at(0.40)
        else:
            share = rng.uniform(0.3, 0.8) if outcome == "FAILED" else rng.uniform(0.2, 0.6)
            span, stop = at(1.0) - run_start, at(1.0)
            phases.append((FINAL_STATES[outcome], at(1.0)))
        message = spec.status_message if spec.status_message is not None else DEFAULT_MESSAGES.get(outcome)
        return cls(
            created=created,
            phases=tuple(phases),
            run_start=run_start,
            span=max(span, 1),
            target=round(spec.requests * share),
            stop=stop,
            step=max(span // _PROGRESS_STEPS, _MIN_STEP_NS),
            total=spec.requests,
            outcome=outcome,
            status_message=message,
            fail_rank=rng.randrange(spec.ranks),
        )

    def ended(self, outcome: str, at: int, message: str | None) -> Timeline:
        """This timeline with the job ending as ``outcome`` at time ``at`` (``"STUCK"``: frozen, RUNNING)."""
        processed = self.total if outcome == "COMPLETED" else self.processed(at)
        phases = [p for p in self.phases if p[1] < at]
        if outcome == "STUCK":
            if self.state(at) != RUNNING:
                phases.append((RUNNING, at))
        else:
            phases.append((FINAL_STATES[outcome], at))
        if message is None:
            message = self.status_message if outcome == self.outcome else DEFAULT_MESSAGES.get(outcome)
        return attrs.evolve(
            self,
            phases=tuple(phases),
            stop=min(self.stop, at),
            outcome=outcome,
            status_message=message,
            forced=(at, processed),
        )

    @property
    def final_at(self) -> int | None:
        """When the final state begins, or None for a job that never ends."""
        return self.phases[-1][1] if self.phases[-1][0] in FINAL_STATES.values() else None

    @property
    def writing_at(self) -> int | None:
        """When WRITING_RESULTS begins, or None if the job never writes results."""
        return next((start for state, start in self.phases if state == "JOB_STATE_WRITING_RESULTS"), None)

    def _phase_index(self, t: int) -> int:
        return bisect.bisect_right(self.phases, t, key=lambda p: p[1]) - 1

    def state(self, t: int) -> str | None:
        """The state at ``t``, or None before the job exists."""
        i = self._phase_index(t)
        return self.phases[i][0] if i >= 0 else None

    def state_since(self, t: int) -> int:
        """When the state at ``t`` began."""
        return self.phases[max(self._phase_index(t), 0)][1]

    def _elapsed(self, t: int) -> int:
        """Running ns that count for progress at ``t``: whole steps, or exactly up to ``stop`` once reached."""
        if t >= self.stop:
            return max(self.stop - self.run_start, 0)
        if t < self.run_start:
            return 0
        return (t - self.run_start) // self.step * self.step

    def processed(self, t: int) -> int:
        """TotalProcessedRequests at ``t``."""
        if self.forced is not None and t >= self.forced[0]:
            return self.forced[1]
        return self.target * min(self._elapsed(t), self.span) // self.span

    def progress_changed_at(self, t: int) -> int | None:
        """When the processed count at ``t`` was first published, or None while it is zero."""
        if self.forced is not None and t >= self.forced[0]:
            return self.forced[0]
        value = self.processed(t)
        if value == 0:
            return None
        needed = -(-value * self.span // self.target)
        quantized = -(-needed // self.step) * self.step
        return self.run_start + min(quantized, self.stop - self.run_start)

    def update_time(self, t: int) -> int:
        """UpdateTime at ``t``: the last change of state or progress."""
        changed = self.progress_changed_at(t)
        since = self.state_since(t)
        return since if changed is None else max(since, changed)

    def status(self, t: int) -> tuple[str, str | None]:
        """``(code name, message)`` of the job's status at ``t``."""
        final = self.final_at
        if final is None or t < final:
            return "OK", None
        return _STATUS_CODES[self.outcome], self.status_message
