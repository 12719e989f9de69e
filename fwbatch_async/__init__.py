"""fwbatch_async: an asyncio-native client for Fireworks AI batch inference jobs.

Read a job's state and progress, page through a batch job's logs in either direction, and follow them like
``tail -f`` without losing or repeating a line. Everything public is importable from here.

Example:
    >>> import fwbatch_async as fw
    >>> fw.JobState("JOB_STATE_COMPLETED").is_finished
    True
"""

from ._core.enums import JobState, Precision, StateCategory
from ._core.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FwBatchError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from ._core.follow import FollowCursor, FollowStats
from ._core.models import (
    BatchInferenceJob,
    InferenceParameters,
    JobListPage,
    JobProgress,
    LogEntry,
    LogPage,
    Status,
)
from ._core.polling import PollPolicy
from ._core.retry import RetryPolicy
from ._core.timestamps import Timestamp
from ._version import __version__
from .client import DEFAULT_BASE_URL, AsyncClient
from .clock import Clock, SystemClock
from .logs import FollowLogs

__all__ = [
    "DEFAULT_BASE_URL",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "BatchInferenceJob",
    "Clock",
    "ConflictError",
    "FollowCursor",
    "FollowLogs",
    "FollowStats",
    "FwBatchError",
    "InferenceParameters",
    "InvalidResponseError",
    "JobListPage",
    "JobProgress",
    "JobState",
    "LogEntry",
    "LogPage",
    "NotFoundError",
    "PermissionDeniedError",
    "PollPolicy",
    "Precision",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
    "StateCategory",
    "Status",
    "SystemClock",
    "Timestamp",
    "__version__",
]
