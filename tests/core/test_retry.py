from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from fwbatch_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    FwBatchError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from fwbatch_async._core.retry import retry_after_seconds

NOW = 1_795_320_000.0


def status_error(status: int, retry_after: float | None = None) -> APIStatusError:
    cls = {
        400: BadRequestError,
        401: AuthenticationError,
        403: PermissionDeniedError,
        404: NotFoundError,
    }.get(status, RateLimitError if status == 429 else ServerError if status >= 500 else APIStatusError)
    return cls("m", status=status, retry_after=retry_after)


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (APIConnectionError("reset"), True),
        (APITimeoutError("slow"), True),
        (InvalidResponseError("getBatchJobLogs", "cut", transient=True), True),
        (InvalidResponseError("getBatchJobLogs", "shape", transient=False), False),
        (status_error(408), True),
        (status_error(429), True),
        (status_error(500), True),
        (status_error(502), True),
        (status_error(503), True),
        (status_error(504), True),
        (status_error(400), False),
        (status_error(401), False),
        (status_error(403), False),
        (status_error(404), False),
        (status_error(409), False),
        (status_error(501), False),
    ],
)
def test_what_is_retried(error: FwBatchError, retried: bool) -> None:
    policy = RetryPolicy()
    assert policy.is_retryable(error) is retried
    delay = policy.delay_after(error, attempt=1, elapsed=0.0, random=0.5)
    assert (delay is not None) is retried


def test_backoff_is_exponential_with_full_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay=0.5, max_delay=4.0, timeout=None)
    error = status_error(503)
    ceilings = [policy.delay_after(error, attempt=a, elapsed=0.0, random=0.999999) for a in range(1, 8)]
    assert ceilings == pytest.approx([0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0], rel=1e-5)
    assert policy.delay_after(error, attempt=3, elapsed=0.0, random=0.0) == 0.0
    assert policy.delay_after(error, attempt=3, elapsed=0.0, random=0.25) == 0.5


def test_attempts_are_limited() -> None:
    policy = RetryPolicy(max_attempts=3)
    error = APIConnectionError("reset")
    assert policy.delay_after(error, attempt=2, elapsed=0.0, random=0.5) is not None
    assert policy.delay_after(error, attempt=3, elapsed=0.0, random=0.5) is None
    assert RetryPolicy.never().delay_after(error, attempt=1, elapsed=0.0, random=0.5) is None


def test_a_server_requested_wait_is_honoured_up_to_the_cap() -> None:
    policy = RetryPolicy(max_retry_after=60.0, timeout=None)
    assert policy.delay_after(status_error(429, retry_after=7.5), attempt=1, elapsed=0.0, random=0.0) == 7.5
    assert policy.delay_after(status_error(503, retry_after=0.0), attempt=1, elapsed=0.0, random=0.9) == 0.0
    assert policy.delay_after(status_error(429, retry_after=3600.0), attempt=1, elapsed=0.0, random=0.0) == 60.0


def test_the_overall_budget_stops_a_retry_that_would_end_too_late() -> None:
    policy = RetryPolicy(timeout=10.0)
    assert policy.delay_after(status_error(429, retry_after=4.0), attempt=1, elapsed=5.0, random=0.0) == 4.0
    assert policy.delay_after(status_error(429, retry_after=6.0), attempt=1, elapsed=5.0, random=0.0) is None


def test_statuses_are_configurable() -> None:
    policy = RetryPolicy(statuses={503})
    assert policy.is_retryable(status_error(503))
    assert not policy.is_retryable(status_error(429))


@pytest.mark.parametrize("kwargs", [{"max_attempts": 0}, {"base_delay": -1.0}, {"max_delay": -1.0}, {"timeout": 0.0}])
def test_nonsense_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, None),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": " 2.5 "}, 2.5),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "-3"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "soon"}, None),
        ({"retry-after": format_datetime(datetime.fromtimestamp(NOW + 30, UTC), usegmt=True)}, 30.0),
        ({"retry-after": format_datetime(datetime.fromtimestamp(NOW - 30, UTC), usegmt=True)}, 0.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after-ms": "x", "retry-after": "9"}, 9.0),
    ],
)
def test_retry_after_forms(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_seconds(headers, now=NOW) == seconds
