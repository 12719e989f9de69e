"""The BatchJob resource: the compute job on a cluster whose log ``:getLogs`` serves.

Its name is ``accounts/{account}/clusters/{cluster}/batchJobs/{id}`` with a numeric id (fireworks-api.md section 6).
How a batch inference job maps to its batch job is not published, so this mapping is the emulator's own: every
inference job has one batch job, on the one cluster ``CLUSTER``, whose id is the job spec's ``batch_job_id`` or
else a number drawn from the scenario's seed and the inference job's id. Nothing on the inference job points
to it. Its states follow the inference job's (``STATES`` below), with the bare enum names the published schema
shows (``STATE_UNSPECIFIED``, ``QUEUED``, ...).
"""

from __future__ import annotations

from typing import Any, Final

from fwbatch_async.emulator.jobview import timestamp
from fwbatch_async.emulator.realism import Realism
from fwbatch_async.emulator.rng import seeded
from fwbatch_async.emulator.scenario import JobSpec
from fwbatch_async.emulator.timeline import Timeline
from fwbatch_async.emulator.wire import omit_defaults

__all__ = ["CLUSTER", "STATES", "batch_job_resource", "numeric_id"]

CLUSTER: Final = "emulator-cluster"
# Inference job state -> batch job state: queued until the deployment is being created, running while requests
# are processed or results written, DELETING while the inference job is cleaned up.
STATES: Final = {
    "JOB_STATE_VALIDATING": "QUEUED",
    "JOB_STATE_PENDING": "QUEUED",
    "JOB_STATE_CREATING": "CREATING",
    "JOB_STATE_WARMING_UP": "CREATING",
    "JOB_STATE_RUNNING": "RUNNING",
    "JOB_STATE_WRITING_RESULTS": "RUNNING",
    "JOB_STATE_COMPLETED": "COMPLETED",
    "JOB_STATE_FAILED": "FAILED",
    "JOB_STATE_EXPIRED": "CANCELLED",
    "JOB_STATE_CANCELLED": "CANCELLED",
    "JOB_STATE_DELETING_CLEANING_UP": "DELETING",
}


def numeric_id(seed: int, job_id: str) -> str:
    """The batch job id of an inference job whose spec sets none: 12 digits drawn from the seed and its id."""
    return str(seeded(seed, job_id, "batch-job-id").randrange(10**11, 10**12))


def batch_job_resource(
    *, spec: JobSpec, timeline: Timeline, batch_id: str, account: str, now: int, realism: Realism, seed: int
) -> dict[str, Any]:
    """The batch job as GET serves it at ``now`` (the job must exist at ``now``)."""
    salt = f"{seed}/{spec.id}/batch"
    state = timeline.state(now)
    _, run_start, end = timeline.lifecycle(now)
    _, message = timeline.status(now)
    resource: dict[str, Any] = {
        "name": f"accounts/{account}/clusters/{CLUSTER}/batchJobs/{batch_id}",
        "createTime": timestamp(timeline.created, realism, f"{salt}/createTime"),
        "startTime": timestamp(run_start, realism, f"{salt}/startTime"),
        "endTime": timestamp(end, realism, f"{salt}/endTime"),
        "createdBy": spec.created_by,
        "numRanks": spec.ranks,
        "state": STATES.get(state or "", "STATE_UNSPECIFIED"),
        "status": message,
    }
    return omit_defaults(resource) if realism.omit_defaults else resource
