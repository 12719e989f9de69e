"""Wire realism switches: legal but awkward things a server may do, each off by default.

Off, the emulator answers as the live Fireworks server was seen to (fireworks-api.md section 6); each switch turns
on a shape the client must survive all the same: one that another server build or an older capture shows, or a
hostile one no live server was seen to send.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, Self

import attrs

__all__ = ["Realism"]

ALLOWED_DIGITS: Final = frozenset({0, 3, 6, 9})


# Live: job timestamps carry 6 fraction digits on GET; log entry times are written with 9 (the contract's default).
LIVE_JOB_DIGITS: Final = frozenset({6})
LIVE_LOG_DIGITS: Final = frozenset({9})
_FLAGS: Final = frozenset(
    {"int64_as_strings", "unknown_fields", "unknown_state", "repeat_end_token", "omit_defaults", "auth_401"}
)


def _digits(value: Iterable[int] | None) -> frozenset[int] | None:
    return None if value is None else frozenset(int(d) for d in value)


def _check_digits(_instance: object, _attribute: attrs.Attribute[Any], value: frozenset[int] | None) -> None:
    if value is not None and (not value or not value <= ALLOWED_DIGITS):
        raise ValueError(f"fraction_digits must be a non-empty subset of {{0, 3, 6, 9}}, not {sorted(value)}")


def _fraction(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, not {value}")


@attrs.frozen(kw_only=True)
class Realism:
    """Which wire quirks the emulator shows.

    Attributes:
        omit_defaults: proto3 JSON without default values: zero counters, ``""``, ``false``, ``[]``, null
            sub-objects and rank 0 are left out (the live server writes them all).
        int64_as_strings: hostile: the jobProgress counters as decimal strings. They are int32 in the published
            schema and live servers send numbers; only true 64-bit fields would come as strings.
        fraction_digits: fraction digit counts every timestamp (job and log) is written with, each drawing one;
            a time is always exactly representable with the digits it is written with. ``None`` (the default):
            as live, 6 digits in job timestamps, 9 in log entry times.
        unknown_fields: extra keys the client does not know, in jobs and log responses.
        unknown_state: jobs pass through the made-up state ``JOB_STATE_WARMING_UP`` before RUNNING.
        empty_pages_with_token: fraction of log pages that come back empty with a token continuing the query.
        repeat_end_token: forward log reads always carry a token; at the end, the token that was sent comes back.
        auth_401: a missing or wrong API key is answered 401 with a google.rpc.Status body (UNAUTHENTICATED), as
            grpc-gateway maps it, instead of the live 403 with an ``UNAUTHORIZED`` error object.
    """

    omit_defaults: bool = False
    int64_as_strings: bool = False
    fraction_digits: frozenset[int] | None = attrs.field(default=None, converter=_digits, validator=_check_digits)
    unknown_fields: bool = False
    unknown_state: bool = False
    empty_pages_with_token: float = attrs.field(default=0.0, converter=float, validator=_fraction)
    repeat_end_token: bool = False
    auth_401: bool = False

    @property
    def job_digits(self) -> frozenset[int]:
        """Fraction digit counts of job timestamps."""
        return LIVE_JOB_DIGITS if self.fraction_digits is None else self.fraction_digits

    @property
    def log_digits(self) -> frozenset[int]:
        """Fraction digit counts of log entry times."""
        return LIVE_LOG_DIGITS if self.fraction_digits is None else self.fraction_digits

    @classmethod
    def all(cls) -> Self:
        """Every switch on: all digit counts and one log page in ten empty."""
        return cls(
            omit_defaults=True,
            int64_as_strings=True,
            fraction_digits=ALLOWED_DIGITS,
            unknown_fields=True,
            unknown_state=True,
            empty_pages_with_token=0.1,
            repeat_end_token=True,
            auth_401=True,
        )

    def to_text(self) -> str:
        """The command-line form of this value (``"none"`` when every switch is off): ``parse`` reads it back."""
        items = [name for name in sorted(_FLAGS) if getattr(self, name)]
        if self.fraction_digits is not None:
            items.append("fraction_digits=" + "/".join(map(str, sorted(self.fraction_digits))))
        if self.empty_pages_with_token:
            items.append(f"empty_pages_with_token={self.empty_pages_with_token:g}")
        return ",".join(items) or "none"

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse the command-line form, e.g. ``"omit_defaults,fraction_digits=0/3/9,empty_pages_with_token=0.1"``.

        ``"all"`` turns everything on; ``""`` or ``"none"`` turns everything off.

        Raises:
            ValueError: on an unknown switch or a bad value.
        """
        text = text.strip()
        if text == "all":
            return cls.all()
        values: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            if item == "none":
                continue
            name, _, value = item.partition("=")
            name = name.strip()
            if name == "fraction_digits":
                values[name] = [int(d) for d in value.replace("+", "/").split("/") if d.strip()]
            elif name == "empty_pages_with_token":
                values[name] = float(value) if value else 0.1
            elif name in _FLAGS:
                if value:
                    raise ValueError(f"realism switch {name} takes no value")
                values[name] = True
            else:
                raise ValueError(f"unknown realism switch {name!r}")
        return cls(**values)
