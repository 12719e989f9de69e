"""The BatchInferenceJob resource as the wire shows it at a given moment (proto3 JSON, camelCase).

As live, every field is written, at its default value if unset (``0``, ``""``, ``false``, ``null`` for a
sub-object); the omit-defaults realism switch leaves those out instead.
"""

from __future__ import annotations

import zlib
from typing import Any, Final

import attrs

from fwbatch_async.emulator.fieldmask import INT64_PROGRESS_FIELDS
from fwbatch_async.emulator.realism import Realism
from fwbatch_async.emulator.rng import seeded
from fwbatch_async.emulator.scenario import JobSpec
from fwbatch_async.emulator.timeline import Timeline
from fwbatch_async.emulator.wire import floor_to_digits, format_duration, format_timestamp, omit_defaults

__all__ = ["JobProfile", "job_resource", "timestamp"]

DEFAULT_INFERENCE_PARAMETERS: Final = {"maxTokens": 1024, "temperature": 0.7, "topP": 0.95, "n": 1, "topK": 40}
# Every parameter at its proto3 default, for the ones a job does not set.
_UNSET_PARAMETERS: Final = {"maxTokens": 0, "temperature": 0.0, "topP": 0.0, "n": 0, "extraBody": "", "topK": 0}
_PPM: Final = 1_000_000


@attrs.frozen(kw_only=True)
class JobProfile:
    """Seeded per-job workload numbers: tokens per request, failure and cache rates (parts per million)."""

    input_tokens_per_request: int
    output_tokens_per_request: int
    failed_ppm: int
    cached_ppm: int

    @classmethod
    def draw(cls, spec: JobSpec, seed: int) -> JobProfile:
        """The profile of ``spec`` under ``seed``."""
        rng = seeded(seed, spec.id, "profile")
        return cls(
            input_tokens_per_request=rng.randrange(150, 900),
            output_tokens_per_request=rng.randrange(60, 600),
            failed_ppm=rng.randrange(0, 15_000),
            cached_ppm=rng.randrange(50_000, 400_000),
        )


def timestamp(time_ns: int | None, realism: Realism, salt: str) -> str | None:
    """A job timestamp (None stays None), its fraction digit count drawn, reproducibly, from the allowed set."""
    if time_ns is None:
        return None
    digits = sorted(realism.job_digits)
    chosen = digits[zlib.crc32(f"{salt}/{time_ns}".encode()) % len(digits)]
    return format_timestamp(floor_to_digits(time_ns, chosen), chosen)


def _progress(processed: int, timeline: Timeline, profile: JobProfile, realism: Realism) -> dict[str, Any]:
    failed = processed * profile.failed_ppm // _PPM
    succeeded = processed - failed
    input_tokens = processed * profile.input_tokens_per_request
    values = {
        # A job may process more requests than its dataset declared (seen live); a percentage stops at 100.
        "percent": min(processed * 100 // timeline.total, 100) if timeline.total else 0,
        "epoch": 0,
        "totalInputRequests": timeline.total,
        "totalProcessedRequests": processed,
        "successfullyProcessedRequests": succeeded,
        "failedRequests": failed,
        "outputRows": succeeded,
        "inputTokens": input_tokens,
        "outputTokens": succeeded * profile.output_tokens_per_request,
        "cachedInputTokenCount": input_tokens * profile.cached_ppm // _PPM,
    }
    if realism.unknown_fields:
        values["inputRows"] = timeline.total
    return values


def _as_strings(progress: dict[str, Any]) -> dict[str, Any]:
    """The int64-as-strings switch: counters as decimal strings (never done live: they are int32)."""
    return {key: str(value) if key in INT64_PROGRESS_FIELDS else value for key, value in progress.items()}


def job_resource(
    *,
    spec: JobSpec,
    timeline: Timeline,
    profile: JobProfile,
    account: str,
    now: int,
    realism: Realism,
    seed: int,
) -> dict[str, Any]:
    """The job as GET serves it at ``now`` (the job must exist at ``now``)."""
    salt = f"{seed}/{spec.id}"
    code, message = timeline.status(now)
    validated, run_start, end = timeline.lifecycle(now)
    # There is no jobProgress until the job runs: the live server sends null before RUNNING, zeros from then on.
    progress = None if run_start is None else _progress(timeline.processed(now), timeline, profile, realism)
    job: dict[str, Any] = {
        "name": f"accounts/{account}/batchInferenceJobs/{spec.id}",
        "displayName": spec.display_name or spec.id,
        "createTime": timestamp(timeline.created, realism, f"{salt}/createTime"),
        "createdBy": spec.created_by,
        "state": timeline.state(now),
        "status": {"code": code, "message": message},
        "model": spec.model,
        "inputDatasetId": f"accounts/{account}/datasets/{spec.id}-input",
        "outputDatasetId": f"accounts/{account}/datasets/{spec.id}-output",
        "inferenceParameters": _UNSET_PARAMETERS | dict(spec.inference_parameters or DEFAULT_INFERENCE_PARAMETERS),
        "updateTime": timestamp(timeline.update_time(now), realism, f"{salt}/updateTime"),
        "precision": spec.precision,
        "jobProgress": progress,
        "continuedFromJobName": spec.continued_from_job_name or "",
        "expireTime": timestamp(timeline.expires, realism, f"{salt}/expireTime"),
        "maxJobDuration": None if spec.max_job_duration is None else format_duration(spec.max_job_duration),
        "lifecycle": {
            "validatedTime": timestamp(validated, realism, f"{salt}/validatedTime"),
            "runStartTime": timestamp(run_start, realism, f"{salt}/runStartTime"),
            "endTime": timestamp(end, realism, f"{salt}/endTime"),
        },
        # Unset: what placement's members hold is not published, so the emulator never sets it.
        "placement": None,
        "systemPrompt": spec.system_prompt,
        "waitingOnCapacity": timeline.waiting_on_capacity(now),
    }
    if realism.unknown_fields:
        job["acceleratorType"] = "NVIDIA_H100_80GB"
    if realism.omit_defaults:
        job = omit_defaults(job)
    if realism.int64_as_strings and job.get("jobProgress"):
        job["jobProgress"] = _as_strings(job["jobProgress"])
    return job
