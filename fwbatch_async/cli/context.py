"""The global options every command shares, and the client they describe."""

from __future__ import annotations

import attrs

import fwbatch_async as fw

__all__ = ["Settings"]


@attrs.frozen
class Settings:
    """Where and how to reach the API (from the global options and the environment)."""

    api_key: str | None
    account_id: str | None
    base_url: str | None
    timeout: float
    attempts: int

    def client(self) -> fw.AsyncClient:
        """A client for these settings.

        Raises:
            ValueError: no API key, or a setting the client rejects.
        """
        if not self.api_key:
            raise ValueError("no API key: pass --api-key or set FIREWORKS_API_KEY")
        return fw.AsyncClient(
            api_key=self.api_key,
            account_id=self.account_id,
            base_url=self.base_url,
            timeout=self.timeout,
            retry=fw.RetryPolicy(max_attempts=self.attempts),
        )
