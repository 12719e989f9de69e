"""fwbatch_async: an asyncio-native client for Fireworks AI batch inference jobs.

Read a job's state and progress, page through a batch job's logs in either direction, and follow them like
``tail -f`` without losing or repeating a line. Everything public is importable from here.

Example:
    >>> import fwbatch_async as fw
    >>> fw.JobState("JOB_STATE_COMPLETED").is_finished
    True
"""

from ._config import DEFAULT_BASE_URL
from ._core.convert import to_wire
from ._core.cursor import FollowCursor
from ._core.enums import BatchJobState, JobState, Precision, StateCategory
from ._core.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ArgumentError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConflictError,
    FwBatchError,
    InvalidResponseError,
    JobError,
    JobFailedError,
    JobStalledError,
    NotFoundError,
    PendingTimeoutError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    WaitTimeoutError,
)
from ._core.events import JobEnded, JobEvent, LogLine
from ._core.jobs import WATCH_POLL, Change, JobUpdate
from ._core.models import (
    BatchInferenceJob,
    BatchJob,
    InferenceParameters,
    JobListPage,
    JobProgress,
    Lifecycle,
    LogEntry,
    LogPage,
    Placement,
    Status,
)
from ._core.polling import PollPolicy
from ._core.retry import RetryPolicy
from ._core.selection import LineFilter
from ._core.timestamps import Timestamp
from ._core.window import FollowStats
from ._fanout import JobEvents
from ._logs import FollowLogs
from ._version import __version__
from .client import AsyncClient
from .clock import Clock, SystemClock

__all__ = [
    "DEFAULT_BASE_URL",
    "WATCH_POLL",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "ArgumentError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "BatchInferenceJob",
    "BatchJob",
    "BatchJobState",
    "Change",
    "ClientClosedError",
    "Clock",
    "ConflictError",
    "FollowCursor",
    "FollowLogs",
    "FollowStats",
    "FwBatchError",
    "InferenceParameters",
    "InvalidResponseError",
    "JobEnded",
    "JobError",
    "JobEvent",
    "JobEvents",
    "JobFailedError",
    "JobListPage",
    "JobProgress",
    "JobStalledError",
    "JobState",
    "JobUpdate",
    "Lifecycle",
    "LineFilter",
    "LogEntry",
    "LogLine",
    "LogPage",
    "NotFoundError",
    "PendingTimeoutError",
    "PermissionDeniedError",
    "Placement",
    "PollPolicy",
    "Precision",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
    "StateCategory",
    "Status",
    "SystemClock",
    "Timestamp",
    "WaitTimeoutError",
    "__version__",
    "to_wire",
]
