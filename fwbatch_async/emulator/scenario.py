"""Scenarios: plain data describing the account and the simulated jobs an emulator serves.

A scenario is a frozen value, built in Python or loaded from JSON (``Scenario.from_json`` / ``from_file``), and
everything random in the emulator is derived from its seed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Self

import attrs
import orjson

__all__ = ["OUTCOMES", "JobSpec", "LateLines", "Scenario"]

OUTCOMES: Final = frozenset(
    {"COMPLETED", "FAILED", "EXPIRED", "CANCELLED", "STUCK", "VALIDATION_FAILED", "NO_CAPACITY"}
)
DEFAULT_MODEL: Final = "accounts/fireworks/models/llama-v3p1-8b-instruct"
# Loose id rule from fireworks-api.md section 3: non-empty, no separators, whitespace or control characters.
_MAX_ID_LENGTH: Final = 256


def _check_id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None and attribute.name == "batch_job_id":
        return
    if (
        not isinstance(value, str)
        or not value
        or len(value) > _MAX_ID_LENGTH
        or any(c in "/?#" or c.isspace() or not c.isprintable() for c in value)
    ):
        raise ValueError(f"{attribute.name} must be a non-empty id without '/', '?', '#' or spaces: {value!r}")


def _fraction(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, not {value}")


def _non_negative(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 0 or math.isinf(value):
        raise ValueError(f"{attribute.name} must be a finite number >= 0, not {value}")


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0 or math.isinf(value):
        raise ValueError(f"{attribute.name} must be a finite number > 0, not {value}")


@attrs.frozen(kw_only=True)
class LateLines:
    """Ingestion lag: a ``fraction`` of lines becomes visible up to ``max_delay`` seconds after its logTime."""

    fraction: float = attrs.field(default=0.05, converter=float, validator=_fraction)
    max_delay: float = attrs.field(default=3.0, converter=float, validator=_non_negative)


def _late(value: LateLines | Mapping[str, Any]) -> LateLines:
    return value if isinstance(value, LateLines) else LateLines(**value)


@attrs.frozen(kw_only=True)
class JobSpec:
    """One simulated batch inference job and its logs.

    Times are emulated seconds. ``duration`` runs from creation to the final state, plus ``capacity_wait``, the
    time the job waits on capacity in PENDING after validation. Outcomes other than the final states: ``STUCK``
    (progress freezes at 40 % of the duration and the job stays RUNNING), ``VALIDATION_FAILED`` (VALIDATING for the
    whole duration, then FAILED with INVALID_ARGUMENT), ``NO_CAPACITY`` (PENDING, waiting on capacity, for good).
    No job outlives its expiry, ``max_job_duration`` after creation (24 h if unset): a job still going then ends
    EXPIRED. ``start_after`` is counted from the emulator's start (for a job added while running, from the
    moment it is added); negative values create jobs that began in the past. ``declared_requests`` is the
    dataset size the job reports as ``totalInputRequests`` (default ``requests``; a smaller value makes the
    processed count exceed it, as seen live).
    """

    id: str = attrs.field(validator=_check_id)
    batch_job_id: str | None = attrs.field(default=None, validator=_check_id)
    model: str = DEFAULT_MODEL
    requests: int = attrs.field(default=1000, converter=int, validator=_non_negative)
    ranks: int = attrs.field(default=4, converter=int, validator=_positive)
    duration: float = attrs.field(default=600.0, converter=float, validator=_positive)
    start_after: float = attrs.field(default=0.0, converter=float)
    outcome: str = attrs.field(default="COMPLETED", validator=attrs.validators.in_(OUTCOMES))
    status_message: str | None = None
    lines_per_second: float = attrs.field(default=5.0, converter=float, validator=_non_negative)
    late: LateLines = attrs.field(factory=LateLines, converter=_late)
    duplicates: float = attrs.field(default=0.02, converter=float, validator=_fraction)
    burst_every: float | None = attrs.field(default=None, validator=attrs.validators.optional(_positive))
    burst_size: int = attrs.field(default=150, converter=int, validator=_non_negative)
    generate_logs: bool = True
    display_name: str | None = None
    created_by: str = "user@example.com"
    precision: str = "FP8"
    continued_from_job_name: str | None = None
    inference_parameters: Mapping[str, Any] | None = None
    capacity_wait: float = attrs.field(default=0.0, converter=float, validator=_non_negative)
    max_job_duration: float | None = attrs.field(
        default=None, converter=attrs.converters.optional(float), validator=attrs.validators.optional(_positive)
    )
    declared_requests: int | None = attrs.field(
        default=None, converter=attrs.converters.optional(int), validator=attrs.validators.optional(_non_negative)
    )
    system_prompt: str = ""

    @property
    def logs_id(self) -> str:
        """The id under ``/batchJobs/{id}:getLogs``."""
        return self.batch_job_id or self.id

    def to_json(self) -> dict[str, Any]:
        """This job as a JSON-ready dict (snake_case keys, as accepted by :meth:`from_json`)."""
        return attrs.asdict(self, recurse=True)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """Build a job from a dict as produced by :meth:`to_json`; unknown keys are an error.

        Raises:
            ValueError: on unknown keys or invalid values.
        """
        unknown = set(data) - {a.name for a in attrs.fields(cls)}
        if unknown:
            raise ValueError(f"unknown job keys: {sorted(unknown)}")
        return cls(**data)


def _jobs(value: Sequence[JobSpec | Mapping[str, Any]]) -> tuple[JobSpec, ...]:
    return tuple(j if isinstance(j, JobSpec) else JobSpec.from_json(j) for j in value)


def _unique_ids(_instance: object, _attribute: attrs.Attribute[Any], jobs: tuple[JobSpec, ...]) -> None:
    for name, ids in (("id", [j.id for j in jobs]), ("batch_job_id", [j.logs_id for j in jobs])):
        if len(set(ids)) != len(ids):
            raise ValueError(f"job {name}s must be unique: {ids}")


@attrs.frozen(kw_only=True)
class Scenario:
    """The account an emulator serves, a seed for everything random, and the simulated jobs."""

    account: str = attrs.field(default="emulator-account", validator=_check_id)
    seed: int = attrs.field(default=0, converter=int)
    jobs: tuple[JobSpec, ...] = attrs.field(factory=tuple, converter=_jobs, validator=_unique_ids)

    def to_json(self) -> dict[str, Any]:
        """This scenario as a JSON-ready dict."""
        return {"account": self.account, "seed": self.seed, "jobs": [j.to_json() for j in self.jobs]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """Build a scenario from a dict as produced by :meth:`to_json`; unknown keys are an error.

        Raises:
            ValueError: on unknown keys or invalid values.
        """
        unknown = set(data) - {"account", "seed", "jobs"}
        if unknown:
            raise ValueError(f"unknown scenario keys: {sorted(unknown)}")
        return cls(**data)

    @classmethod
    def from_file(cls, path: str | Path) -> Self:
        """Load a scenario from a JSON file."""
        return cls.from_json(orjson.loads(Path(path).read_bytes()))

    @classmethod
    def named(cls, name: str) -> Scenario:
        """A built-in scenario: ``"demo"``, ``"small"`` or ``"bench"`` (see :mod:`.named`).

        Raises:
            ValueError: for an unknown name.
        """
        from fwbatch_async.emulator.named import NAMED_SCENARIOS  # noqa: PLC0415 - named imports this module

        try:
            return NAMED_SCENARIOS[name]()
        except KeyError:
            raise ValueError(f"unknown scenario {name!r}; built in: {sorted(NAMED_SCENARIOS)}") from None

    @classmethod
    def load(cls, name_or_path: str | Path) -> Scenario:
        """A built-in scenario by name, or else a JSON file by path."""
        from fwbatch_async.emulator.named import NAMED_SCENARIOS  # noqa: PLC0415 - named imports this module

        if isinstance(name_or_path, str) and name_or_path in NAMED_SCENARIOS:
            return cls.named(name_or_path)
        return cls.from_file(name_or_path)
