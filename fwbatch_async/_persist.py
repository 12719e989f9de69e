"""Waiting out failures that the client's retries did not cure, for loops that must not die of weather."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ._core.errors import FwBatchError, RateLimitError
from .clock import Clock

__all__ = ["outlast_failures"]

T = TypeVar("T")
_LOG = logging.getLogger(__name__)


async def outlast_failures(
    call: Callable[[], Awaitable[T]],
    *,
    is_retryable: Callable[[BaseException], bool],
    clock: Clock,
    wait: float,
    label: str,
    on_failure: Callable[[], None] | None = None,
) -> T:
    """The result of ``call``, calling again while it fails with an error that retrying could fix.

    Between calls it waits ``wait`` seconds, or longer if the server asked (Retry-After): a 429 storm or an outage
    slows the caller down instead of ending it. Any other error is raised.
    """
    while True:
        try:
            return await call()
        except FwBatchError as error:
            if not is_retryable(error):
                raise
            if on_failure is not None:
                on_failure()
            delay = wait
            if isinstance(error, RateLimitError) and error.retry_after is not None:
                delay = max(delay, error.retry_after)
            _LOG.warning("%s: %s; trying again in %.1fs", label, error, delay)
            await clock.sleep(delay)
