"""The typed models of the two endpoints: batch inference jobs, log entries and log pages.

Field names are snake_case; the wire uses camelCase (see :mod:`fwbatch_async._core.convert`). Every field is
optional on the wire; proto3 omits fields at their default, so absent numbers are ``0`` and absent strings ``""``,
while absent messages and timestamps are ``None``. Fields this client does not know are kept in ``extra``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, cast

import attrs
import msgspec

from .enums import BatchJobState, JobState, Precision
from .timestamps import Timestamp, times_ns, wire_timestamp

__all__ = [
    "BatchInferenceJob",
    "BatchJob",
    "InferenceParameters",
    "JobListPage",
    "JobProgress",
    "Lifecycle",
    "LogEntry",
    "LogPage",
    "Placement",
    "Status",
]

_JOB_COLLECTION = "batchInferenceJobs"
_BATCH_JOB_COLLECTION = "batchJobs"


def _extra() -> Any:
    """The ``extra`` field every model has: the server's fields this client does not know, JSON as received."""
    return attrs.field(factory=dict, kw_only=True, repr=False, hash=False)


@attrs.frozen
class Status:
    """A job's status: a ``google.rpc.Code`` name and a message (e.g. why it failed).

    Example:
        >>> import fwbatch_async as fw
        >>> fw.Status(code="INTERNAL", message="worker rank 1 exited with code 1").code
        'INTERNAL'
    """

    code: str = "OK"
    """The code's name, e.g. ``OK``, ``INTERNAL``, ``NOT_FOUND``."""
    message: str = ""
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class InferenceParameters:
    """Parameters of the inference a job runs; ``None`` where the server did not say.

    Example:
        >>> import fwbatch_async as fw
        >>> fw.InferenceParameters(max_tokens=512).temperature is None  # the server did not say
        True
    """

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    n: int | None = None
    extra_body: str | None = None
    top_k: int | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class JobProgress:
    """Counters of a job's progress. Integers may arrive as JSON numbers or decimal strings; both are accepted.

    Example:
        >>> import fwbatch_async as fw
        >>> progress = fw.JobProgress(percent=40, total_input_requests=1000, successfully_processed_requests=400)
        >>> f"{progress.successfully_processed_requests}/{progress.total_input_requests} ({progress.percent}%)"
        '400/1000 (40%)'
    """

    percent: int = 0
    epoch: int = 0
    total_input_requests: int = 0
    total_processed_requests: int = 0
    successfully_processed_requests: int = 0
    failed_requests: int = 0
    output_rows: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_token_count: int = 0
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class Lifecycle:
    """When a job passed the milestones of its life; ``None`` for those it has not reached.

    Example:
        >>> import fwbatch_async as fw
        >>> fw.Lifecycle(validated_time=fw.Timestamp.parse("2026-12-01T10:00:00Z")).run_start_time is None
        True
    """

    validated_time: Timestamp | None = None
    """Its input dataset was validated."""
    run_start_time: Timestamp | None = None
    """It started running (after waiting for capacity and its deployment)."""
    end_time: Timestamp | None = None
    """It finished."""
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class Placement:
    """Where a job may run.

    Example:
        >>> import fwbatch_async as fw
        >>> fw.Placement(region="US_IOWA_1").regions
        ()
    """

    region: str = ""
    multi_region: str = ""
    regions: tuple[str, ...] = ()
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class BatchInferenceJob:
    """A batch inference job, with every field Fireworks documents and any it adds later (in ``extra``).

    Example:
        >>> job = BatchInferenceJob(name="accounts/acme/batchInferenceJobs/nightly", state=JobState.RUNNING)
        >>> job.job_id, job.account_id, job.state.is_finished
        ('nightly', 'acme', False)
    """

    name: str = ""
    """The resource name, ``accounts/{account}/batchInferenceJobs/{id}``."""
    display_name: str = ""
    create_time: Timestamp | None = None
    created_by: str = ""
    """The email address of the user who created the job."""
    state: JobState = JobState.UNSPECIFIED
    status: Status | None = None
    model: str = ""
    input_dataset_id: str = ""
    output_dataset_id: str = ""
    inference_parameters: InferenceParameters | None = None
    update_time: Timestamp | None = None
    precision: Precision = Precision.UNSPECIFIED
    job_progress: JobProgress | None = None
    continued_from_job_name: str = ""
    expire_time: Timestamp | None = None
    """Sent by newer servers: when the job expires."""
    waiting_on_capacity: bool = False
    """Sent by newer servers: the job waits for serving capacity."""
    max_job_duration: str = ""
    """Sent by newer servers: a ``google.protobuf.Duration`` in its JSON form, e.g. ``"86400s"``."""
    lifecycle: Lifecycle | None = None
    """Sent by newer servers: when the job was validated, started running and ended."""
    placement: Placement | None = None
    """Sent by newer servers: the regions the job may run in."""
    system_prompt: str = ""
    """Sent by newer servers: a system prompt added to every request."""
    extra: Mapping[str, Any] = _extra()

    @property
    def requests_done(self) -> tuple[int, int]:
        """``(processed, total)`` requests, the total never below the processed count.

        Live servers echo the declared dataset size as the total, and processing can exceed it.

        Example:
            >>> from fwbatch_async import JobProgress
            >>> progress = JobProgress(total_input_requests=90, total_processed_requests=95)
            >>> BatchInferenceJob(job_progress=progress).requests_done
            (95, 95)
        """
        progress = self.job_progress
        if progress is None:
            return 0, 0
        processed = progress.total_processed_requests
        return processed, max(progress.total_input_requests, processed)

    @property
    def job_id(self) -> str:
        """The job's id, the last segment of :attr:`name` (empty if the server sent no name)."""
        return self._name_parts()[1]

    @property
    def account_id(self) -> str:
        """The account id inside :attr:`name` (empty if the server sent no name)."""
        return self._name_parts()[0]

    def _name_parts(self) -> tuple[str, str]:
        parts = self.name.split("/")
        if len(parts) == 4 and parts[0] == "accounts" and parts[2] == _JOB_COLLECTION:  # noqa: PLR2004
            return parts[1], parts[3]
        return "", parts[-1]


