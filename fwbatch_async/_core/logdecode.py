"""Log pages decoded straight from the response body into typed entries, by msgspec's compiled decoder.

A page can hold 10,000 entries; building them one by one in Python costs several times what parsing the JSON does.
msgspec parses the body and builds the :class:`~fwbatch_async._core.models.LogEntry` structs in one pass of C (each
keeps its time as text until it is read), so a typed page costs less than the same page decoded to dicts by orjson
(docs/performance.md).

Only the shape a server normally sends is taken here: known keys, numbers as numbers, no nulls. Anything else (an
unknown field, an int64 as a string, a null for a default) is not an error but a cue to take the exact path in
:mod:`~fwbatch_async._core.convert`, which keeps unknown fields and reads every form the proto3 JSON mapping allows.
"""

from __future__ import annotations

from typing import Final

import msgspec

from .models import LogEntry, LogPage

__all__ = ["NotJSONError", "decode_log_page"]

NotJSONError: Final = msgspec.DecodeError
"""Raised by :func:`decode_log_page` for a body that is not JSON at all."""


class _WirePage(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    entries: tuple[LogEntry, ...] = ()
    nextPageToken: str = ""  # noqa: N815 - the wire's name


_decoder: Final = msgspec.json.Decoder(_WirePage)


def decode_log_page(body: bytes) -> LogPage | None:
    """The page in ``body``, or ``None`` when it is JSON of another shape than the usual one (take the exact path).

    Raises:
        NotJSONError: the body is not JSON.
    """
    try:
        page = _decoder.decode(body)
    except msgspec.ValidationError:
        return None
    # An empty token means no further page, as in the exact path.
    return LogPage(page.entries, page.nextPageToken or None)
