"""A simulated job's life as a pure function of time: state, progress counters and when they last changed.

States come in the order seen live (fireworks-api.md section 6). As fractions of the job's duration D:
VALIDATING 0-2 %, PENDING 2-5 %, CREATING (the deployment) 5-10 % (its last half is ``JOB_STATE_WARMING_UP`` when
the unknown-state switch is on), RUNNING from 10 %, then by outcome:

- COMPLETED: RUNNING to 90 % with every request processed, WRITING_RESULTS to 100 %, COMPLETED.
- EXPIRED: like COMPLETED, but only part of the requests are processed by 90 %; EXPIRED at 100 %.
- FAILED / CANCELLED: RUNNING until 100 % with part of the requests processed, then the final state.
- STUCK: RUNNING; progress advances as for COMPLETED but freezes at 40 %.
- VALIDATION_FAILED: VALIDATING until 100 %, then FAILED with INVALID_ARGUMENT; the job never runs.
- NO_CAPACITY: PENDING from 2 % on, waiting on capacity; the job never runs.

A capacity wait of W seconds keeps the job PENDING, waiting on capacity, for W seconds from 2 % on; everything
after moves W later. No job outlives its expiry time: one still going then ends EXPIRED (:meth:`Timeline.expiring`).
A deleted job shows DELETING_CLEANING_UP for a few seconds, then is gone (:meth:`Timeline.deleted`).

Progress is published in steps (about 200 over the run), the way a server updates it periodically.
"""

from __future__ import annotations

import bisect
from typing import Final

import attrs

from fwbatch_async.emulator.rng import seeded
from fwbatch_async.emulator.scenario import JobSpec
from fwbatch_async.emulator.wire import NS_PER_SECOND

__all__ = ["DELETING", "NEVER", "Timeline"]

FINAL_STATES: Final = {
    "COMPLETED": "JOB_STATE_COMPLETED",
    "FAILED": "JOB_STATE_FAILED",
    "EXPIRED": "JOB_STATE_EXPIRED",
    "CANCELLED": "JOB_STATE_CANCELLED",
    "VALIDATION_FAILED": "JOB_STATE_FAILED",
}
_FINAL_NAMES: Final = frozenset(FINAL_STATES.values())
VALIDATING: Final = "JOB_STATE_VALIDATING"
PENDING: Final = "JOB_STATE_PENDING"
CREATING: Final = "JOB_STATE_CREATING"
WARMING_UP: Final = "JOB_STATE_WARMING_UP"
RUNNING: Final = "JOB_STATE_RUNNING"
WRITING_RESULTS: Final = "JOB_STATE_WRITING_RESULTS"
DELETING: Final = "JOB_STATE_DELETING_CLEANING_UP"
# A time no job reaches: the run start of a job that never runs, the end of a wait that never ends.
NEVER: Final = 2**63 - 1
# expireTime is creation + 24 h unless the job sets its own limit (fireworks-api.md section 6).
DEFAULT_LIMIT_NS: Final = 86_400 * NS_PER_SECOND
# How long a deleted job shows DELETING_CLEANING_UP before it is gone (emulated; not measured live).
CLEANUP_NS: Final = 5 * NS_PER_SECOND
_STATUS_CODES: Final = {
    "COMPLETED": "OK",
    "FAILED": "INTERNAL",
    "EXPIRED": "DEADLINE_EXCEEDED",
    "CANCELLED": "CANCELLED",
    "VALIDATION_FAILED": "INVALID_ARGUMENT",
}
DEFAULT_MESSAGES: Final = {
    "FAILED": "worker rank 0 exited with code 1: RuntimeError: CUDA error: an illegal memory access was encountered",
    "EXPIRED": "job exceeded its maximum duration; results of completed requests were saved",
    "CANCELLED": "job was cancelled by the user",
    "VALIDATION_FAILED": "input dataset validation failed: line 17: 'messages' must be a non-empty list",
}
_PROGRESS_STEPS: Final = 200
_MIN_STEP_NS: Final = 1_000_000


