"""The global options every command shares, and the client they describe."""

from __future__ import annotations

import contextlib

import attrs

import fwbatch_async as fw

__all__ = ["Settings", "check_access"]


@attrs.frozen
class Settings:
    """Where and how to reach the API (from the global options and the environment)."""

    api_key: str | None
    account_id: str | None
    base_url: str | None
    timeout: float
    attempts: int
    max_rate: float = 10.0

    def client(self) -> fw.AsyncClient:
        """A client for these settings.

        Raises:
            ArgumentError: no API key, or a setting the client rejects.
        """
        if not self.api_key:
            raise fw.ArgumentError("no API key: pass --api-key or set FIREWORKS_API_KEY")
        return fw.AsyncClient(
            api_key=self.api_key,
            account_id=self.account_id,
            base_url=self.base_url,
            timeout=self.timeout,
            retry=fw.RetryPolicy(max_attempts=self.attempts),
            max_rate=self.max_rate,
        )


async def check_access(client: fw.AsyncClient, job_id: str) -> None:
    """Read one job before a long follow or watch, so a wrong address or key fails now with one line.

    Once following, the library waits out such failures as weather for as long as the follow lasts. A job that
    does not exist is left for the follow to report, with the others still followed.
    """
    with contextlib.suppress(fw.NotFoundError):
        await client.get_batch_inference_job(job_id)
