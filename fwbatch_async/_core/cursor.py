"""A follow's resumable state: where the next read starts, and a digest and count of every line in its window."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Final

import attrs

from .errors import ArgumentError

__all__ = ["FollowCursor", "message_digest"]

_CURSOR_VERSION: Final = 1


def message_digest(message: str) -> str:
    """A short stable digest of a message (cursors store digests, not whole messages)."""
    raw = hashlib.blake2b(message.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@attrs.frozen
class FollowCursor:
    """Where a follow stopped: enough to resume in another process with nothing repeated and nothing missed.

    It holds the next read's start, the newest time seen, and a digest and count per entry inside the window, so
    its size grows with the number of entries in the window, not with the log. Serialize it with :meth:`to_json`
    and pass it back as ``follow_logs(..., cursor=...)``.

    Example:
        >>> cursor = FollowCursor(start=10, floor=None, watermark=12, seen=((12, 0, "abc", 1),), seconds=(), query="q")
        >>> FollowCursor.from_json(cursor.to_json()) == cursor
        True
    """

    start: int | None
    """Nanoseconds: the next read starts here; ``None`` means from the first entry."""
    floor: int | None
    """Nanoseconds: nothing older is ever delivered; ``None`` means no such limit."""
    watermark: int | None
    """Nanoseconds: the newest entry time accounted for."""
    seen: tuple[tuple[int, int, str, int], ...]
    """``(time ns, rank, message digest, copies)`` of every entry accounted for at or after :attr:`start`."""
    seconds: tuple[tuple[int, int], ...]
    """``(second, entries)`` accounted for below :attr:`start`, for counting entries that arrive too late."""
    query: str
    """A digest of the query (job, ranks, filter) this cursor belongs to."""

    def to_json(self) -> str:
        """The cursor as a compact JSON string."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    def to_dict(self) -> dict[str, Any]:
        """The cursor as JSON-compatible data."""
        return {
            "v": _CURSOR_VERSION,
            "query": self.query,
            "start": self.start,
            "floor": self.floor,
            "watermark": self.watermark,
            "seen": [list(item) for item in self.seen],
            "seconds": [list(item) for item in self.seconds],
        }

    @classmethod
    def from_json(cls, text: str | bytes) -> FollowCursor:
        """Read a cursor written by :meth:`to_json`.

        Raises:
            ValueError: the text is not a cursor of this version.
        """
        try:
            data = json.loads(text)
        except ValueError as error:
            raise ArgumentError(f"not a follow cursor: {error}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: object) -> FollowCursor:
        """Read a cursor from :meth:`to_dict` data.

        Raises:
            ValueError: the data is not a cursor of this version.
        """
        if not isinstance(data, dict) or data.get("v") != _CURSOR_VERSION:
            raise ArgumentError(f"not a version {_CURSOR_VERSION} follow cursor")
        try:
            return cls(
                start=_optional_int(data["start"]),
                floor=_optional_int(data["floor"]),
                watermark=_optional_int(data["watermark"]),
                seen=tuple(
                    (_int(ns), _int(rank), _str(digest), _int(count)) for ns, rank, digest, count in data["seen"]
                ),
                seconds=tuple((_int(second), _int(count)) for second, count in data["seconds"]),
                query=_str(data["query"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ArgumentError(f"malformed follow cursor: {error!r}") from None


def _int(value: object) -> int:
    if type(value) is not int:
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _optional_int(value: object) -> int | None:
    return None if value is None else _int(value)


def _str(value: object) -> str:
    if type(value) is not str:
        raise TypeError(f"expected a string, got {value!r}")
    return value
