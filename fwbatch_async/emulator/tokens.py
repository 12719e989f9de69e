"""Opaque page tokens: a position plus a fingerprint of the query that produced it.

A token is only valid with exactly the parameters of the call that returned it (the documented rule); the
fingerprint makes any change of another parameter detectable, and the position is the query's cursor.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

import orjson

from fwbatch_async.emulator.wire import ApiError

__all__ = ["decode_token", "encode_token", "fingerprint"]

# Tokens start with this version number, so their layout can change without confusing old ones.
_VERSION = 1


def fingerprint(*params: Any) -> str:
    """A short digest of a query's parameters (JSON-serializable values)."""
    return hashlib.blake2b(orjson.dumps(params), digest_size=8).hexdigest()


def encode_token(query: str, position: list[Any]) -> str:
    """A URL-safe token for ``position`` within the query fingerprinted ``query``."""
    raw = orjson.dumps([_VERSION, query, *position])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_token(token: str, query: str) -> list[Any]:
    """The position in a token, checking that it belongs to the query fingerprinted ``query``.

    Raises:
        ApiError: INVALID_ARGUMENT when the token is malformed or was issued for other parameters.
    """
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = orjson.loads(raw)
    except (binascii.Error, ValueError):
        data = None
    match data:
        case [int() as version, str() as issued_for, *position] if version == _VERSION and issued_for == query:
            return position
        case [int() as version, str(), *_] if version == _VERSION:
            raise ApiError(
                "INVALID_ARGUMENT",
                "page token does not match the request: every parameter other than pageToken must match the call "
                "that returned the token",
                "INVALID_PAGE_TOKEN",
            )
        case _:
            raise ApiError("INVALID_ARGUMENT", "invalid page token", "INVALID_PAGE_TOKEN")
