"""The API key check, and how a refusal looks on the wire.

Live, a missing or wrong key is answered 403 with an OpenAI-style error object whose code is ``UNAUTHORIZED``, and
the body carries a ``request_id`` (fireworks-api.md section 6). The ``auth_401`` realism switch answers as
grpc-gateway maps UNAUTHENTICATED instead: 401 with a google.rpc.Status body.
"""

from __future__ import annotations

import uuid
from typing import Final

import orjson

from fwbatch_async.emulator.rng import seeded
from fwbatch_async.emulator.wire import error_body

__all__ = ["KeyCheck"]

_MISSING: Final = ("missing API key: send 'Authorization: Bearer <key>'", "CREDENTIALS_MISSING")
_INVALID: Final = ("invalid API key", "API_KEY_INVALID")


class KeyCheck:
    """Checks ``Authorization`` headers against the one key, and writes refusals; request ids come from the seed."""

    def __init__(self, api_key: str, *, seed: int, legacy_401: bool = False) -> None:
        self.api_key = api_key
        self.legacy_401 = legacy_401
        self._ids = seeded(seed, "request-ids")

    def refusal(self, header: str) -> tuple[int, bytes] | None:
        """``(HTTP status, body)`` refusing a request with this ``Authorization`` header, or None to let it in."""
        scheme, _, key = header.partition(" ")
        if header and scheme.lower() == "bearer" and key.strip() == self.api_key:
            return None
        message, reason = _MISSING if not header else _INVALID
        if self.legacy_401:
            return 401, error_body("UNAUTHENTICATED", message, reason)
        error = {"message": message, "param": None, "code": "UNAUTHORIZED", "type": "error"}
        return 403, orjson.dumps({"error": error, "request_id": self._request_id()})

    def _request_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))
