"""Nanosecond RFC 3339 timestamps.

Fireworks sends log times with up to nine fractional digits; ``datetime`` keeps six. A client that round-trips
``logTime`` through ``datetime`` and sends it back as ``startTime`` loses up to 999 ns and then duplicates or drops
entries. :class:`Timestamp` keeps integer UTC nanoseconds and the exact text it was parsed from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Final, Self

__all__ = ["Timestamp", "times_ns", "wire_timestamp"]

_NS_PER_SECOND: Final = 1_000_000_000
_SECONDS_PER_DAY: Final = 86_400
# Scale of a fraction with n digits to nanoseconds, indexed by n.
_FRACTION_SCALE: Final = tuple(10 ** (9 - n) for n in range(10))
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

_RFC3339: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)
_DAYS_IN_MONTH: Final = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

# Log times share their first 19 characters ("YYYY-MM-DDTHH:MM:SS") with their neighbours, so the calendar
# arithmetic is done once per second of log and cached; the cache is cleared when it grows past this size.
_PREFIX_CACHE_LIMIT: Final = 4096
_prefix_cache: dict[str, int] = {}


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm, exact for any year)."""
    year -= month <= 2  # noqa: PLR2004 - March-based year
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1  # noqa: PLR2004
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


def _civil_from_days(days: int) -> tuple[int, int, int]:
    """Inverse of :func:`_days_from_civil`."""
    days += 719_468
    era = days // 146_097
    day_of_era = days - era * 146_097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_index = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * month_index + 2) // 5 + 1
    month = month_index + (3 if month_index < 10 else -9)  # noqa: PLR2004
    return year_of_era + era * 400 + (month <= 2), month, day  # noqa: PLR2004


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _seconds_ns(text: str, fields: tuple[int, int, int, int, int, int]) -> int:
    """Nanoseconds since the epoch of a calendar second (year, month, day, hour, minute, second), validated."""
    year, month, day, hour, minute, second = fields
    if not 1 <= year <= 9999:  # noqa: PLR2004 - the range of google.protobuf.Timestamp
        raise ValueError(f"timestamp year out of range 0001..9999: {text!r}")
    if not 1 <= month <= 12:  # noqa: PLR2004
        raise ValueError(f"timestamp month out of range: {text!r}")
    last_day = 29 if month == 2 and _is_leap(year) else _DAYS_IN_MONTH[month - 1]  # noqa: PLR2004
    if not 1 <= day <= last_day:
        raise ValueError(f"timestamp day out of range: {text!r}")
    # Leap seconds (second 60) are not representable in google.protobuf.Timestamp, so they are rejected.
    if hour > 23 or minute > 59 or second > 59:  # noqa: PLR2004
        raise ValueError(f"timestamp time of day out of range: {text!r}")
    days = _days_from_civil(year, month, day)
    return ((days * 24 + hour) * 60 + minute) * 60 * _NS_PER_SECOND + second * _NS_PER_SECOND


def _parse_ns(text: str) -> int:
    """Parse any RFC 3339 form (0-9 fraction digits, ``Z`` or an offset) to UTC nanoseconds."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_hour, off_minute = match.groups()
    ns = _seconds_ns(text, (int(year), int(month), int(day), int(hour), int(minute), int(second)))
    if fraction:
        ns += int(fraction) * _FRACTION_SCALE[len(fraction)]
    if not zulu:
        offset_hours, offset_minutes = int(off_hour), int(off_minute)
        if offset_hours > 23 or offset_minutes > 59:  # noqa: PLR2004
            raise ValueError(f"timestamp offset out of range: {text!r}")
        offset_ns = (offset_hours * 60 + offset_minutes) * 60 * _NS_PER_SECOND
        ns += -offset_ns if sign == "+" else offset_ns
    return ns


def _prefix_ns(prefix: str) -> int:
    """UTC nanoseconds of a ``YYYY-MM-DDTHH:MM:SS`` prefix, cached (the per-entry hot path)."""
    ns = _prefix_cache.get(prefix)
    if ns is None:
        ns = _parse_ns(prefix + "Z")
        if len(_prefix_cache) >= _PREFIX_CACHE_LIMIT:
            _prefix_cache.clear()
        _prefix_cache[prefix] = ns
    return ns


def _text_to_ns(text: str) -> int:
    """Parse RFC 3339 text to UTC nanoseconds, fast for the common nine-digit ``Z`` form."""
    if len(text) == 30 and text[29] == "Z" and text[19] == "." and text.isascii():  # noqa: PLR2004
        fraction = text[20:29]
        # The prefix is validated by the full parser the first time it is seen, then cached.
        if fraction.isdigit():
            prefix = text[:19]
            base = _prefix_cache.get(prefix)
            return (_prefix_ns(prefix) if base is None else base) + int(fraction)
    return _parse_ns(text)


def _format_ns(ns: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ``: always nine digits, so a time sent back loses nothing."""
    seconds, fraction = divmod(ns, _NS_PER_SECOND)
    days, second_of_day = divmod(seconds, _SECONDS_PER_DAY)
    year, month, day = _civil_from_days(days)
    hour, rest = divmod(second_of_day, 3600)
    minute, second = divmod(rest, 60)
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{fraction:09d}Z"


