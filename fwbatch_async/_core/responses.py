"""Response interpretation: status, headers and body in; a model or a typed error out.

Error bodies come as ``google.rpc.Status`` (numeric code), wrapped in ``{"error": ...}``, Google-style with a
``status`` name, OpenAI-style (``{"error": {"code": "UNAUTHORIZED", ...}, "request_id": ...}``), as a bare string
(``{"error": "Too Many Requests"}``), or not as JSON at all (an HTML page from a gateway); each becomes the right
:class:`~fwbatch_async._core.errors.APIStatusError` subclass with as much of the server's explanation as it gave.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from email.utils import parsedate
from typing import Any, Final, TypeVar, cast

import attrs
import orjson

from .convert import converter, describe_error
from .errors import (
    GRPC_CODE_NAMES,
    APIStatusError,
    AuthenticationError,
    InvalidResponseError,
    status_error_class,
)
from .logdecode import NotJSONError, decode_log_page
from .models import LogPage
from .requests import Request
from .retry import retry_after_seconds

__all__ = ["RawResponse", "error_from_response", "read_response", "server_time_ns"]

T = TypeVar("T")

_REQUEST_ID_HEADERS: Final = ("x-request-id", "x-fireworks-request-id", "request-id")
_ERROR_INFO_TYPE: Final = "type.googleapis.com/google.rpc.ErrorInfo"
_HTML_TITLE: Final = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_SNIPPET_LENGTH: Final = 200
_INVALID_KEY: Final = re.compile(
    r"\b(invalid|unknown|wrong|bad|revoked|expired)\b[\w ]{0,12}\bkey\b"
    r"|\bkey\b[\w ]{0,12}\b(invalid|revoked|expired)\b",
    re.IGNORECASE,
)


@attrs.frozen
class RawResponse:
    """What came back for a request, before interpretation.

    ``headers`` must look keys up case-insensitively (aiohttp's headers do) or have lower-case keys.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str


def _snippet(body: bytes) -> str:
    """A short readable description of a body that is not JSON (gateway HTML pages have a useful title)."""
    title = _HTML_TITLE.search(body[:4096])
    text = (title.group(1) if title else body[:_SNIPPET_LENGTH]).decode("utf-8", "replace")
    text = " ".join(text.split())
    return text or "(empty body)"


@attrs.frozen
class _ErrorBody:
    """What an error body said, in whichever of the shapes it came."""

    code: str | None = None
    message: str | None = None
    details: list[Mapping[str, Any]] = attrs.Factory(list)
    request_id: str | None = None


def _error_body(body: bytes) -> _ErrorBody:
    """Code name, message, details and request id from an error body, if it is JSON of a known shape."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _ErrorBody()
    if not isinstance(data, dict):
        return _ErrorBody()
    request_id = data.get("request_id")  # the OpenAI-style body of a refused key carries it beside "error"
    request_id = request_id if isinstance(request_id, str) and request_id else None
    error = data.get("error")
    if isinstance(error, str):  # some 429s: {"error": "Too Many Requests"}
        return _ErrorBody(message=error or None, request_id=request_id)
    if isinstance(error, dict):
        data = error
    code = data.get("code")
    status_name = data.get("status")
    if isinstance(status_name, str) and status_name:
        name: str | None = status_name  # Google style: code is the HTTP status, status the gRPC name
    elif type(code) is int:
        name = GRPC_CODE_NAMES.get(code, str(code))
    else:
        name = code if isinstance(code, str) and code else None
    message = data.get("message")
    details = data.get("details")
    detail_list: list[Mapping[str, Any]] = (
        [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []
    )
    return _ErrorBody(name, message if isinstance(message, str) else None, detail_list, request_id)


def _refused_key(status: int, parts: _ErrorBody) -> bool:
    """Whether a 403 says the key itself is invalid (live Fireworks answers a bad key so), not that it lacks access."""
    if status != 403:  # noqa: PLR2004
        return False
    if parts.code in {"UNAUTHORIZED", "UNAUTHENTICATED"}:
        return True
    return bool(parts.message) and _INVALID_KEY.search(parts.message or "") is not None


def _reason(details: list[Mapping[str, Any]]) -> str | None:
    for detail in details:
        if detail.get("@type") == _ERROR_INFO_TYPE and isinstance(detail.get("reason"), str):
            return str(detail["reason"])
    return None


def _header(headers: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = headers.get(name)
        if value:
            return value
    return None


def error_from_response(response: RawResponse, *, now: float) -> APIStatusError:
    """The typed error for a non-2xx response; ``now`` (Unix seconds) resolves an HTTP-date ``Retry-After``."""
    parts = _error_body(response.body)
    message = parts.message
    if message is None:
        message = _snippet(response.body) if parts.code is None else "(no message)"
    error_class = AuthenticationError if _refused_key(response.status, parts) else status_error_class(response.status)
    return error_class(
        message,
        status=response.status,
        code=parts.code,
        details=parts.details,
        reason=_reason(parts.details),
        request_id=_header(response.headers, _REQUEST_ID_HEADERS) or parts.request_id,
        retry_after=retry_after_seconds(response.headers, now=now),
        url=response.url,
    )


def server_time_ns(date: str | None) -> int | None:
    """Nanoseconds since the epoch from an HTTP ``Date`` header (whole seconds), or ``None`` if absent or malformed.

    Example:
        >>> server_time_ns("Sun, 06 Nov 1994 08:49:37 GMT")
        784111777000000000
        >>> server_time_ns("yesterday") is None
        True
    """
    fields = parsedate(date) if date else None
    if fields is None:
        return None
    try:
        return calendar.timegm(fields) * 1_000_000_000
    except (ValueError, OverflowError):
        return None


def read_response(request: Request, response: RawResponse, model: type[T], *, now: float) -> T:
    """The model a 2xx response holds, or the typed error of any other status.

    Raises:
        APIStatusError: a subclass per status, for any non-2xx response.
        InvalidResponseError: a 2xx response whose body is not JSON or not the documented shape.
    """
    if not 200 <= response.status < 300:  # noqa: PLR2004
        raise error_from_response(response, now=now)
    try:
        if model is LogPage:
            page = decode_log_page(response.body)
            if page is not None:
                return cast("T", page)
        data = orjson.loads(response.body)
    except (orjson.JSONDecodeError, NotJSONError) as error:
        raise InvalidResponseError(
            request.endpoint,
            f"body is not JSON ({error})",
            status=response.status,
            transient=True,
            url=response.url,
        ) from None
    try:
        return converter.structure(data, model)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        problem = describe_error(error)
        raise InvalidResponseError(
            request.endpoint, problem, status=response.status, transient=False, url=response.url
        ) from None
    except ExceptionGroup as group:  # cattrs' detailed validation errors
        raise InvalidResponseError(
            request.endpoint, describe_error(group), status=response.status, transient=False, url=response.url
        ) from None
