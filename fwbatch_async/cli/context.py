"""The global options every command shares, and the client they describe."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence

import attrs

import fwbatch_async as fw

from .outcome import describe
from .retrying import CommandRetry

__all__ = ["Settings", "check_jobs"]

_LOG = logging.getLogger("fwbatch_async.cli")


@attrs.frozen
class Settings:
    """Where and how to reach the API (from the global options, the environment and ``~/.fireworks/auth.ini``)."""

    api_key: str | None = attrs.field(repr=False)  # a secret: never in a repr, a log or a traceback
    account_id: str | None
    base_url: str | None
    timeout: float
    attempts: int
    max_rate: float | None = 10.0
    """Requests a second at most; ``None``: no ceiling."""

    def client(self, *, one_shot: bool = False) -> fw.AsyncClient:
        """A client for these settings; each retry is said on stderr, and ``one_shot`` does not retry a refusal.

        Raises:
            ArgumentError: no API key, or a setting the client rejects.
        """
        if not self.api_key:
            raise fw.ArgumentError(
                "no API key: pass --api-key, set FIREWORKS_API_KEY, or put api_key in ~/.fireworks/auth.ini"
            )
        client = fw.AsyncClient(
            api_key=self.api_key,
            account_id=self.account_id,
            base_url=self.base_url,
            timeout=self.timeout,
            retry=CommandRetry(max_attempts=self.attempts, refused_is_final=one_shot),
            max_rate=self.max_rate,
        )
        rate = client.request_rate  # the client's own word for it: what it was given, as it understood it
        _LOG.debug("requests: %s (--max-rate)", "no ceiling" if rate is None else f"at most {rate:g} a second")
        return client


async def check_jobs(client: fw.AsyncClient, job_ids: Sequence[str]) -> bool:
    """Read every job at once before a long follow or watch; ``False`` when one does not exist (named on stderr).

    A wrong address or key fails now with one line; once following, the library would wait such failures out as
    weather. An unknown id fails now too, wherever it is in the list, instead of after the others were followed: a
    job that does not exist yet is not waited for.

    Raises:
        FwBatchError: the first error other than a 404, such as a wrong key or an unreachable server.
    """
    results = await asyncio.gather(
        *(client.get_batch_inference_job(job_id) for job_id in job_ids), return_exceptions=True
    )
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, fw.NotFoundError):
            raise result
    missing = [
        (job_id, result)
        for job_id, result in zip(job_ids, results, strict=True)
        if isinstance(result, fw.NotFoundError)
    ]
    for job_id, error in missing:
        sys.stderr.write(f"fwbatch: error: {job_id}: {describe(error)}\n")
    return not missing
