"""Enumerations of the wire that keep values they do not know.

The Fireworks job-state enum has grown from 14 to 20+ values and will keep growing. A value the client has never
seen must not crash it: it becomes a member-like instance of the enum whose ``value`` is the raw string, which is
``is_known == False`` and, for :class:`JobState`, counts as active (not finished).
"""

from __future__ import annotations

import enum
from typing import Self

__all__ = ["BatchJobState", "JobState", "Precision", "StateCategory"]


class _OpenEnum(enum.StrEnum):
    """A ``StrEnum`` that turns an unknown non-empty string into an unregistered instance instead of failing."""

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if not isinstance(value, str) or not value:
            return None
        unknown = str.__new__(cls, value)
        unknown._name_ = value
        unknown._value_ = value
        return unknown

    @property
    def is_known(self) -> bool:
        """Whether this value is one this version of the client knows."""
        return self._name_ in type(self).__members__

    def __repr__(self) -> str:
        return f"<{type(self).__name__}.{self._name_}: {self._value_!r}>"


class StateCategory(enum.Enum):
    """What a :class:`JobState` means for someone waiting on the job (fireworks-api.md §2).

    Example:
        >>> import fwbatch_async as fw
        >>> fw.JobState.EXPIRED.category is fw.StateCategory.PARTIAL
        True
    """

    SUCCESS = "success"
    """Finished, and every request was processed."""
    PARTIAL = "partial"
    """Finished by expiring; results of the requests completed so far are saved."""
    FAILURE = "failure"
    """Finished, failed."""
    CANCELLED = "cancelled"
    """Finished, stopped on request."""
    GONE = "gone"
    """Deleted, archived or being deleted: nothing more will happen to it."""
    ENDING = "ending"
    """On the way out (writing results, cancelling): not finished yet."""
    PAUSED = "paused"
    """Stopped until a person acts (typically an account suspension): not finished."""
    ACTIVE = "active"
    """Everything else, including any state this client does not know."""

    @property
    def is_finished(self) -> bool:
        """Whether a job in this category will not change any more."""
        return self in _FINISHED_CATEGORIES


_FINISHED_CATEGORIES = frozenset(
    {
        StateCategory.SUCCESS,
        StateCategory.PARTIAL,
        StateCategory.FAILURE,
        StateCategory.CANCELLED,
        StateCategory.GONE,
    }
)


class JobState(_OpenEnum):
    """The state of a batch inference job; every value Fireworks has published, and any it adds later.

    Example:
        >>> JobState("JOB_STATE_COMPLETED").is_success
        True
        >>> future = JobState("JOB_STATE_WARMING_UP")
        >>> future.is_known, future.is_finished, future.value
        (False, False, 'JOB_STATE_WARMING_UP')
    """

    UNSPECIFIED = "JOB_STATE_UNSPECIFIED"
    CREATING = "JOB_STATE_CREATING"
    RUNNING = "JOB_STATE_RUNNING"
    COMPLETED = "JOB_STATE_COMPLETED"
    FAILED = "JOB_STATE_FAILED"
    CANCELLED = "JOB_STATE_CANCELLED"
    DELETING = "JOB_STATE_DELETING"
    WRITING_RESULTS = "JOB_STATE_WRITING_RESULTS"
    VALIDATING = "JOB_STATE_VALIDATING"
    DELETING_CLEANING_UP = "JOB_STATE_DELETING_CLEANING_UP"
    PENDING = "JOB_STATE_PENDING"
    EXPIRED = "JOB_STATE_EXPIRED"
    RE_QUEUEING = "JOB_STATE_RE_QUEUEING"
    CREATING_INPUT_DATASET = "JOB_STATE_CREATING_INPUT_DATASET"
    IDLE = "JOB_STATE_IDLE"
    CANCELLING = "JOB_STATE_CANCELLING"
    EARLY_STOPPED = "JOB_STATE_EARLY_STOPPED"
    PAUSED = "JOB_STATE_PAUSED"
    DELETED = "JOB_STATE_DELETED"
    ARCHIVED = "JOB_STATE_ARCHIVED"
    # Values of older protos, still accepted.
    ROLLOUT = "JOB_STATE_ROLLOUT"
    EVALUATION = "JOB_STATE_EVALUATION"
    FAILED_CLEANING_UP = "JOB_STATE_FAILED_CLEANING_UP"
    POLICY_UPDATE = "JOB_STATE_POLICY_UPDATE"
    EXPIRED_CLEANING_UP = "JOB_STATE_EXPIRED_CLEANING_UP"
    CREATING_DEPENDENCIES = "JOB_STATE_CREATING_DEPENDENCIES"

    @property
    def short_name(self) -> str:
        """The value without its ``JOB_STATE_`` prefix, e.g. ``RUNNING``."""
        return self._value_.removeprefix("JOB_STATE_")

    @property
    def category(self) -> StateCategory:
        """What this state means for someone waiting on the job; unknown states are ``ACTIVE``."""
        return _CATEGORIES.get(self._value_, StateCategory.ACTIVE)

    @property
    def is_finished(self) -> bool:
        """The job will not change any more: success, partial, failure, cancelled or gone."""
        return self.category.is_finished

    @property
    def is_success(self) -> bool:
        """The job completed."""
        return self.category is StateCategory.SUCCESS

    @property
    def is_partial(self) -> bool:
        """The job expired; the results of completed requests are saved."""
        return self.category is StateCategory.PARTIAL

    @property
    def is_failure(self) -> bool:
        """The job failed."""
        return self.category is StateCategory.FAILURE

    @property
    def is_cancelled(self) -> bool:
        """The job was cancelled or stopped early."""
        return self.category is StateCategory.CANCELLED

    @property
    def is_gone(self) -> bool:
        """The job was deleted or archived, or is being deleted."""
        return self.category is StateCategory.GONE

    @property
    def is_ending(self) -> bool:
        """The job is on its way out (writing results, cancelling) but not finished."""
        return self.category is StateCategory.ENDING

    @property
    def is_paused(self) -> bool:
        """The job is paused and needs a person (typically an account suspension)."""
        return self.category is StateCategory.PAUSED

    @property
    def is_active(self) -> bool:
        """The job is neither finished, ending nor paused; unknown states are active."""
        return self.category is StateCategory.ACTIVE

    @classmethod
    def from_name(cls, name: str) -> JobState:
        """Look up a state by value or short name, case-insensitively: ``running`` -> ``JOB_STATE_RUNNING``.

        Raises:
            ValueError: no known state has that name.
        """
        key = name.strip().upper()
        for candidate in (key, f"JOB_STATE_{key}"):
            if candidate in cls._value2member_map_:
                return cls(candidate)
        known = ", ".join(member.short_name.lower() for member in cls)
        raise ValueError(f"unknown job state {name!r}; known states: {known}")


