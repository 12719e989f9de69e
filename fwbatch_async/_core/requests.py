"""Building requests: resource names, ids, paths and query strings, validated before anything is sent.

Every function here raises ``ValueError`` (or ``TypeError`` for a wrong type) naming the bad argument; nothing
reaches the network with an argument that could change which resource is addressed (``/``, ``..``, ``?``, ``#``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Final
from urllib.parse import quote

import attrs

from .errors import ArgumentError
from .timestamps import Timestamp

__all__ = [
    "MAX_JOB_LIST_PAGE_SIZE",
    "MAX_LOG_PAGE_SIZE",
    "JobListQuery",
    "JobRef",
    "LogQuery",
    "Request",
    "batch_job_request",
    "check_account_id",
    "check_page_size",
    "check_ranks",
    "check_read_mask",
    "job_list_query",
    "job_list_request",
    "job_request",
    "log_query",
    "resolve_job",
    "to_timestamp",
]

MAX_LOG_PAGE_SIZE: Final = 10_000
"""The largest ``pageSize`` getLogs serves; larger values are refused here rather than silently coerced."""
MAX_JOB_LIST_PAGE_SIZE: Final = 200
MAX_ID_LENGTH: Final = 256

_JOBS: Final = "batchInferenceJobs"
_BATCH_JOBS: Final = "batchJobs"
# Whitespace, control characters and the characters that would change a URL's structure.
_FORBIDDEN_IN_ID: Final = re.compile(r"[\s\x00-\x1f\x7f-\x9f/?#%\\]")


@attrs.frozen
class Request:
    """A GET request, ready to send: the endpoint's name (for errors), the encoded path and query."""

    endpoint: str
    path: str
    query: str = ""

    @property
    def target(self) -> str:
        """The path and query, percent-encoded, to append to the base URL."""
        return f"{self.path}?{self.query}" if self.query else self.path


@attrs.frozen
class JobRef:
    """A job addressed by account and id, both validated, and the cluster a batch job's full name gave."""

    account_id: str
    job_id: str
    cluster_id: str | None = None


