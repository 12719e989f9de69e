"""``fwbatch status``: a table of jobs, or their JSON."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

import fwbatch_async as fw

from .context import Settings
from .jobtable import show_jobs
from .outcome import ExitCode, describe

__all__ = ["show_status"]


async def show_status(settings: Settings, job_ids: Sequence[str], *, output: str) -> ExitCode:
    """Read every job at once; the ones that could be read are shown, the others named on stderr."""
    async with settings.client(one_shot=True) as client:
        results = await asyncio.gather(
            *(client.get_batch_inference_job(job_id) for job_id in job_ids), return_exceptions=True
        )
        now = client.server_time().ns / 1e9  # ages and expiries on the server's clock, which may differ from ours
    jobs = [result for result in results if isinstance(result, fw.BatchInferenceJob)]
    for job_id, result in zip(job_ids, results, strict=True):
        if isinstance(result, fw.FwBatchError):
            sys.stderr.write(f"fwbatch: error: {job_id}: {describe(result)}\n")
        elif isinstance(result, BaseException):
            raise result
    show_jobs(jobs, now, output=output)
    return ExitCode.OK if len(jobs) == len(job_ids) else ExitCode.API
