"""The simulated world: the account's jobs, their timelines and logs, read at the clock's current time.

Nothing runs in the background: every read takes the time from the clock and brings the job's log up to it,
so a manual clock gives fully deterministic answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from fwbatch_async.emulator.batchjob import batch_job_resource, numeric_id
from fwbatch_async.emulator.clock import Clock
from fwbatch_async.emulator.jobview import JobProfile, job_resource
from fwbatch_async.emulator.loggen import LogGenerator
from fwbatch_async.emulator.logstore import LogStore, make_fragment
from fwbatch_async.emulator.messages import JobText
from fwbatch_async.emulator.realism import Realism
from fwbatch_async.emulator.rng import seeded
from fwbatch_async.emulator.scenario import OUTCOMES, JobSpec, Scenario
from fwbatch_async.emulator.timeline import DELETING, Timeline
from fwbatch_async.emulator.wire import FRACTION_SCALE, NS_PER_SECOND, ApiError, format_timestamp

__all__ = ["SimJob", "Simulation"]


@attrs.define
class SimJob:
    """One job: what it is, how its life goes, its log so far, and the id of its batch job."""

    spec: JobSpec
    timeline: Timeline
    profile: JobProfile
    store: LogStore
    generator: LogGenerator
    batch_id: str


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

        Its batch job answers to ``spec.batch_job_id``, or, without one, to a number drawn from the seed and to
        the inference job's own id (which tools use for both when they know only one, fireworks-api.md section 4).

        Raises:
            ValueError: if its id or batch job id is already taken.
        """
        batch_id = spec.batch_job_id or numeric_id(self.seed, spec.id)
        logs_ids = {spec.logs_id, batch_id}
        if spec.id in self._jobs or logs_ids & self._by_logs_id.keys():
            raise ValueError(f"a job with id {spec.id!r} or batch job id {batch_id!r} already exists")
        origin = self.clock.time_ns() if origin_ns is None else origin_ns
        created = origin + round(spec.start_after * NS_PER_SECOND)
        planned = Timeline.plan(spec, created, self.seed, unknown_state=self.realism.unknown_state)
        profile = JobProfile.draw(spec, self.seed)
        store = LogStore()
        generator = LogGenerator(
            spec=spec,
            timeline=planned,
            text=JobText(spec=spec, profile=profile, account=self.account),
            seed=self.seed,
            realism=self.realism,
            store=store,
        )
        timeline = planned.expiring()
        if timeline is not planned:
            generator.cut(timeline.expires, timeline)
        job = SimJob(spec, timeline, profile, store, generator, batch_id)
        self._jobs[spec.id] = job
        for logs_id in logs_ids:
            self._by_logs_id[logs_id] = job

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
    def _existing(job: SimJob | None, now: int) -> SimJob:
        if job is None or not job.timeline.exists(now):
            raise ApiError("NOT_FOUND", "resource not found", "NOT_FOUND")  # the live message, whatever the id
        return job

    def inference_job(self, job_id: str, now: int) -> SimJob:
        """A job that exists at ``now``, by inference job id.

        Raises:
            ApiError: NOT_FOUND for an unknown job, one not created yet, or one deleted.
        """
        return self._existing(self._jobs.get(job_id), now)

    def batch_job(self, logs_id: str, now: int) -> SimJob:
        """A job that exists at ``now``, by batch job id (the getLogs id), its log brought up to ``now``.

        Raises:
            ApiError: NOT_FOUND for an unknown job, one not created yet, or one deleted.
        """
        job = self._existing(self._by_logs_id.get(logs_id), now)
        job.generator.advance(now)
        return job

    def existing_keys(self, now: int) -> list[tuple[int, str]]:
        """``(createTime ns, id)`` of every job that exists at ``now``."""
        return [(j.timeline.created, j.spec.id) for j in self._jobs.values() if j.timeline.exists(now)]

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

    def batch_resource(self, job: SimJob, now: int) -> dict[str, Any]:
        """The job's batch job as GET serves it at ``now``."""
        return batch_job_resource(
            spec=job.spec,
            timeline=job.timeline,
            batch_id=job.batch_id,
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
        extra, omit = self.realism.unknown_fields, self.realism.omit_defaults
        batch = []
        for time_ns, rank, message in sorted(entries, key=lambda e: e[0]):
            if time_ns < 0:
                raise ValueError("log times must not be before 1970")
            text = format_timestamp(time_ns, self._digits_for(time_ns))
            fragment = make_fragment(text, rank, message, extra_fields=extra, omit_defaults=omit)
            batch.append((time_ns, time_ns + delay, rank, fragment))
        job.store.add(batch)

    def _digits_for(self, time_ns: int) -> int:
        """The fewest allowed fraction digits that show ``time_ns`` exactly (9 if none does)."""
        return next((d for d in sorted(self.realism.log_digits) if time_ns % FRACTION_SCALE[d] == 0), 9)

    def current(self, job_id: str, now: int) -> SimJob:
        """A job that exists at ``now`` (or is being deleted), for the Python API.

        Raises:
            KeyError: for an unknown id.
            ValueError: for a job not created yet, or one deleted and gone.
        """
        job = self.find(job_id)
        if job.timeline.created > now:
            raise ValueError(f"job {job_id!r} is not created yet")
        if not job.timeline.exists(now):
            raise ValueError(f"job {job_id!r} was deleted")
        return job

    def end(self, job_id: str, outcome: str, message: str | None) -> None:
        """End a job now with ``outcome`` (or freeze it with ``"STUCK"``).

        Raises:
            ValueError: for an unknown outcome (or ``NO_CAPACITY``, which only a plan can have), a job not
                created yet, one already finished, or one deleted.
        """
        if outcome not in OUTCOMES - {"NO_CAPACITY"}:
            raise ValueError(f"outcome must be one of {sorted(OUTCOMES - {'NO_CAPACITY'})}, not {outcome!r}")
        now = self.clock.time_ns()
        job = self.current(job_id, now)
        if job.timeline.gone is not None:
            raise ValueError(f"job {job_id!r} was deleted")
        if job.timeline.final_at is not None and job.timeline.final_at <= now:
            raise ValueError(f"job {job_id!r} already finished ({job.timeline.state(now)})")
        job.timeline = job.timeline.ended(outcome, now, message)
        job.generator.end(now, job.timeline)

    @staticmethod
    def delete(job: SimJob, now: int) -> None:
        """Delete a job at ``now``: it shows DELETING_CLEANING_UP, then is gone; deleting it again changes nothing."""
        if job.timeline.state(now) != DELETING:
            job.timeline = job.timeline.deleted(now)
            job.generator.stop(now, job.timeline)