def _check_id(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if not value:
        raise ArgumentError(f"{what} must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise ArgumentError(f"{what} is {len(value)} characters long; ids are at most {MAX_ID_LENGTH}")
    if value in {".", ".."}:
        raise ArgumentError(f"{what} {value!r} is not an id")
    bad = _FORBIDDEN_IN_ID.search(value)
    if bad:
        raise ArgumentError(f"{what} {value[:80]!r} contains {bad.group()!r}, which no id may contain")
    return value


def check_account_id(account_id: object) -> str:
    """Validate an account id as :func:`resolve_job` validates ids."""
    return _check_id(account_id, "account_id")


def resolve_job(job: object, account_id: str | None, *, what: str, collections: tuple[str, ...]) -> JobRef:
    """Accept a bare id (with the client's account) or a full resource name ``accounts/{a}/{collection}/{id}``.

    A batch job's own name, ``accounts/{a}/clusters/{c}/batchJobs/{id}``, is accepted where batch jobs are.

    Args:
        job: the id or resource name the caller passed.
        account_id: the client's default account, used for bare ids.
        what: the argument's name, for error messages.
        collections: the resource collections a full name may use.
    """
    if isinstance(job, str) and job.startswith("accounts/"):
        parts = job.split("/")
        if len(parts) == 4 and parts[2] in collections:  # noqa: PLR2004
            return JobRef(_check_id(parts[1], f"account id in {what}"), _check_id(parts[3], what))
        if len(parts) == 6 and parts[2] == "clusters" and parts[4] == _BATCH_JOBS in collections:  # noqa: PLR2004
            account, cluster = _check_id(parts[1], f"account id in {what}"), _check_id(parts[3], f"cluster in {what}")
            return JobRef(account, _check_id(parts[5], what), cluster)
        shapes = [f"accounts/{{account}}/{c}/{{id}}" for c in collections]
        if _BATCH_JOBS in collections:
            shapes.append(f"accounts/{{account}}/clusters/{{cluster}}/{_BATCH_JOBS}/{{id}}")
        raise ArgumentError(f"{what} {job[:120]!r} is not a resource name of the form {' or '.join(shapes)}")
    job_id = _check_id(job, what)
    if account_id is None:
        raise ArgumentError(
            f"{what} {job_id!r} is a bare id but no account is known: pass account_id= to the client, "
            "set FIREWORKS_ACCOUNT_ID, or pass the full name accounts/{account}/..."
        )
    return JobRef(check_account_id(account_id), job_id)


def _segment(value: str) -> str:
    return quote(value, safe="")


def _job_path(ref: JobRef, collection: str) -> str:
    return f"/v1/accounts/{_segment(ref.account_id)}/{collection}/{_segment(ref.job_id)}"


def check_read_mask(read_mask: str | Iterable[str] | None) -> str | None:
    """A read mask as the wire's comma-separated paths (``None``: every field), checked."""
    if read_mask is None:
        return None
    paths: list[object] = [read_mask] if isinstance(read_mask, str) else list(read_mask)
    for path in paths:
        if not isinstance(path, str) or not path.strip():
            raise ArgumentError(f"read_mask paths must be non-empty strings, got {path!r}")
    return ",".join(str(path).strip() for path in paths)


def _read_mask(read_mask: str | Iterable[str] | None) -> list[tuple[str, str]]:
    mask = check_read_mask(read_mask)
    return [] if mask is None else [("readMask", mask)]


def _encode(params: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{name}={quote(value, safe='')}" for name, value in params)


def check_page_size(page_size: int | None, limit: int) -> int | None:
    """A page size from 1 to ``limit`` (``None``: the server's default), checked."""
    if page_size is None:
        return None
    if type(page_size) is not int:
        raise TypeError(f"page_size must be an int, not {type(page_size).__name__}")
    if not 1 <= page_size <= limit:
        raise ArgumentError(f"page_size must be between 1 and {limit}, got {page_size}")
    return page_size


def _page_size(page_size: int | None, limit: int) -> list[tuple[str, str]]:
    size = check_page_size(page_size, limit)
    return [] if size is None else [("pageSize", str(size))]


def to_timestamp(value: Timestamp | datetime | str, what: str) -> Timestamp:
    """A :class:`Timestamp` from a timestamp, an aware datetime or RFC 3339 text; naive datetimes are refused."""
    if isinstance(value, Timestamp):
        return value
    if isinstance(value, datetime):
        try:
            return Timestamp.from_datetime(value)
        except ValueError as error:
            raise ArgumentError(f"{what}: {error}") from None
    if isinstance(value, str):
        try:
            return Timestamp.parse(value)
        except ValueError as error:
            raise ArgumentError(f"{what}: {error}") from None
    raise TypeError(f"{what} must be a Timestamp, an aware datetime or RFC 3339 text, not {type(value).__name__}")


def job_request(job: str, account_id: str | None, *, read_mask: str | Iterable[str] | None = None) -> Request:
    """``GET /v1/accounts/{a}/batchInferenceJobs/{id}``."""
    ref = resolve_job(job, account_id, what="job_id", collections=(_JOBS,))
    return Request("getBatchInferenceJob", _job_path(ref, _JOBS), _encode(_read_mask(read_mask)))


def batch_job_request(
    batch_job: str, account_id: str | None, *, read_mask: str | Iterable[str] | None = None
) -> Request:
    """``GET /v1/accounts/{a}/batchJobs/{id}``, or the batch job's own name when given with its cluster.

    A batch inference job's name is accepted for the batch job of the same id.
    """
    ref = resolve_job(batch_job, account_id, what="batch_job_id", collections=(_BATCH_JOBS, _JOBS))
    path = _job_path(ref, _BATCH_JOBS)
    if ref.cluster_id is not None:
        cluster = f"/v1/accounts/{_segment(ref.account_id)}/clusters/{_segment(ref.cluster_id)}"
        path = f"{cluster}/{_BATCH_JOBS}/{_segment(ref.job_id)}"
    return Request("getBatchJob", path, _encode(_read_mask(read_mask)))


@attrs.frozen
class JobListQuery:
    """A listing of an account's jobs, checked and encoded once; only the page token varies."""

    path: str
    size: str
    """The encoded page size, if any: it comes first, before the token."""
    rest: str
    """The other encoded parameters (filter, order, read mask)."""

    def request(self, page_token: str | None = None) -> Request:
        """The request for the first page (no token) or a following one."""
        token = f"pageToken={quote(page_token, safe='')}" if page_token else ""
        return Request("listBatchInferenceJobs", self.path, "&".join(p for p in (self.size, token, self.rest) if p))


def job_list_query(
    account_id: str | None,
    *,
    page_size: int | None = None,
    filter: str | None = None,  # noqa: A002 - the wire's name
    order_by: str | None = None,
    read_mask: str | Iterable[str] | None = None,
) -> JobListQuery:
    """``GET /v1/accounts/{a}/batchInferenceJobs``, every page."""
    if account_id is None:
        raise ArgumentError("listing jobs needs an account: pass account_id= to the client or set FIREWORKS_ACCOUNT_ID")
    size = _encode(_page_size(page_size, MAX_JOB_LIST_PAGE_SIZE))
    params: list[tuple[str, str]] = []
    if filter is not None:
        params.append(("filter", filter))
    if order_by is not None:
        params.append(("orderBy", order_by))
    params += _read_mask(read_mask)
    return JobListQuery(f"/v1/accounts/{_segment(check_account_id(account_id))}/{_JOBS}", size, _encode(params))


def job_list_request(
    account_id: str | None,
    *,
    page_size: int | None = None,
    page_token: str | None = None,
    filter: str | None = None,  # noqa: A002 - the wire's name
    order_by: str | None = None,
    read_mask: str | Iterable[str] | None = None,
) -> Request:
    """``GET /v1/accounts/{a}/batchInferenceJobs``, one page."""
    query = job_list_query(account_id, page_size=page_size, filter=filter, order_by=order_by, read_mask=read_mask)
    return query.request(page_token)


@attrs.frozen
class LogQuery:
    """The fixed part of a getLogs read, validated and encoded once.

    While a read follows page tokens, every other parameter must stay exactly as it was (the server rejects a
    token sent with changed parameters), so the query is frozen and only the token varies.
    """

    path: str
    fixed: str
    """The encoded parameters that never change during a read (ranks, pageSize, filter, direction, readMask)."""
    selection: str
    """What decides which entries the query returns (job, ranks, filter), to tell queries apart."""
    start_time: Timestamp | None = None

    def with_start(self, start_time: Timestamp | None) -> LogQuery:
        """The same query from another lower bound (a new read, so no page token carries over)."""
        return attrs.evolve(self, start_time=start_time)

    def request(self, page_token: str | None = None) -> Request:
        """The request for the first page (no token) or a following one."""
        parts = [self.fixed] if self.fixed else []
        if self.start_time is not None:
            # Nine digits always: a rounded startTime would skip or repeat entries (design §3.2).
            parts.append(f"startTime={quote(self.start_time.rfc3339(), safe='')}")
        if page_token:
            parts.append(f"pageToken={quote(page_token, safe='')}")
        return Request("getBatchJobLogs", self.path, "&".join(parts))


def check_ranks(ranks: Iterable[int] | None) -> tuple[int, ...] | None:
    """Worker ranks (``None``: every rank), checked."""
    if ranks is None:
        return None
    if isinstance(ranks, (str, bytes)):
        raise TypeError("ranks must be an iterable of ints, not a string")
    values = tuple(ranks)
    if not values:
        raise ArgumentError("ranks must not be empty; pass None for every rank")
    for rank in values:
        if type(rank) is not int:
            raise TypeError(f"ranks must be ints, got {rank!r}")
        if not 0 <= rank <= 2**31 - 1:
            raise ArgumentError(f"ranks must be between 0 and 2**31-1, got {rank}")
    return values


def _ranks(ranks: Iterable[int] | None) -> list[tuple[str, str]]:
    # Repeated parameters, exploded: ranks=0&ranks=3 (the documented form).
    return [("ranks", str(rank)) for rank in check_ranks(ranks) or ()]


def log_query(
    batch_job: str,
    account_id: str | None,
    *,
    ranks: Iterable[int] | None = None,
    page_size: int | None = None,
    start_time: Timestamp | datetime | str | None = None,
    filter: str | None = None,  # noqa: A002 - the wire's name
    start_from_head: bool = False,
    read_mask: str | Iterable[str] | None = None,
) -> LogQuery:
    """A validated getLogs query; a batch inference job's name is accepted for the batch job (same id).

    A batch job's own name (with its cluster) reads the documented path, ``accounts/{a}/batchJobs/{id}:getLogs``:
    the one getLogs is published under.
    """
    ref = resolve_job(batch_job, account_id, what="batch_job_id", collections=(_BATCH_JOBS, _JOBS))
    selecting = _ranks(ranks)
    if filter is not None:
        if not isinstance(filter, str):
            raise TypeError(f"filter must be a str, not {type(filter).__name__}")
        selecting.append(("filter", filter))
    params = selecting + _page_size(page_size, MAX_LOG_PAGE_SIZE)
    if type(start_from_head) is not bool:
        raise TypeError(f"start_from_head must be a bool, not {type(start_from_head).__name__}")
    if start_from_head:
        params.append(("startFromHead", "true"))
    params += _read_mask(read_mask)
    start = None if start_time is None else to_timestamp(start_time, "start_time")
    path = f"{_job_path(ref, _BATCH_JOBS)}:getLogs"
    return LogQuery(path, _encode(params), f"{path}?{_encode(selecting)}", start)
