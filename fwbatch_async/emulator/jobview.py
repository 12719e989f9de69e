"""The BatchInferenceJob resource as the wire shows it at a given moment (proto3 JSON, camelCase)."""

from __future__ import annotations

import zlib
from typing import Any, Final

import attrs

from fwbatch_async.emulator.fieldmask import INT64_PROGRESS_FIELDS
from fwbatch_async.emulator.realism import Realism
from fwbatch_async.emulator.rng import seeded
from fwbatch_async.emulator.scenario import JobSpec
from fwbatch_async.emulator.timeline import Timeline
from fwbatch_async.emulator.wire import NS_PER_SECOND, floor_to_digits, format_timestamp

__all__ = ["JobProfile", "job_resource"]

DEFAULT_INFERENCE_PARAMETERS: Final = {"maxTokens": 1024, "temperature": 0.7, "topP": 0.95, "n": 1, "topK": 40}
# Before validation finishes the server does not know the request count, so there is no jobProgress yet.
_NO_PROGRESS_STATES: Final = frozenset({"JOB_STATE_CREATING", "JOB_STATE_VALIDATING"})
_PPM: Final = 1_000_000
_DAY_NS: Final = 86_400 * NS_PER_SECOND


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


def _timestamp(time_ns: int, realism: Realism, salt: str) -> str:
    """Format with a fraction digit count drawn, reproducibly, from the allowed set."""
    digits = sorted(realism.fraction_digits)
    chosen = digits[zlib.crc32(f"{salt}/{time_ns}".encode()) % len(digits)]
    return format_timestamp(floor_to_digits(time_ns, chosen), chosen)


def _progress(processed: int, timeline: Timeline, profile: JobProfile, realism: Realism) -> dict[str, Any]:
    failed = processed * profile.failed_ppm // _PPM
    succeeded = processed - failed
    input_tokens = processed * profile.input_tokens_per_request
    values = {
        "percent": processed * 100 // timeline.total if timeline.total else 0,
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
    # proto3 JSON: fields at their default value (0) are not written.
    return {
        key: str(value) if realism.int64_as_strings and key in INT64_PROGRESS_FIELDS else value
        for key, value in values.items()
        if value
    }


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
    state = timeline.state(now)
    salt = f"{seed}/{spec.id}"
    code, message = timeline.status(now)
    status: dict[str, Any] = {"code": code}
    if message:
        status["message"] = message
    job: dict[str, Any] = {
        "name": f"accounts/{account}/batchInferenceJobs/{spec.id}",
        "displayName": spec.display_name or spec.id,
        "createTime": _timestamp(timeline.created, realism, f"{salt}/createTime"),
        "createdBy": spec.created_by,
        "state": state,
        "status": status,
        "model": spec.model,
        "inputDatasetId": f"accounts/{account}/datasets/{spec.id}-input",
        "outputDatasetId": f"accounts/{account}/datasets/{spec.id}-output",
        "inferenceParameters": dict(spec.inference_parameters or DEFAULT_INFERENCE_PARAMETERS),
        "updateTime": _timestamp(timeline.update_time(now), realism, f"{salt}/updateTime"),
        "precision": spec.precision,
    }
    if state not in _NO_PROGRESS_STATES:
        job["jobProgress"] = _progress(timeline.processed(now), timeline, profile, realism)
    if spec.continued_from_job_name:
        job["continuedFromJobName"] = spec.continued_from_job_name
    if realism.unknown_fields:
        job["expireTime"] = _timestamp(timeline.created + _DAY_NS, realism, f"{salt}/expireTime")
        job["maxJobDuration"] = "86400s"
        if state == "JOB_STATE_PENDING":
            job["waitingOnCapacity"] = True
        job["acceleratorType"] = "NVIDIA_H100_80GB"
    return job
