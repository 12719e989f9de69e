"""The wire format, written by hand from fireworks-api.md: RFC 3339 timestamps, durations, defaults, error bodies.

Nothing here is shared with the client, on purpose: a client bug must not hide behind the same bug in the server.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import UTC, datetime
from typing import Any, Final

import orjson

__all__ = [
    "GRPC_CODES",
    "ApiError",
    "error_body",
    "format_duration",
    "format_timestamp",
    "http_date",
    "omit_defaults",
    "parse_timestamp",
    "second_prefix",
]

NS_PER_SECOND: Final = 1_000_000_000
# Scale of a fraction with n digits, in nanoseconds, indexed by n.
FRACTION_SCALE: Final[tuple[int, ...]] = tuple(10 ** (9 - n) for n in range(10))

_RFC3339: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)

# google.rpc.Code: name -> (number, HTTP status as grpc-gateway maps it).
GRPC_CODES: Final[dict[str, tuple[int, int]]] = {
    "OK": (0, 200),
    "CANCELLED": (1, 499),
    "UNKNOWN": (2, 500),
    "INVALID_ARGUMENT": (3, 400),
    "DEADLINE_EXCEEDED": (4, 504),
    "NOT_FOUND": (5, 404),
    "ALREADY_EXISTS": (6, 409),
    "PERMISSION_DENIED": (7, 403),
    "RESOURCE_EXHAUSTED": (8, 429),
    "FAILED_PRECONDITION": (9, 400),
    "ABORTED": (10, 409),
    "OUT_OF_RANGE": (11, 400),
    "UNIMPLEMENTED": (12, 501),
    "INTERNAL": (13, 500),
    "UNAVAILABLE": (14, 503),
    "DATA_LOSS": (15, 500),
    "UNAUTHENTICATED": (16, 401),
}


class ApiError(Exception):
    """An error the emulator answers with a google.rpc.Status body.

    Args:
        code: google.rpc.Code name, e.g. ``"INVALID_ARGUMENT"``.
        message: human-readable message.
        reason: ErrorInfo reason, a constant in UPPER_SNAKE_CASE.
        http_status: overrides the grpc-gateway mapping of ``code`` (e.g. 405 for a wrong method).
    """

    def __init__(self, code: str, message: str, reason: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.http_status = GRPC_CODES[code][1] if http_status is None else http_status


def error_body(code: str, message: str, reason: str) -> bytes:
    """A google.rpc.Status JSON body with a numeric code and one ErrorInfo detail.

    NOT_FOUND is written as it was captured live: ``{"code": 5, "details": [], "message": ...}``.
    """
    if code == "NOT_FOUND":
        return orjson.dumps({"code": GRPC_CODES[code][0], "details": [], "message": message})
    return orjson.dumps(
        {
            "code": GRPC_CODES[code][0],
            "message": message,
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": reason,
                    "domain": "fireworks.ai",
                    "metadata": {},
                }
            ],
        }
    )


def _is_default(value: object) -> bool:
    # bool is an int: test it by identity, so that True stays and only False goes.
    return (
        value is None
        or value is False
        or (type(value) in {int, float} and value == 0)
        or (isinstance(value, str | list) and not value)
    )


def omit_defaults(resource: dict[str, Any]) -> dict[str, Any]:
    """``resource`` as proto3 JSON without EmitUnpopulated writes it: fields at their default value left out.

    Nested objects are pruned too but kept when they end up empty (a set sub-message is written as ``{}``).
    Enum values are names (non-empty strings), so they are always kept.
    """
    return {
        key: omit_defaults(value) if isinstance(value, dict) else value
        for key, value in resource.items()
        if not _is_default(value)
    }


def format_duration(seconds: float) -> str:
    """A google.protobuf.Duration in proto3 JSON: ``"86400s"``, ``"1.500s"`` (0, 3, 6 or 9 fraction digits)."""
    whole, nanos = divmod(round(seconds * NS_PER_SECOND), NS_PER_SECOND)
    if not nanos:
        return f"{whole}s"
    digits = next(d for d in (3, 6, 9) if nanos % FRACTION_SCALE[d] == 0)
    return f"{whole}.{nanos // FRACTION_SCALE[digits]:0{digits}d}s"


def second_prefix(seconds: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` for a whole number of UTC seconds since the epoch."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def format_fraction(time_ns: int, digits: int) -> str:
    """The ``.fffZ`` tail of a timestamp with exactly ``digits`` fraction digits (time rounded down)."""
    if digits == 0:
        return "Z"
    return "." + str((time_ns % NS_PER_SECOND) // FRACTION_SCALE[digits]).zfill(digits) + "Z"


def format_timestamp(time_ns: int, digits: int = 9) -> str:
    """RFC 3339 in UTC with exactly ``digits`` fraction digits; the time is rounded down to that precision."""
    return second_prefix(time_ns // NS_PER_SECOND) + format_fraction(time_ns, digits)


def floor_to_digits(time_ns: int, digits: int) -> int:
    """The time rounded down so that ``digits`` fraction digits represent it exactly."""
    return time_ns - time_ns % FRACTION_SCALE[digits]


def parse_timestamp(text: str) -> int:
    """Parse RFC 3339 (0-9 fraction digits, ``Z`` or an offset) to UTC nanoseconds, exactly.

    Raises:
        ValueError: if the text is not a valid RFC 3339 timestamp.
    """
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    # datetime validates the calendar (month lengths, leap years, hour and minute ranges).
    datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    fraction = match.group(7) or ""
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    if match.group(8) is not None:
        off_hours, off_minutes = int(match.group(9)), int(match.group(10))
        if off_hours > 23 or off_minutes > 59:  # noqa: PLR2004 - clock arithmetic
            raise ValueError(f"bad UTC offset in {text!r}")
        offset = off_hours * 3600 + off_minutes * 60
        seconds -= offset if match.group(8) == "+" else -offset
    nanos = int(fraction) * FRACTION_SCALE[len(fraction)] if fraction else 0
    return seconds * NS_PER_SECOND + nanos


_DAY_NAMES: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(time_ns: int) -> str:
    """An HTTP ``Date`` header value (IMF-fixdate) for a UTC time in nanoseconds.

    Day and month names are spelled out here because ``strftime`` would follow the process locale.
    """
    t = time.gmtime(time_ns // NS_PER_SECOND)
    return (
        f"{_DAY_NAMES[t.tm_wday]}, {t.tm_mday:02d} {_MONTH_NAMES[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )
