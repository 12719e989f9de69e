"""Sending one GET with aiohttp: the one place that touches aiohttp's request API.

Transport failures become :class:`~fwbatch_async.APIConnectionError` / :class:`~fwbatch_async.APITimeoutError`
here, the one place they are mapped, with aiohttp's exception kept as the cause; no aiohttp exception escapes the
client. A body is read up to ``MAX_BODY`` bytes: a server cannot make the client hold more. Redirects are followed
by hand so the rules are ours: the ``Authorization`` header never goes to another origin, and never over plain HTTP
to a non-loopback host. This module is imported on first use: aiohttp takes longer to import than the rest of the
package together.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Final

import aiohttp
from yarl import URL

from ._core.errors import APIConnectionError, APITimeoutError, ClientClosedError, InvalidResponseError
from ._core.responses import RawResponse

__all__ = ["MAX_BODY", "Transport", "is_loopback_host"]

MAX_BODY: Final = 64 * 1024 * 1024
"""The largest response body read, in bytes: a full page of 10,000 long log lines is a few megabytes."""
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5


def is_loopback_host(host: str | None) -> bool:
    """Whether ``host`` is this machine (``localhost``, 127.0.0.0/8, ``::1``): plain HTTP is safe there."""
    if not host:
        return False
    if host.lower() in {"localhost", "localhost."}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _without_authorization(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name.lower() != "authorization"}


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


async def _read_body(response: aiohttp.ClientResponse, url: str) -> bytes:
    """The whole body, or :class:`InvalidResponseError` once it passes ``MAX_BODY`` (announced or read)."""
    if response.content_length is not None:
        if response.content_length > MAX_BODY:
            raise _too_large(response.status, url)
        return await response.read()  # announced and small enough: read at once, with no copy of ours
    body = bytearray()
    async for chunk in response.content.iter_chunked(1 << 20):
        body += chunk
        if len(body) > MAX_BODY:
            raise _too_large(response.status, url)
    return bytes(body)


def _too_large(status: int, url: str) -> InvalidResponseError:
    return InvalidResponseError(
        "response", f"body larger than {MAX_BODY // (1024 * 1024)} MiB", status=status, transient=False, url=url
    )


class Transport:
    """An aiohttp session (owned or lent) and the rules for using it."""

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession | None,
        timeout: aiohttp.ClientTimeout,
        max_connections: int,
        allow_insecure_http: bool,
    ) -> None:
        self._lent = session
        self._session = session
        self._timeout = timeout
        self._max_connections = max_connections
        self._allow_insecure_http = allow_insecure_http
        self._closed = False

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            # A request that started before aclose() must not open a new session nobody would close.
            raise ClientClosedError("this AsyncClient is closed")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                timeout=self._timeout,
                cookie_jar=aiohttp.DummyCookieJar(),  # the API sets no cookies we should send back
            )
        return self._session

    async def aclose(self) -> None:
        """Close the session if this transport created it; a lent session stays open for its owner."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and session is not self._lent:
            await session.close()

    def _follow(self, current: URL, location: str, headers: Mapping[str, str]) -> tuple[URL, Mapping[str, str]]:
        target = current.join(URL(location))
        if target.scheme not in {"http", "https"}:
            raise APIConnectionError(f"refusing to follow a redirect to {target.scheme}:", url=str(current))
        if target.scheme == "http" and not self._allow_insecure_http and not is_loopback_host(target.host):
            raise APIConnectionError(
                f"refusing to follow a redirect to plain http://{target.host}; pass allow_insecure_http=True",
                url=str(current),
            )
        if target.origin() != current.origin():
            headers = _without_authorization(headers)
        return target, headers

    async def get(self, url: str, headers: Mapping[str, str]) -> RawResponse:
        """GET ``url`` (already percent-encoded) and read the whole body.

        Raises:
            APITimeoutError: no complete response within the timeout.
            APIConnectionError: no complete HTTP response (refused, reset, cut-off body, bad redirect).
        """
        target = URL(url, encoded=True)
        for _ in range(_MAX_REDIRECTS + 1):
            session = self._get_session()  # again after a redirect: the client may have been closed meanwhile
            try:
                async with session.get(target, headers=headers, allow_redirects=False) as response:
                    body = await _read_body(response, str(target))
            except TimeoutError as error:
                raise APITimeoutError(
                    f"no response within the timeout ({_describe(error)})", url=str(target)
                ) from error
            except aiohttp.ClientError as error:
                raise APIConnectionError(_describe(error), url=str(target)) from error
            location = response.headers.get("Location")
            if response.status in _REDIRECT_STATUSES and location:
                target, headers = self._follow(target, location, headers)
                continue
            return RawResponse(response.status, response.headers, body, str(target))
        raise APIConnectionError(f"more than {_MAX_REDIRECTS} redirects", url=str(target))
