"""fwbatch_async: an asyncio-native client for Fireworks AI batch inference jobs.

Read a job's state and progress, page through a batch job's logs in either direction, and follow them like
``tail -f`` without losing or repeating a line. Everything public is importable from here.

Example:
    >>> import fwbatch_async as fw
    >>> fw.JobState("JOB_STATE_COMPLETED").is_finished
    True
"""

# Names are imported on first use (PEP 562), so that ``import fwbatch_async`` and ``fwbatch --help`` stay cheap:
# the models, the follow machinery and their dependencies load when a program first touches them.
import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
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
    from .client import AsyncClient
    from .clock import Clock, SystemClock

_WHERE: dict[str, str] = {
    "APIConnectionError": "._core.errors",
    "APIStatusError": "._core.errors",
    "APITimeoutError": "._core.errors",
    "ArgumentError": "._core.errors",
    "AsyncClient": ".client",
    "AuthenticationError": "._core.errors",
    "BadRequestError": "._core.errors",
    "BatchInferenceJob": "._core.models",
    "BatchJob": "._core.models",
    "BatchJobState": "._core.enums",
    "Change": "._core.jobs",
    "ClientClosedError": "._core.errors",
    "Clock": ".clock",
    "ConflictError": "._core.errors",
    "DEFAULT_BASE_URL": "._config",
    "FollowCursor": "._core.cursor",
    "FollowLogs": "._logs",
    "FollowStats": "._core.window",
    "FwBatchError": "._core.errors",
    "InferenceParameters": "._core.models",
    "InvalidResponseError": "._core.errors",
    "JobEnded": "._core.events",
    "JobError": "._core.errors",
    "JobEvent": "._core.events",
    "JobEvents": "._fanout",
    "JobFailedError": "._core.errors",
    "JobListPage": "._core.models",
    "JobProgress": "._core.models",
    "JobStalledError": "._core.errors",
    "JobState": "._core.enums",
    "JobUpdate": "._core.jobs",
    "Lifecycle": "._core.models",
    "LineFilter": "._core.selection",
    "LogEntry": "._core.models",
    "LogLine": "._core.events",
    "LogPage": "._core.models",
    "NotFoundError": "._core.errors",
    "PendingTimeoutError": "._core.errors",
    "PermissionDeniedError": "._core.errors",
    "Placement": "._core.models",
    "PollPolicy": "._core.polling",
    "Precision": "._core.enums",
    "RateLimitError": "._core.errors",
    "RetryPolicy": "._core.retry",
    "ServerError": "._core.errors",
    "StateCategory": "._core.enums",
    "Status": "._core.models",
    "SystemClock": ".clock",
    "Timestamp": "._core.timestamps",
    "WATCH_POLL": "._core.jobs",
    "WaitTimeoutError": "._core.errors",
    "to_wire": "._core.convert",
}

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


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use; it is then a plain attribute of the package."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
