"""Query parameters as grpc-gateway reads them: camelCase or snake_case names, one value per scalar."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final, Protocol

from fwbatch_async.emulator.wire import ApiError

__all__ = ["QueryParams", "int32", "list_values", "page_size", "parse_bool", "single"]

_INT32_MAX: Final = 2**31 - 1
_INTEGER: Final = re.compile(r"[+-]?[0-9]+")
# strconv.ParseBool, which grpc-gateway uses for bool parameters.
_BOOLS: Final[Mapping[str, bool]] = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}


class QueryParams(Protocol):
    """The part of a multi-dict of query parameters that is read here."""

    def getall(self, key: str, default: list[str]) -> list[str]:
        """Every value of ``key``."""
        ...


def _bad(message: str) -> ApiError:
    return ApiError("INVALID_ARGUMENT", message, "INVALID_ARGUMENT")


def list_values(query: QueryParams, camel: str, snake: str | None = None) -> list[str]:
    """Every value given for a parameter, under either of its names."""
    values = list(query.getall(camel, []))
    if snake is not None and snake != camel:
        values += query.getall(snake, [])
    return values


def single(query: QueryParams, camel: str, snake: str | None = None) -> str | None:
    """The one value of a scalar parameter, or None if absent.

    Raises:
        ApiError: INVALID_ARGUMENT if it is given more than once.
    """
    values = list_values(query, camel, snake)
    if len(values) > 1:
        raise _bad(f"parameter {camel} given {len(values)} times; it takes one value")
    return values[0] if values else None


def int32(name: str, text: str) -> int:
    """Parse a decimal int32.

    Raises:
        ApiError: INVALID_ARGUMENT if it is not one.
    """
    if not _INTEGER.fullmatch(text):
        raise _bad(f"invalid value for {name}: {text!r} is not an integer")
    value = int(text)
    if not -_INT32_MAX - 1 <= value <= _INT32_MAX:
        raise _bad(f"invalid value for {name}: {text!r} is not a 32-bit integer")
    return value


def parse_bool(name: str, text: str) -> bool:
    """Parse a bool the way Go's strconv.ParseBool does.

    Raises:
        ApiError: INVALID_ARGUMENT for anything else.
    """
    try:
        return _BOOLS[text]
    except KeyError:
        raise _bad(f"invalid value for {name}: {text!r} is not a boolean") from None


def page_size(query: QueryParams, *, default: int, maximum: int) -> int:
    """pageSize: absent or 0 means ``default``, larger than ``maximum`` is coerced, negative is an error.

    Raises:
        ApiError: INVALID_ARGUMENT for a negative or non-integer value.
    """
    text = single(query, "pageSize", "page_size")
    if text is None or text == "":
        return default
    value = int32("pageSize", text)
    if value < 0:
        raise _bad(f"invalid pageSize {value}: must not be negative")
    return min(value, maximum) if value else default
