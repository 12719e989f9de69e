"""Wire realism switches: legal but awkward things real servers do, each off by default."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, Self

import attrs

__all__ = ["Realism"]

ALLOWED_DIGITS: Final = frozenset({0, 3, 6, 9})


def _digits(value: Iterable[int]) -> frozenset[int]:
    return frozenset(int(d) for d in value)


def _check_digits(_instance: object, _attribute: attrs.Attribute[Any], value: frozenset[int]) -> None:
    if not value or not value <= ALLOWED_DIGITS:
        raise ValueError(f"fraction_digits must be a non-empty subset of {{0, 3, 6, 9}}, not {sorted(value)}")


def _fraction(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, not {value}")


@attrs.frozen(kw_only=True)
class Realism:
    """Which wire quirks the emulator shows.

    Attributes:
        int64_as_strings: 64-bit job counters (tokens, request counts, rows) as decimal strings.
        fraction_digits: fraction digit counts timestamps are written with, each entry drawing one; an entry's
            time is always exactly representable with the digits it is written with.
        unknown_fields: extra keys the client does not know, in jobs and log responses.
        unknown_state: jobs pass through the made-up state ``JOB_STATE_WARMING_UP`` before RUNNING.
        empty_pages_with_token: fraction of log pages that come back empty with a token continuing the query.
        repeat_end_token: forward log reads always carry a token; at the end, the token that was sent comes back.
    """

    int64_as_strings: bool = False
    fraction_digits: frozenset[int] = attrs.field(default=frozenset({9}), converter=_digits, validator=_check_digits)
    unknown_fields: bool = False
    unknown_state: bool = False
    empty_pages_with_token: float = attrs.field(default=0.0, converter=float, validator=_fraction)
    repeat_end_token: bool = False

    @classmethod
    def all(cls) -> Self:
        """Every switch on: all digit counts and one log page in ten empty."""
        return cls(
            int64_as_strings=True,
            fraction_digits=ALLOWED_DIGITS,
            unknown_fields=True,
            unknown_state=True,
            empty_pages_with_token=0.1,
            repeat_end_token=True,
        )

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse the command-line form, e.g. ``"int64_as_strings,fraction_digits=0/3/9,empty_pages_with_token=0.1"``.

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
            elif name in {"int64_as_strings", "unknown_fields", "unknown_state", "repeat_end_token"}:
                if value:
                    raise ValueError(f"realism switch {name} takes no value")
                values[name] = True
            else:
                raise ValueError(f"unknown realism switch {name!r}")
        return cls(**values)
