"""Retries a user can see: a line on stderr before each retry, and none of a refusal where waiting is pointless."""

from __future__ import annotations

import sys

import attrs

import fwbatch_async as fw

from .outcome import describe, refused

__all__ = ["CommandRetry"]


@attrs.frozen
class CommandRetry(fw.RetryPolicy):
    """The client's retries, each said on stderr (``retrying (2/6)…``) so that a slow failure is not silence.

    A follow's endless retries (:meth:`~fwbatch_async.RetryPolicy.patient`) are not said one by one: the library
    reports an outage once. With ``refused_is_final``, a refused connection is not retried: a one-shot command
    (``status``, ``logs``) pointed at an address where nothing listens fails at once.
    """

    refused_is_final: bool = False

    def delay_after(self, error: fw.FwBatchError, *, attempt: int, elapsed: float, random: float) -> float | None:
        """The policy's wait, said on stderr; ``None`` at once for a refused connection when that is final."""
        if self.refused_is_final and refused(error):
            return None
        delay = super().delay_after(error, attempt=attempt, elapsed=elapsed, random=random)
        if delay is not None and self.max_attempts < sys.maxsize:
            sys.stderr.write(
                f"fwbatch: {describe(error, advice=False)}; retrying ({attempt + 1}/{self.max_attempts})…\n"
            )
            sys.stderr.flush()
        return delay
