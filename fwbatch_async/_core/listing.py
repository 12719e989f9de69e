"""Many running jobs' states from one listing, when that costs fewer requests than reading each job; no I/O.

A stream of many jobs reads each running job about every 3 s (its progress moves). One listing of the account's
RUNNING jobs (``filter state = "JOB_STATE_RUNNING"``, 200 a page) answers for all of them in a page or a few. So
once the running jobs a stream watches outnumber twice the pages a listing takes (and at least ``MIN_COVERED``),
the listing *covers* them: their own reads stop, and each listing feeds their watches as their own answers would.
A job not read yet is covered too (it may be running): a stream of many jobs that run learns their states from a
few pages instead of a first read each.

A covered job missing from a whole listing has left RUNNING (finished, or anything else): it leaves the cover and
its own watch reads it at once, so its end, and its log's drain, are seen as soon as without the listing. A listing
the server refuses with an error retrying cannot fix (a filter the real service does not take) turns listing off
for the stream, and every job is read on its own again, as before.

The driver asks :meth:`StateLister.next_request` and feeds the answers back, as with the other machines; it decides
which jobs are covered (:meth:`~StateLister.cover`, :meth:`~StateLister.uncover`) and holds the lister while
:attr:`~StateLister.worth_it` is false.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from .actions import Action, Wait
from .enums import JobState
from .errors import FwBatchError
from .models import BatchInferenceJob, JobListPage
from .polling import DEADLINE_SLACK
from .requests import JobListQuery, Request, job_list_query
from .retry import RetryPolicy

__all__ = ["LIST_PAGE_SIZE", "LIST_PERIOD", "MIN_COVERED", "RUNNING_FILTER", "StateLister"]

RUNNING_FILTER: Final = 'state = "JOB_STATE_RUNNING"'
LIST_PAGE_SIZE: Final = 200
"""The most jobs a page of a listing holds (the service's maximum)."""
LIST_PERIOD: Final = 3.0
"""Seconds between listings: as often as a stream reads a running job on its own (``FANOUT_WATCH``)."""
MIN_COVERED: Final = 4
"""A listing covers no fewer jobs: for one or two, their own reads are as cheap and need no second path."""
LIST_WEIGHT: Final = 8.0  # a page answers for up to 200 jobs: it weighs as a first read does, per 200 jobs covered


class StateLister:
    """The listing of one stream's running jobs; see the module documentation.

    Args:
        account_id: the account listed (the client's).
        read_mask: the fields a watch reads, or ``None`` for all.
        retry: which failures are waited out, and how long (a patient policy); any other refuses listing.
        random: uniform numbers in [0, 1) for jitter.
        period: seconds between listings.

    Example:
        >>> from fwbatch_async._core.models import JobListPage
        >>> from fwbatch_async._core.retry import RetryPolicy
        >>> lister = StateLister("acct", None, retry=RetryPolicy().patient(), random=lambda: 0.5)
        >>> for job_id in ("a", "b", "c", "d"):
        ...     lister.cover(job_id)
        >>> lister.worth_it, lister.next_request(0.0).query
        (True, 'pageSize=200&filter=state%20%3D%20%22JOB_STATE_RUNNING%22')
        >>> listed, gone = lister.on_page(JobListPage(), now=0.2)  # none of them runs any more
        >>> listed, sorted(gone), lister.covered
        ([], ['a', 'b', 'c', 'd'], frozenset())
    """

    def __init__(
        self,
        account_id: str,
        read_mask: str | None,
        *,
        retry: RetryPolicy,
        random: Callable[[], float],
        period: float = LIST_PERIOD,
    ) -> None:
        self._names = f"accounts/{account_id}/batchInferenceJobs/"
        self._query: JobListQuery = job_list_query(
            account_id, page_size=LIST_PAGE_SIZE, filter=RUNNING_FILTER, read_mask=read_mask
        )
        self._retry = retry
        self._random = random
        self._period = period
        self._covered: set[str] = set()
        self._pages = 1  # pages the last whole listing took
        self._token: str | None = None  # the next page's, within a listing
        self._listing: set[str] | None = None  # the jobs covered when the listing under way began
        self._seen: set[str] = set()  # running jobs the listing under way has shown
        self._pages_now = 0
        self._due = float("-inf")
        self._sent = False
        self._failures = 0
        self.refused: FwBatchError | None = None
        """The error that turned listing off for good, if one did."""

    @property
    def weight(self) -> float:
        """How much the next page matters: as a first read for every page's worth of jobs it answers for."""
        return LIST_WEIGHT * max(1.0, len(self._covered) / LIST_PAGE_SIZE)

    @property
    def covered(self) -> frozenset[str]:
        """The jobs (short ids) whose state the listing reads."""
        return frozenset(self._covered)

    @property
    def worth_it(self) -> bool:
        """Whether listing costs fewer requests than reading the covered jobs one by one."""
        return self.refused is None and len(self._covered) >= max(MIN_COVERED, 2 * self._pages)

    def can_cover(self, job: BatchInferenceJob) -> bool:
        """Whether a listing shows ``job`` as read now: RUNNING, in the account listed."""
        return job.state is JobState.RUNNING and job.name == self._names + job.job_id

    def covers(self, job_id: str) -> bool:
        """Whether the listing reads ``job_id`` (a short id)."""
        return job_id in self._covered

    def cover(self, job_id: str) -> None:
        """Read ``job_id`` (a running job of the account) from the listing."""
        self._covered.add(job_id)

    def uncover(self, job_id: str) -> None:
        """Stop reading ``job_id`` from the listing (nothing happens if it is not covered)."""
        self._covered.discard(job_id)

    def wake(self, now: float) -> float:
        """When the next listing (or its next page) is due; the driver holds the lister while it is not worth it."""
        return self._due

    def next_request(self, now: float) -> Action:
        """The next page to read, or a wait until the next listing.

        Raises:
            RuntimeError: a request is out and has not been answered.
        """
        if self._sent:
            raise RuntimeError("a request is out: answer it with on_page() or on_failure() first")
        if now < self._due - DEADLINE_SLACK:
            return Wait(self._due)
        if self._listing is None:
            self._listing, self._seen, self._pages_now = set(self._covered), set(), 0
        self._sent = True
        request: Request = self._query.request(self._token)
        return request

    def on_page(self, page: JobListPage, now: float) -> tuple[list[BatchInferenceJob], set[str]]:
        """A page of the listing: the covered jobs on it, and once the listing is whole, the covered jobs it missed.

        The missed ones have left RUNNING: the caller uncovers them and reads them on their own.
        """
        self._answered()
        self._failures = 0
        self._pages_now += 1
        self._seen.update(job.job_id for job in page.jobs)
        listed = [job for job in page.jobs if job.job_id in self._covered]
        token = page.next_page_token
        if token is not None and token != self._token:  # a token that comes back unchanged would page forever
            self._token, self._due = token, now
            return listed, set()
        missed = ((self._listing or set()) & self._covered) - self._seen
        self._covered -= missed
        self._pages, self._token, self._listing, self._seen = self._pages_now, None, None, set()
        self._due = now + self._period
        return listed, missed

    def on_failure(self, error: FwBatchError, now: float) -> None:
        """The page out failed: wait it out, or turn listing off (:attr:`refused`) if retrying cannot fix it."""
        self._answered()
        self._failures += 1
        delay = self._retry.delay_after(error, attempt=self._failures, elapsed=0.0, random=self._random())
        if delay is None:
            self.refused = error
            self._covered.clear()
            return
        self._due = now + delay

    def _answered(self) -> None:
        if not self._sent:
            raise RuntimeError("no request is out")
        self._sent = False