_CATEGORIES: dict[str, StateCategory] = {
    JobState.COMPLETED: StateCategory.SUCCESS,
    JobState.EXPIRED: StateCategory.PARTIAL,
    JobState.FAILED: StateCategory.FAILURE,
    JobState.FAILED_CLEANING_UP: StateCategory.FAILURE,
    JobState.EXPIRED_CLEANING_UP: StateCategory.FAILURE,
    JobState.CANCELLED: StateCategory.CANCELLED,
    JobState.EARLY_STOPPED: StateCategory.CANCELLED,
    JobState.DELETED: StateCategory.GONE,
    JobState.ARCHIVED: StateCategory.GONE,
    JobState.DELETING: StateCategory.GONE,
    JobState.DELETING_CLEANING_UP: StateCategory.GONE,
    JobState.CANCELLING: StateCategory.ENDING,
    JobState.WRITING_RESULTS: StateCategory.ENDING,
    JobState.PAUSED: StateCategory.PAUSED,
}


class BatchJobState(_OpenEnum):
    """The state of a batch job (the compute job behind the logs), which has its own enum; unknown values are kept.

    Example:
        >>> import fwbatch_async as fw
        >>> fw.BatchJobState("COMPLETED").is_finished, fw.BatchJobState("QUEUED").is_finished
        (True, False)
    """

    UNSPECIFIED = "STATE_UNSPECIFIED"
    CREATING = "CREATING"
    QUEUED = "QUEUED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"
    DELETING = "DELETING"

    @property
    def is_finished(self) -> bool:
        """The batch job will not change any more (completed, failed, cancelled, being deleted)."""
        return self in _BATCH_JOB_FINISHED


_BATCH_JOB_FINISHED = frozenset(
    {BatchJobState.COMPLETED, BatchJobState.FAILED, BatchJobState.CANCELLED, BatchJobState.DELETING}
)


class Precision(_OpenEnum):
    """The precision a model is served with; unknown values are kept like unknown job states.

    Example:
        >>> import fwbatch_async as fw
        >>> fw.Precision("FP8").is_known, fw.Precision("FP3").is_known  # an unknown value is kept, not an error
        (True, False)
    """

    UNSPECIFIED = "PRECISION_UNSPECIFIED"
    FP16 = "FP16"
    FP8 = "FP8"
    FP8_MM = "FP8_MM"
    FP8_AR = "FP8_AR"
    FP8_MM_KV_ATTN = "FP8_MM_KV_ATTN"
    FP8_KV = "FP8_KV"
    FP8_MM_V2 = "FP8_MM_V2"
    FP8_V2 = "FP8_V2"
    FP8_MM_KV_ATTN_V2 = "FP8_MM_KV_ATTN_V2"
    NF4 = "NF4"
    FP4 = "FP4"
    BF16 = "BF16"
    FP4_BLOCKSCALED_MM = "FP4_BLOCKSCALED_MM"
    FP4_MX_MOE = "FP4_MX_MOE"