@attrs.frozen
class BatchJob:
    """The compute job on a cluster that runs a batch inference job's workers, and whose logs ``getLogs`` reads.

    How a batch inference job maps to its batch job is not published; this client reads a batch inference job's
    logs under the batch job of the same id.

    Example:
        >>> job = BatchJob(name="accounts/acme/clusters/c1/batchJobs/1234", state=BatchJobState.RUNNING, num_ranks=4)
        >>> job.batch_job_id, job.account_id, job.cluster_id, job.state.is_finished
        ('1234', 'acme', 'c1', False)
    """

    name: str = ""
    """The resource name, ``accounts/{account}/clusters/{cluster}/batchJobs/{id}``."""
    display_name: str = ""
    create_time: Timestamp | None = None
    state: BatchJobState = BatchJobState.UNSPECIFIED
    status: str = ""
    """A free-form status message."""
    num_ranks: int = 0
    """How many worker ranks the job runs (log entries carry a rank)."""
    start_time: Timestamp | None = None
    end_time: Timestamp | None = None
    update_time: Timestamp | None = None
    extra: Mapping[str, Any] = _extra()

    @property
    def batch_job_id(self) -> str:
        """The id, the last segment of :attr:`name`."""
        return self.name.rsplit("/", 1)[-1]

    @property
    def account_id(self) -> str:
        """The account id inside :attr:`name` (empty if the server sent none)."""
        parts = self.name.split("/")
        return parts[1] if len(parts) > 1 and parts[0] == "accounts" else ""

    @property
    def cluster_id(self) -> str:
        """The cluster id inside :attr:`name` (empty if the name has none)."""
        parts = self.name.split("/")
        return parts[3] if len(parts) == 6 and parts[2] == "clusters" else ""  # noqa: PLR2004


