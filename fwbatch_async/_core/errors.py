"""The exception tree.

Everything the client raises on purpose is a :class:`FwBatchError`, except ``ValueError`` (and ``TypeError``) for
bad arguments, which are raised before anything is sent.

.. code-block:: text

    FwBatchError
    ├── APIConnectionError          the request did not get an HTTP answer (refused, reset, DNS, TLS)
    │   └── APITimeoutError         ... because it took longer than the timeout
    ├── APIStatusError              the server answered with an error status
    │   ├── BadRequestError             400
    │   ├── AuthenticationError         401, 403 UNAUTHORIZED
    │   ├── PermissionDeniedError       403
    │   ├── NotFoundError               404
    │   ├── ConflictError               409
    │   ├── RateLimitError              429
    │   └── ServerError                 5xx
    ├── InvalidResponseError        a success status with a body that is not what the endpoint documents
    └── JobError                    a job did not end the way the caller waited for
        ├── JobFailedError              it finished without success (FAILED, EXPIRED, CANCELLED, DELETED...)
        ├── JobStalledError             it kept running without progress for too long
        └── WaitTimeoutError            it had not finished when the wait's time ran out
            └── PendingTimeoutError         ... or had not started running when its pending time ran out
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final

if TYPE_CHECKING:
    from .models import BatchInferenceJob

__all__ = [
    "GRPC_CODE_NAMES",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "ArgumentError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConflictError",
    "FwBatchError",
    "InvalidResponseError",
    "JobError",
    "JobFailedError",
    "JobStalledError",
    "NotFoundError",
    "PendingTimeoutError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "WaitTimeoutError",
    "redact",
]

GRPC_CODE_NAMES: Final[Mapping[int, str]] = {
    0: "OK",
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    6: "ALREADY_EXISTS",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    10: "ABORTED",
    11: "OUT_OF_RANGE",
    12: "UNIMPLEMENTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    15: "DATA_LOSS",
    16: "UNAUTHENTICATED",
}
"""``google.rpc.Code`` numbers to names; error bodies carry the number, job statuses the name."""


class ArgumentError(ValueError):
    """An argument is malformed or out of range; raised when the call is made, before anything is sent.

    A ``ValueError``, so code that catches that keeps working; a tool that wraps the client (``fwbatch``) can tell
    its user's mistakes from a bug that happens to raise ``ValueError``.

    Example:
        >>> import fwbatch_async as fw
        >>> try:
        ...     fw.AsyncClient(api_key="k", base_url="ftp://example.com")
        ... except fw.ArgumentError as error:
        ...     print(error)
        base_url must be an http(s) URL with a host, got 'ftp://example.com'
    """


class ClientClosedError(RuntimeError):
    """The client was closed: a call or stream still running on it ends with this.

    A ``RuntimeError``: using a closed client is a mistake in the calling code, not an error of the API. A job
    stream whose client closes ends with this error as a whole, not with an error per job.
    """


class FwBatchError(Exception):
    """Base of every error this package raises on purpose (bad arguments raise :class:`ArgumentError` instead).

    Example:
        >>> import fwbatch_async as fw
        >>> async def job_state(client: fw.AsyncClient, job_id: str) -> str:
        ...     try:
        ...         return (await client.get_batch_inference_job(job_id)).state.short_name
        ...     except fw.FwBatchError as error:  # anything the client raises on purpose
        ...         return f"unknown ({error})"
    """


_HIDDEN: Final = "<hidden>"
_SHOWN_LENGTH: Final = 1000
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    """Server text made safe to print: control characters (terminal escapes) escaped, the length bounded."""
    shown = _CONTROL.sub(lambda match: ascii(match.group())[1:-1], text[:_SHOWN_LENGTH])
    return shown if len(text) <= _SHOWN_LENGTH else f"{shown}... ({len(text) - _SHOWN_LENGTH} more characters)"


def _scrubbed(value: object, secret: str) -> object:
    if isinstance(value, str):
        return value.replace(secret, _HIDDEN)
    if isinstance(value, Mapping):
        return {_scrubbed(k, secret): _scrubbed(v, secret) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_scrubbed(item, secret) for item in value)
    return value


def redact(error: FwBatchError, secret: str) -> None:
    """Replace ``secret`` with ``<hidden>`` everywhere in ``error``: its args and attributes, nested ones included.

    A server may echo the credential it was sent (in a message, a detail's metadata, a reason); this runs on every
    error the client raises, so no ``str``, ``repr`` or traceback of it can show the key.
    """
    if not secret:
        return
    error.args = tuple(_scrubbed(arg, secret) for arg in error.args)
    for name, value in list(vars(error).items()):
        if not name.startswith("__"):
            setattr(error, name, _scrubbed(value, secret))


class APIConnectionError(FwBatchError):
    """The request got no HTTP answer: connection refused or reset, DNS or TLS failure, or a cut-off body.

    Attributes:
        url: the URL that was requested (it never contains the API key).

    Example:
        >>> import fwbatch_async as fw
        >>> issubclass(fw.APITimeoutError, fw.APIConnectionError)  # a timeout is a connection that gave no answer
        True
    """

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.url = url

    def __str__(self) -> str:
        return f"{self.message} [{self.url}]" if self.url else self.message


class APITimeoutError(APIConnectionError):
    """The request took longer than the client's timeout.

    Example:
        >>> import fwbatch_async as fw
        >>> client = fw.AsyncClient(api_key="fw-...", timeout=5.0)  # raised when a request takes longer than 5 s
    """


class APIStatusError(FwBatchError):
    """The server answered with an error status.

    Attributes:
        status: the HTTP status.
        code: the gRPC code name (``NOT_FOUND``, ``RESOURCE_EXHAUSTED``...) from the body, or ``None`` when the
            body was not a ``google.rpc.Status`` (e.g. an HTML page from a gateway).
        message: the server's message, or a short description of a body that had none.
        details: the ``details`` list of the ``google.rpc.Status`` body, as received.
        reason: the ``reason`` of the first ``google.rpc.ErrorInfo`` in ``details``, if any.
        request_id: the request id the server sent in a header or the error body, if any; quote it to Fireworks
            support.
        retry_after: seconds the server asked to wait before retrying, if it said.
        url: the URL that was requested (it never contains the API key).

    Example:
        >>> import fwbatch_async as fw
        >>> async def show(client: fw.AsyncClient) -> None:
        ...     try:
        ...         await client.get_batch_inference_job("my-job")
        ...     except fw.APIStatusError as error:
        ...         print(error.status, error.code, error.message, error.request_id)
    """

    hint: ClassVar[str] = ""
    """What the user can do about it, appended to the printed error."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        details: Sequence[Mapping[str, Any]] = (),
        reason: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        url: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details = tuple(details)
        self.reason = reason
        self.request_id = request_id
        self.retry_after = retry_after
        self.url = url

    def __str__(self) -> str:
        return self.summary + self.hint

    @property
    def summary(self) -> str:
        """The printed error without the :attr:`hint` (for a program that gives its own advice)."""
        head = f"HTTP {self.status}" + (f" {self.code}" if self.code else "")
        notes = [f"reason {self.reason}"] if self.reason else []
        if self.request_id:
            notes.append(f"request id {self.request_id}")
        if self.url:
            notes.append(self.url)
        tail = f" ({'; '.join(notes)})" if notes else ""
        # What the server said stays whole in the attributes; printed, it is bounded and cannot drive a terminal.
        return f"{_printable(head)}: {_printable(self.message)}{_printable(tail)}"


class BadRequestError(APIStatusError):
    """400: the server rejected the request's parameters (or an expired page token).

    Example:
        >>> import fwbatch_async as fw
        >>> fw.BadRequestError.__mro__[1].__name__  # never retried: asking again cannot change the answer
        'APIStatusError'
    """


class AuthenticationError(APIStatusError):
    """401, or a 403 whose body says the key is invalid: the API key is missing, wrong or revoked.

    Live Fireworks answers a bad key with 403 and ``"code": "UNAUTHORIZED"``; a 403 that does not say so is a
    :class:`PermissionDeniedError`.

    Example:
        >>> import fwbatch_async as fw
        >>> async def check_key(client: fw.AsyncClient) -> bool:
        ...     try:
        ...         await client.get_batch_inference_job("any-job")
        ...     except fw.AuthenticationError:
        ...         return False
        ...     except fw.NotFoundError:
        ...         return True  # the key was accepted; the job just does not exist
        ...     return True
    """

    hint: ClassVar[str] = "; check FIREWORKS_API_KEY (or the client's api_key=)"


class PermissionDeniedError(APIStatusError):
    """403: the API key may not read this account or job.

    Example:
        >>> import fwbatch_async as fw
        >>> issubclass(fw.PermissionDeniedError, fw.APIStatusError)
        True
    """


class NotFoundError(APIStatusError):
    """404: no such account or job.

    Example:
        >>> import fwbatch_async as fw
        >>> async def exists(client: fw.AsyncClient, job_id: str) -> bool:
        ...     try:
        ...         await client.get_batch_inference_job(job_id)
        ...     except fw.NotFoundError:
        ...         return False
        ...     return True
    """


class ConflictError(APIStatusError):
    """409: the request conflicts with the resource's state.

    Example:
        >>> import fwbatch_async as fw
        >>> issubclass(fw.ConflictError, fw.APIStatusError)
        True
    """


class RateLimitError(APIStatusError):
    """429: the server is throttling this client; see :attr:`retry_after`.

    Example:
        >>> import fwbatch_async as fw
        >>> async def read(client: fw.AsyncClient) -> None:
        ...     try:
        ...         await client.get_batch_inference_job("my-job")
        ...     except fw.RateLimitError as error:  # still throttled after every retry
        ...         print("the server asks to wait", error.retry_after, "s")
    """


class ServerError(APIStatusError):
    """5xx: the server or a gateway in front of it failed.

    Example:
        >>> import fwbatch_async as fw
        >>> patient = fw.RetryPolicy(max_attempts=10)  # 5xx are retried; raised once the attempts run out
    """


class InvalidResponseError(FwBatchError):
    """A success status with a body that is not what the endpoint documents.

    Attributes:
        endpoint: the endpoint's name, e.g. ``getBatchJobLogs``.
        status: the HTTP status.
        problem: what was wrong with the body.
        transient: ``True`` when the body was not JSON at all (typically cut short in transit), so asking again
            may help; ``False`` when it was JSON of the wrong shape.
        url: the URL that was requested.

    Example:
        >>> import fwbatch_async as fw
        >>> issubclass(fw.InvalidResponseError, fw.APIStatusError)  # a 2xx of the wrong shape, not an error status
        False
    """

    def __init__(self, endpoint: str, problem: str, *, status: int = 200, transient: bool, url: str = "") -> None:
        super().__init__(problem)
        self.endpoint = endpoint
        self.problem = problem
        self.status = status
        self.transient = transient
        self.url = url

    def __str__(self) -> str:
        where = f" [{self.url}]" if self.url else ""
        return f"invalid {self.endpoint} response (HTTP {self.status}): {self.problem}{where}"


class JobError(FwBatchError):
    """A job did not end the way the caller waited for; :attr:`job` is the last state seen of it.

    Attributes:
        job: the job as last read (``None`` only if it was never read).
        job_id: the job's id.

    Example:
        >>> import fwbatch_async as fw
        >>> async def wait(client: fw.AsyncClient) -> None:
        ...     try:
        ...         await client.wait_for_job("my-job", timeout=3600)
        ...     except fw.JobError as error:  # failed, stalled or timed out
        ...         print(error.job_id, error.job.state.short_name if error.job else "never read")
    """

    def __init__(self, message: str, *, job_id: str, job: BatchInferenceJob | None) -> None:
        super().__init__(message)
        self.message = message
        self.job_id = job_id
        self.job = job


class JobFailedError(JobError):
    """The job finished without success: failed, expired, cancelled, or was deleted.

    The message includes the job's final state and its status message (the server's reason).

    Example:
        >>> import fwbatch_async as fw
        >>> async def outcome(client: fw.AsyncClient) -> str:
        ...     job = await client.wait_for_job("my-job", raise_on_failure=False)  # no JobFailedError: look yourself
        ...     return job.state.short_name  # COMPLETED, FAILED, EXPIRED, ...
    """


class JobStalledError(JobError):
    """The job kept running without progress for longer than the caller allowed ("state alone lies").

    Attributes:
        stalled_for: seconds since the job last made progress.

    Example:
        >>> import fwbatch_async as fw
        >>> async def wait(client: fw.AsyncClient) -> None:
        ...     try:
        ...         await client.wait_for_job("my-job", stall_after=900)
        ...     except fw.JobStalledError as error:
        ...         print("no progress for", error.stalled_for, "s")
    """

    def __init__(self, message: str, *, job_id: str, job: BatchInferenceJob | None, stalled_for: float) -> None:
        super().__init__(message, job_id=job_id, job=job)
        self.stalled_for = stalled_for


class WaitTimeoutError(JobError):
    """The job had not finished when the wait's timeout ran out; :attr:`job` is the last state seen.

    Attributes:
        timeout: the timeout, in seconds.

    Example:
        >>> import fwbatch_async as fw
        >>> error = fw.WaitTimeoutError("my-job not finished after 600 s", job_id="my-job", job=None, timeout=600.0)
        >>> isinstance(error, fw.JobError), error.timeout  # what wait_for_job(..., timeout=600) raises
        (True, 600.0)
    """

    def __init__(self, message: str, *, job_id: str, job: BatchInferenceJob | None, timeout: float) -> None:
        super().__init__(message, job_id=job_id, job=job)
        self.timeout = timeout


class PendingTimeoutError(WaitTimeoutError):
    """The job had not started running when the wait's ``pending_timeout`` ran out; :attr:`job` is the last read.

    Before RUNNING a job waits for validation, capacity and its deployment, which can take hours.

    Example:
        >>> import fwbatch_async as fw
        >>> async def run_or_give_up(client: fw.AsyncClient) -> None:
        ...     try:
        ...         await client.wait_for_job("my-job", pending_timeout=3600)
        ...     except fw.PendingTimeoutError as error:
        ...         print("no capacity within the hour:", error.job.waiting_on_capacity if error.job else "?")
    """


_STATUS_CLASSES: Final[Mapping[int, type[APIStatusError]]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The :class:`APIStatusError` subclass for an HTTP status."""
    if status >= 500:  # noqa: PLR2004
        return ServerError
    return _STATUS_CLASSES.get(status, APIStatusError)