@attrs.frozen(kw_only=True)
class Timeline:
    """When a job is in which state and how many requests it has processed.

    Attributes:
        created: creation time, ns.
        phases: ``(state, start)`` pairs in time order; the last one lasts forever (or until ``gone``).
        run_start: when RUNNING begins, ns (``NEVER`` for a job that never runs).
        span: progress reaches ``target`` after this many ns of running.
        target: requests processed after ``span``.
        stop: progress stops changing at this time (end of running, freeze, or a forced end).
        step: progress is published every ``step`` ns.
        total: totalInputRequests, the declared dataset size.
        requests: requests processed by a job that completes.
        outcome: the final outcome name (``"STUCK"`` and ``"NO_CAPACITY"`` have no final state).
        status_message: the status message of a final state other than COMPLETED.
        expires: expireTime, ns.
        capacity: ``[start, end)`` of the wait on capacity, if any (``end`` is ``NEVER`` for a wait without end).
        forced: ``(time, processed)`` set by a forced end: from ``time`` on, processed is this value.
        gone: from this time on the job no longer exists (deleted), or None.
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
    requests: int
    outcome: str
    status_message: str | None
    expires: int
    capacity: tuple[int, int] | None = None
    forced: tuple[int, int] | None = None
    gone: int | None = None
    fail_rank: int = 0

    @classmethod
    def plan(cls, spec: JobSpec, created: int, seed: int, *, unknown_state: bool = False) -> Timeline:
        """The timeline of ``spec`` created at ``created`` (ns), with seeded outcome details, before expiry."""
        rng = seeded(seed, spec.id, "timeline")
        duration = round(spec.duration * NS_PER_SECOND)
        wait = round(spec.capacity_wait * NS_PER_SECOND)
        validated = created + round(duration * 0.02)
        limit = DEFAULT_LIMIT_NS if spec.max_job_duration is None else round(spec.max_job_duration * NS_PER_SECOND)

        def at(fraction: float) -> int:
            return created + round(duration * fraction) + wait

        outcome = spec.outcome
        phases = [(VALIDATING, created)]
        capacity = (validated, validated + wait) if wait else None
        run_start = stop = NEVER
        share, span, expires = 0.0, 1, created + limit
        if outcome == "VALIDATION_FAILED":
            phases.append((FINAL_STATES[outcome], created + duration))
        elif outcome == "NO_CAPACITY":
            phases.append((PENDING, validated))
            capacity = (validated, NEVER)
        else:
            phases += [(PENDING, validated), (CREATING, at(0.05))]
            if unknown_state:
                phases.append((WARMING_UP, at(0.075)))
            run_start = at(0.10)
            phases.append((RUNNING, run_start))
            nominal = at(0.90) - run_start
            if outcome in {"COMPLETED", "EXPIRED"}:
                share = 1.0 if outcome == "COMPLETED" else rng.uniform(0.5, 0.85)
                span, stop = nominal, at(0.90)
                phases += [(WRITING_RESULTS, at(0.90)), (FINAL_STATES[outcome], at(1.0))]
                if outcome == "EXPIRED":  # its limit runs out at the end of its duration, or sooner if set so
                    expires = min(expires, at(1.0))
            elif outcome == "STUCK":
                share, span, stop = 1.0, nominal, at(0.40)
            else:
                share = rng.uniform(0.3, 0.8) if outcome == "FAILED" else rng.uniform(0.2, 0.6)
                span, stop = at(1.0) - run_start, at(1.0)
                phases.append((FINAL_STATES[outcome], at(1.0)))
        return cls(
            created=created,
            phases=tuple(phases),
            run_start=run_start,
            span=max(span, 1),
            target=round(spec.requests * share),
            stop=stop,
            step=max(span // _PROGRESS_STEPS, _MIN_STEP_NS),
            total=spec.requests if spec.declared_requests is None else spec.declared_requests,
            requests=spec.requests,
            outcome=outcome,
            status_message=spec.status_message if spec.status_message is not None else DEFAULT_MESSAGES.get(outcome),
            expires=expires,
            capacity=capacity,
            fail_rank=rng.randrange(spec.ranks),
        )

    def expiring(self) -> Timeline:
        """This timeline, or, if the job would still be going at its expiry time, with it EXPIRED then."""
        final = self.final_at
        return self if final is not None and final <= self.expires else self.ended("EXPIRED", self.expires, None)

    def ended(self, outcome: str, at: int, message: str | None) -> Timeline:
        """This timeline with the job ending as ``outcome`` at time ``at`` (``"STUCK"``: frozen, RUNNING)."""
        processed = self.requests if outcome == "COMPLETED" else self.processed(at)
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
            expires=at if outcome == "EXPIRED" else self.expires,
            forced=(at, processed),
        )

    def deleted(self, at: int) -> Timeline:
        """This timeline with the job deleted at ``at``: DELETING_CLEANING_UP, gone ``CLEANUP_NS`` later."""
        return attrs.evolve(
            self,
            phases=(*(p for p in self.phases if p[1] < at), (DELETING, at)),
            stop=min(self.stop, at),
            forced=(at, self.processed(at)),
            gone=at + CLEANUP_NS,
        )

    def exists(self, t: int) -> bool:
        """Whether the job exists at ``t``: created, and not deleted and cleaned up."""
        return self.created <= t and (self.gone is None or t < self.gone)

    def _start_of(self, state: str) -> int | None:
        return next((start for name, start in self.phases if name == state), None)

    @property
    def final_at(self) -> int | None:
        """When the final state begins, or None for a job that never ends (or was deleted before its end)."""
        return next((start for state, start in self.phases if state in _FINAL_NAMES), None)

    @property
    def writing_at(self) -> int | None:
        """When WRITING_RESULTS begins, or None if the job never writes results."""
        return self._start_of(WRITING_RESULTS)

    def _phase_index(self, t: int) -> int:
        return bisect.bisect_right(self.phases, t, key=lambda p: p[1]) - 1

    def state(self, t: int) -> str | None:
        """The state at ``t``, or None before the job exists."""
        i = self._phase_index(t)
        return self.phases[i][0] if i >= 0 else None

    def state_since(self, t: int) -> int:
        """When the state at ``t`` began."""
        return self.phases[max(self._phase_index(t), 0)][1]

    def lifecycle(self, t: int) -> tuple[int | None, int | None, int | None]:
        """``(validatedTime, runStartTime, endTime)`` at ``t``: each None until reached (or if never)."""

        def reached(start: int | None) -> int | None:
            return start if start is not None and start <= t else None

        return reached(self._start_of(PENDING)), reached(self._start_of(RUNNING)), reached(self.final_at)

    def waiting_on_capacity(self, t: int) -> bool:
        """Whether the job is PENDING at ``t`` for want of capacity."""
        return self.capacity is not None and self.capacity[0] <= t < self.capacity[1] and self.state(t) == PENDING

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
        """UpdateTime at ``t``: the last change of state, progress or waiting on capacity."""
        updated = self.state_since(t)
        changed = self.progress_changed_at(t)
        if changed is not None:
            updated = max(updated, changed)
        if self.capacity is not None and self.capacity[1] <= t and self.state(t) == PENDING:
            updated = max(updated, self.capacity[1])
        return updated

    def status(self, t: int) -> tuple[str, str]:
        """``(code name, message)`` of the job's status at ``t``."""
        final = self.final_at
        if final is None or t < final:
            return "OK", ""
        return _STATUS_CODES[self.outcome], self.status_message or ""
