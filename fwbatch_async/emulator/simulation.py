"""The simulated world: the account's jobs, their timelines and logs, read at the clock's current time.

Nothing runs in the background: every read takes the time from the clock and brings the job's log up to it,
so a manual clock gives fully deterministic answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from fwbatch_async.emulator.clock import Clock
from fwbatch_async.emulator.jobview import JobProfile, job_resource
from fwbatch_async.emulator.loggen import LogGenerator
from fwbatch_async.emulator.logstore import LogStore, make_fragment
from fwbatch_async.emulator.messages import JobText
from fwbatch_async.emulator.realism import Realism
from fwbatch_async.emulator.rng import seeded
from fwbatch_async.emulator.scenario import OUTCOMES, JobSpec, Scenario
from fwbatch_async.emulator.timeline import FINAL_STATES, Timeline
from fwbatch_async.emulator.wire import FRACTION_SCALE, NS_PER_SECOND, ApiError, format_timestamp

__all__ = ["SimJob", "Simulation"]


@attrs.define
class SimJob:
    """One job: what it is, how its life goes, and its log so far."""

    spec: JobSpec
    timeline: Timeline
    profile: JobProfile
    store: LogStore
    generator: LogGenerator


class Simulation:
    """All jobs of one scenario, driven by one clock."""

    def __init__(self, scenario: Scenario, clock: Clock, realism: Realism) -> None:
        self.account = scenario.account
        self.seed = scenario.seed
        self.clock = clock
        self.realism = realism
        self.started_ns = clock.time_ns()
        self._jobs: dict[str, SimJob] = {}
        self._by_logs_id: dict[str, SimJob] = {}
        self._empty_pages = seeded(scenario.seed, "empty-pages")
        for spec in scenario.jobs:
            self.add_job(spec, origin_ns=self.started_ns)

    def add_job(self, spec: JobSpec, origin_ns: int | None = None) -> None:
        """Add a job created ``spec.start_after`` seconds after ``origin_ns`` (default: now).

        Raises:
            ValueError: if its id or batch job id is already taken.
        """
        if spec.id in self._jobs or spec.logs_id in self._by_logs_id:
            raise ValueError(f"a job with id {spec.id!r} or batch job id {spec.logs_id!r} already exists")
        origin = self.clock.time_ns() if origin_ns is None else origin_ns
        created = origin + round(spec.start_after * NS_PER_SECOND)
        timeline = Timeline.plan(spec, created, self.seed, unknown_state=self.realism.unknown_state)
        profile = JobProfile.draw(spec, self.seed)
        store = LogStore()
        generator = LogGenerator(
            spec=spec,
            timeline=timeline,
            text=JobText(spec=spec, profile=profile, account=self.account),
            seed=self.seed,
            realism=self.realism,
            store=store,
        )
        job = SimJob(spec, timeline, profile, store, generator)
        self._jobs[spec.id] = job
        self._by_logs_id[spec.logs_id] = job

    # ------------------------------------------------------------------------------------------------ lookups

    def find(self, job_id: str) -> SimJob:
        """A job by inference job id or batch job id, created or not (for the Python API).

        Raises:
            KeyError: for an unknown id.
        """
        job = self._jobs.get(job_id) or self._by_logs_id.get(job_id)
        if job is None:
            raise KeyError(f"no job {job_id!r} in the scenario")
        return job

    @staticmethod
    def _existing(job: SimJob | None, what: str, job_id: str, now: int) -> SimJob:
        if job is None or job.timeline.created > now:
            raise ApiError("NOT_FOUND", f"{what} {job_id!r} not found", "NOT_FOUND")
        return job

    def inference_job(self, job_id: str, now: int) -> SimJob:
        """A job that exists at ``now``, by inference job id.

        Raises:
            ApiError: NOT_FOUND for an unknown job or one not created yet.
        """
        return self._existing(self._jobs.get(job_id), "batch inference job", job_id, now)

    def batch_job(self, logs_id: str, now: int) -> SimJob:
        """A job that exists at ``now``, by batch job id (the getLogs id), its log brought up to ``now``.

        Raises:
            ApiError: NOT_FOUND for an unknown job or one not created yet.
        """
        job = self._existing(self._by_logs_id.get(logs_id), "batch job", logs_id, now)
        job.generator.advance(now)
        return job

    def existing_keys(self, now: int) -> list[tuple[int, str]]:
        """``(createTime ns, id)`` of every job created by ``now``."""
        return [(j.timeline.created, j.spec.id) for j in self._jobs.values() if j.timeline.created <= now]

    # ------------------------------------------------------------------------------------------------ views

    def resource(self, job: SimJob, now: int) -> dict[str, Any]:
        """The job resource as GET serves it at ``now``."""
        return job_resource(
            spec=job.spec,
            timeline=job.timeline,
            profile=job.profile,
            account=self.account,
            now=now,
            realism=self.realism,
            seed=self.seed,
        )

    def empty_page(self) -> bool:
        """Whether the next log page comes back empty (the empty-pages realism switch), seeded."""
        fraction = self.realism.empty_pages_with_token
        return bool(fraction) and self._empty_pages.random() < fraction

    def entries(self, job_id: str, *, include_pending: bool) -> list[tuple[str, int, str]]:
        """Ground truth: ``(logTime text, rank, message)`` in server order, visible now (or all stored)."""
        now = self.clock.time_ns()
        job = self.find(job_id)
        job.generator.advance(now)
        store = job.store
        return [store.decode(i) for i in range(len(store)) if include_pending or store.visible[i] <= now]

    # ------------------------------------------------------------------------------------------------ changes

    def append(self, job_id: str, entries: Iterable[tuple[int, int, str]], visible_after: float) -> None:
        """Add lines to a job's log; each becomes visible ``visible_after`` seconds after its time."""
        job = self.find(job_id)
        job.generator.advance(self.clock.time_ns())
        delay = round(visible_after * NS_PER_SECOND)
        if delay < 0:
            raise ValueError("visible_after must not be negative")
        extra = self.realism.unknown_fields
        batch = []
        for time_ns, rank, message in sorted(entries, key=lambda e: e[0]):
            if time_ns < 0:
                raise ValueError("log times must not be before 1970")
            text = format_timestamp(time_ns, self._digits_for(time_ns))
            batch.append((time_ns, time_ns + delay, rank, make_fragment(text, rank, message, extra_fields=extra)))
        job.store.add(batch)

    def _digits_for(self, time_ns: int) -> int:
        """The fewest allowed fraction digits that show ``time_ns`` exactly (9 if none does)."""
        return next((d for d in sorted(self.realism.fraction_digits) if time_ns % FRACTION_SCALE[d] == 0), 9)

    def end(self, job_id: str, outcome: str, message: str | None) -> None:
        """End a job now with ``outcome`` (or freeze it with ``"STUCK"``).

        Raises:
            ValueError: for an unknown outcome, a job not created yet, or one already finished.
        """
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {sorted(OUTCOMES)}, not {outcome!r}")
        now = self.clock.time_ns()
        job = self.find(job_id)
        state = job.timeline.state(now)
        if state is None:
            raise ValueError(f"job {job_id!r} is not created yet")
        if state in FINAL_STATES.values():
            raise ValueError(f"job {job_id!r} already finished ({state})")
        job.timeline = job.timeline.ended(outcome, now, message)
        job.generator.end(now, job.timeline)
