"""Reading ``--since``: a duration ago (``90s``, ``10m``, ``1h30m``, ``2d``) or an RFC 3339 time."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

import fwbatch_async as fw

__all__ = ["parse_since"]

_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION: Final = re.compile(r"(?:(\d+)([smhd]))+", re.ASCII)
_PART: Final = re.compile(r"(\d+)([smhd])", re.ASCII)


def parse_since(text: str) -> timedelta | fw.Timestamp:
    """``10m`` as a duration ago, ``2026-11-22T04:00:00Z`` as a time.

    Example:
        >>> parse_since("1h30m")
        datetime.timedelta(seconds=5400)
        >>> parse_since("2026-11-22T04:00:00.5Z").ns
        1795320000500000000

    Raises:
        ValueError: neither form, or an RFC 3339 time without its offset.
    """
    if _DURATION.fullmatch(text):
        return timedelta(seconds=sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(text)))
    try:
        return fw.Timestamp.parse(text)
    except ValueError:
        raise ValueError(
            f"--since {text!r} is neither a duration (90s, 10m, 1h30m, 2d) nor an RFC 3339 time (2026-11-22T04:00:00Z)"
        ) from None