class LogEntry(msgspec.Struct, frozen=True, eq=False, gc=False, forbid_unknown_fields=True):
    """One line of a batch job's log.

    Entries carry no id: a line is identified by its time, rank and message, and identical lines at the same time
    are genuinely separate lines. Frozen, hashable, picklable and ordered: sorting entries sorts them by time, then
    rank, then message; equal instants are equal times whatever their text.

    A :class:`msgspec.Struct`, because a page can hold 10,000 of them: pages are decoded straight into entries by
    msgspec's compiled decoder, the garbage collector never tracks them (they hold no cycles), and an entry keeps
    its time as the server's text until :attr:`log_time` is first read.

    Example:
        >>> entry = LogEntry(Timestamp.parse("2026-11-22T04:00:00.000000001Z"), 3, "step 10")
        >>> entry.rank, entry.message, entry.log_time.ns % 1000
        (3, 'step 10', 1)
    """

    if TYPE_CHECKING:
        log_time: Timestamp
        """When the line was logged, to the nanosecond."""
    else:
        # What the decoder stores: the wire's text; the property installed below makes it a Timestamp when read.
        log_time: str = msgspec.field(name="logTime")
    rank: int = 0
    """The worker rank that wrote it."""
    message: str = ""
    """The text; may span several lines."""
    # No server key can be "@extra": the decoder never fills this field, the exact path (convert.py) does.
    extra: Mapping[str, Any] | None = msgspec.field(default=None, name="@extra")
    """Fields of the entry this client does not know, or ``None`` (the usual case)."""

    def _identity(self) -> tuple[Timestamp, int, str, Mapping[str, Any] | None]:
        return (self.log_time, self.rank, self.message, self.extra)

    def __eq__(self, other: object) -> bool:
        if type(other) is LogEntry:
            return self._identity() == other._identity()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._identity())

    def __lt__(self, other: LogEntry) -> bool:
        return self._identity() < other._identity()

    def __le__(self, other: LogEntry) -> bool:
        return self._identity() <= other._identity()

    def __gt__(self, other: LogEntry) -> bool:
        return self._identity() > other._identity()

    def __ge__(self, other: LogEntry) -> bool:
        return self._identity() >= other._identity()

    def __repr__(self) -> str:
        return (
            f"LogEntry(log_time={self.log_time!r}, rank={self.rank!r}, message={self.message!r}, extra={self.extra!r})"
        )


# The struct's own slot: the wire's text until the time is first read, then the Timestamp made from it.
_stored_time: Final = LogEntry.__dict__["log_time"]


def _log_time(entry: LogEntry, get: Any = _stored_time.__get__, put: Any = _stored_time.__set__) -> Timestamp:
    value = get(entry)
    if type(value) is str:
        value = wire_timestamp(value)
        put(entry, value)  # kept: the nanoseconds are parsed once
    return cast("Timestamp", value)


_log_time.__doc__ = "When the line was logged, to the nanosecond."
type.__setattr__(LogEntry, "log_time", property(_log_time))


def entry_times_ns(entries: Iterable[LogEntry]) -> list[int]:
    """Each entry's time in nanoseconds, read without making a :class:`Timestamp` of it (a follower's hot loop)."""
    return times_ns(map(_stored_time.__get__, entries))


@attrs.frozen
class LogPage:
    """One page of a batch job's log, in the order the server sent it, and the token of the next page.

    Example:
        >>> import fwbatch_async as fw
        >>> entry = fw.LogEntry(log_time=fw.Timestamp.parse("2026-01-02T03:04:05.123456789Z"), rank=0, message="hi")
        >>> page = fw.LogPage(entries=(entry,), next_page_token=None)
        >>> [e.message for e in reversed(page.entries)], page.next_page_token  # newest first by default
        (['hi'], None)
    """

    entries: tuple[LogEntry, ...] = ()
    next_page_token: str | None = None
    """``None`` when the server said there is no further page (an empty token counts as none)."""
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class JobListPage:
    """One page of a job listing.

    Example:
        >>> import fwbatch_async as fw
        >>> fw.JobListPage().jobs  # list_batch_inference_jobs() pages through these for you
        ()
    """

    jobs: tuple[BatchInferenceJob, ...] = ()
    next_page_token: str | None = None
    total_size: int = 0
    extra: Mapping[str, Any] = _extra()
