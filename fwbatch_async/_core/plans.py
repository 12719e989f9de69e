"""Plans: checked, immutable recipes for the machines of a follow or a watch, one per job they are used for.

The client checks a method's arguments into a plan when the method is called (so a bad argument raises before
anything is sent), and a plan makes the machine for each job: for one call, or for every job a fan-out follows,
those added while it runs included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import attrs

from .cursor import message_digest
from .errors import ArgumentError
from .following import FollowMachine, FollowSettings, FollowStart, tail_page_size
from .jobs import NEWER_WATCH_FIELDS
from .listing import StateLister
from .polling import PollPolicy
from .requests import MAX_LOG_PAGE_SIZE, Request, check_read_mask, job_request
from .retry import RetryPolicy
from .selection import LogSelection
from .watching import WatchMachine, WatchSettings
from .window import WindowSettings

__all__ = ["FollowPlan", "WatchPlan", "check_seconds"]


def check_seconds(name: str, value: object) -> None:
    """Refuse a duration (or a rate) that is not a positive finite number (NaN, inf, 0, negative, a string, a bool)."""
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf")
    ):
        raise ArgumentError(f"{name} must be a positive number, got {value!r}")


@attrs.frozen(kw_only=True)
class FollowPlan:
    """How to follow a batch job's log: which lines, from where, with which settings."""

    account_id: str | None
    selection: LogSelection
    start: FollowStart
    settings: FollowSettings

    @classmethod
    def create(
        cls,
        account_id: str | None,
        lines: Mapping[str, object],
        *,
        start: FollowStart,
        page_size: int,
        lookback: float,
        max_window: int,
        poll: PollPolicy,
        retry: RetryPolicy,
    ) -> FollowPlan:
        """A plan from a follow's arguments (``lines`` holds its line filters); ``retry`` is made patient.

        Raises:
            ValueError: an argument out of range.
            TypeError: an argument of the wrong type, or an unknown line filter.
        """
        if type(page_size) is not int or not 1 <= page_size <= MAX_LOG_PAGE_SIZE:
            raise ArgumentError(f"page_size must be between 1 and {MAX_LOG_PAGE_SIZE}, got {page_size!r}")
        try:
            window = WindowSettings(lookback=lookback, audit=lookback, max_window=max_window)
        except ValueError as error:  # attrs' validators: the argument is the user's
            raise ArgumentError(str(error)) from None
        return cls(
            account_id=account_id,
            selection=LogSelection.create(lines, page_size=page_size),
            start=start,
            settings=FollowSettings(window=window, poll=poll, retry=retry.patient(), page_size=page_size),
        )

    def machine(self, batch_job_id: str, random: Callable[[], float]) -> FollowMachine:
        """The follow machine for ``batch_job_id``.

        Raises:
            ValueError: the id is malformed, or the start's cursor was taken from another job, ranks or filter.
        """
        forward = self.selection.query(batch_job_id, self.account_id)
        fingerprint = message_digest(forward.selection)
        cursor = self.start.cursor
        if cursor is not None and cursor.query != fingerprint:
            raise ArgumentError("cursor was taken from a follow of another job, ranks or filter")
        backward = attrs.evolve(self.selection, forward=False, page_size=tail_page_size(self.start.last))
        return FollowMachine(
            forward=forward,
            backward=backward.query(batch_job_id, self.account_id),
            start=self.start,
            settings=self.settings,
            fingerprint=fingerprint,
            random=random,
        )


@attrs.frozen(kw_only=True)
class WatchPlan:
    """How to watch a job: the fields read each time, the settings, and whether to read it whole at the end."""

    account_id: str | None
    read_mask: str | None
    settings: WatchSettings
    final_read: bool = False

    @classmethod
    def create(
        cls,
        account_id: str | None,
        read_mask: str | Iterable[str] | None,
        *,
        poll: PollPolicy,
        retry: RetryPolicy,
        stall_after: float | None = None,
        raise_on_stall: bool = True,
        timeout: float | None = None,
        pending_timeout: float | None = None,
        final_read: bool = False,
    ) -> WatchPlan:
        """A plan from a watch's arguments; ``retry`` is made patient.

        Raises:
            ValueError: a read mask path is empty, or ``stall_after``/``timeout``/``pending_timeout`` is not
                positive seconds.
        """
        check_seconds("stall_after", stall_after)
        check_seconds("timeout", timeout)
        check_seconds("pending_timeout", pending_timeout)
        mask = check_read_mask(read_mask)
        settings = WatchSettings(
            poll=poll,
            retry=retry.patient(),
            stall_after=stall_after,
            raise_on_stall=raise_on_stall,
            timeout=timeout,
            pending_timeout=pending_timeout,
        )
        return cls(account_id=account_id, read_mask=mask, settings=settings, final_read=final_read)

    def request(self, job_id: str) -> Request:
        """The read of ``job_id`` a watch makes each time.

        Raises:
            ValueError: the id is malformed, or a bare id with no account known.
        """
        return job_request(job_id, self.account_id, read_mask=self.read_mask)

    def lister(self, random: Callable[[], float]) -> StateLister | None:
        """The listing that reads many running jobs of the account at once, or ``None`` with no account known."""
        if self.account_id is None:
            return None
        return StateLister(self.account_id, self.read_mask, retry=self.settings.retry, random=random)

    def machine(self, job_id: str, random: Callable[[], float]) -> WatchMachine:
        """The watch machine for ``job_id`` (see :meth:`request` for what it raises)."""
        final = job_request(job_id, self.account_id) if self.final_read else None
        return WatchMachine(
            job_id=job_id,
            request=self.request(job_id),
            settings=self.settings,
            random=random,
            final=final,
            older=self._older_request(job_id),
        )

    def _older_request(self, job_id: str) -> Request | None:
        """The read without the fields only newer servers know, if the read mask names any."""
        if self.read_mask is None:
            return None
        paths = self.read_mask.split(",")
        kept = [path for path in paths if path not in NEWER_WATCH_FIELDS]
        return job_request(job_id, self.account_id, read_mask=kept) if len(kept) < len(paths) else None