class Timestamp:
    """An instant with integer nanosecond precision, as Fireworks sends it.

    Equality, ordering and hashing use the instant (:attr:`ns`), so ``...T00:00:00Z`` and
    ``...T01:00:00+01:00`` are equal. ``str()`` gives back exactly the text that was parsed; :meth:`rfc3339`
    always gives nine fractional digits in UTC, which is the form to send back to the server.

    Example:
        >>> ts = Timestamp.parse("2026-11-22T04:00:00.123456789Z")
        >>> ts.ns
        1795320000123456789
        >>> str(ts)
        '2026-11-22T04:00:00.123456789Z'
        >>> Timestamp.parse("2026-11-22T05:00:00.5+01:00").rfc3339()
        '2026-11-22T04:00:00.500000000Z'
    """

    __slots__ = ("_ns", "_text")

    # Exactly one of the two may be None: a timestamp made from nanoseconds formats its text on demand, one read
    # off the wire (see wire_timestamp) parses its nanoseconds on demand.
    _ns: int | None
    _text: str | None

    def __init__(self, ns: int) -> None:
        """Make a timestamp from UTC nanoseconds since the Unix epoch."""
        if type(ns) is not int:
            raise TypeError(f"Timestamp(ns) takes an int of nanoseconds, not {type(ns).__name__}")
        self._ns = ns
        self._text = None

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse RFC 3339 text with 0-9 fractional digits and ``Z`` or a numeric offset.

        Raises:
            ValueError: the text is not a valid RFC 3339 timestamp between years 0001 and 9999.
        """
        if type(text) is not str:
            raise TypeError(f"Timestamp.parse takes a str, not {type(text).__name__}")
        stamp = cls.__new__(cls)
        stamp._ns = _text_to_ns(text)
        stamp._text = text
        return stamp

    @classmethod
    def from_datetime(cls, value: datetime) -> Self:
        """Convert an aware :class:`~datetime.datetime`.

        Raises:
            ValueError: ``value`` is naive; a naive time has no defined instant.
        """
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()!r}: pass an aware datetime, e.g. datetime.now(timezone.utc)"
            )
        delta = value - _EPOCH
        return cls((delta.days * _SECONDS_PER_DAY + delta.seconds) * _NS_PER_SECOND + delta.microseconds * 1000)

    @property
    def ns(self) -> int:
        """Nanoseconds since 1970-01-01T00:00:00Z."""
        ns = self._ns
        if ns is None:
            ns = self._ns = _text_to_ns(self._text)  # type: ignore[arg-type] # one of the two is always set
        return ns

    @property
    def text(self) -> str:
        """The text this timestamp was parsed from, or its nine-digit UTC form when it was not parsed."""
        text = self._text
        if text is None:
            text = self._text = _format_ns(self._ns)  # type: ignore[arg-type] # one of the two is always set
        return text

    def rfc3339(self) -> str:
        """The nine-digit UTC form, e.g. ``2026-11-22T04:00:00.000000001Z`` (what the client sends)."""
        return _format_ns(self.ns)

    def to_datetime(self) -> datetime:
        """An aware UTC :class:`~datetime.datetime`, truncated to microseconds (``datetime`` holds no more)."""
        return _EPOCH + timedelta(microseconds=self.ns // 1000)

    def shifted(self, nanoseconds: int) -> Timestamp:
        """This instant moved by ``nanoseconds`` (negative moves it back)."""
        return Timestamp(self.ns + nanoseconds)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Timestamp({self.text!r})"

    def __hash__(self) -> int:
        return hash(self.ns)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Timestamp):
            return self.ns == other.ns
        return NotImplemented

    def __lt__(self, other: Timestamp) -> bool:
        if isinstance(other, Timestamp):
            return self.ns < other.ns
        return NotImplemented

    def __le__(self, other: Timestamp) -> bool:
        if isinstance(other, Timestamp):
            return self.ns <= other.ns
        return NotImplemented

    def __gt__(self, other: Timestamp) -> bool:
        if isinstance(other, Timestamp):
            return self.ns > other.ns
        return NotImplemented

    def __ge__(self, other: Timestamp) -> bool:
        if isinstance(other, Timestamp):
            return self.ns >= other.ns
        return NotImplemented

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (Timestamp.parse, (self.text,))


def wire_timestamp(text: str) -> Timestamp:
    """A timestamp from server text whose nanoseconds are parsed, and validated, on first use.

    Log pages carry up to 10,000 times and most readers never compare them; deferring the parse keeps decoding at
    the speed of the JSON parser. Invalid text raises ``ValueError`` when :attr:`Timestamp.ns` is first read.
    """
    stamp = Timestamp.__new__(Timestamp)
    stamp._ns = None
    stamp._text = text
    return stamp


def times_ns(times: Iterable[str | Timestamp]) -> list[int]:
    """Nanoseconds of each time, given as a :class:`Timestamp` or as the server's text, making no Timestamp.

    A follower compares the times of the entries it counts; parsing the text directly spares a Timestamp each.

    Raises:
        ValueError: a text is not a valid RFC 3339 timestamp.
    """
    return [_text_to_ns(value) if isinstance(value, str) else value.ns for value in times]
