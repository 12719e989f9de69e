"""A client's configuration: the key, the account and the address from arguments or the environment, checked once.

Nothing here sends anything; every check raises ``ValueError`` or ``TypeError`` naming the argument, and the key is
never echoed (messages can end up in logs).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

import attrs
from yarl import URL

from ._core.errors import ArgumentError
from ._core.plans import check_seconds
from ._core.requests import check_account_id
from ._version import __version__

if TYPE_CHECKING:
    import aiohttp

__all__ = ["DEFAULT_BASE_URL", "ClientConfig", "Headers", "Secret", "unique_ids"]

DEFAULT_BASE_URL: Final = "https://api.fireworks.ai"
"""Where the client sends requests unless ``base_url=`` or ``FIREWORKS_BASE_URL`` says otherwise.

Example:
    Pointing a client at the local emulator instead::

        client = fw.AsyncClient(api_key="emulator-key", base_url="http://127.0.0.1:8080")
"""


class Secret:
    """A credential whose repr is a placeholder, so a debugger, log line or ``vars()`` cannot show it."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<hidden>"


class Headers(dict[str, str]):
    """Request headers whose repr hides the credential, so a debugger or log line cannot show it."""

    def __repr__(self) -> str:
        return repr({k: ("<hidden>" if k == "Authorization" else v) for k, v in self.items()})


def _api_key(api_key: str | None) -> str:
    if api_key is None:
        raise ArgumentError("no API key: pass api_key= or set FIREWORKS_API_KEY")
    if not isinstance(api_key, str):
        raise TypeError(f"api_key must be a str, not {type(api_key).__name__}")
    if not api_key or api_key != api_key.strip() or any(ch.isspace() or ord(ch) < 32 for ch in api_key):  # noqa: PLR2004
        raise ArgumentError("api_key is empty or contains whitespace or control characters")
    return api_key


def _check_timeout(timeout: object) -> None:
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        check_seconds("timeout", timeout)
        return
    # A ClientTimeout can only exist if its caller imported aiohttp, so looking it up costs no import.
    aiohttp = sys.modules.get("aiohttp")
    if aiohttp is None or not isinstance(timeout, aiohttp.ClientTimeout):
        raise ArgumentError(f"timeout must be positive seconds or an aiohttp.ClientTimeout, got {timeout!r}")


def _base_url(base_url: str, *, allow_insecure_http: bool) -> str:
    from ._transport import is_loopback_host  # noqa: PLC0415 - defers importing aiohttp

    url = URL(base_url)
    if url.scheme not in {"http", "https"} or not url.host:
        raise ArgumentError(f"base_url must be an http(s) URL with a host, got {base_url!r}")
    if url.query_string or url.fragment or url.user or url.password:
        raise ArgumentError(f"base_url must not carry a query, fragment or credentials, got {url.with_user(None)!s}")
    if url.scheme == "http" and not allow_insecure_http and not is_loopback_host(url.host):
        raise ArgumentError(
            f"base_url {base_url!r} is plain http to a non-loopback host, which would send the API key in clear "
            "text; use https, or pass allow_insecure_http=True if you really mean it"
        )
    return str(url).rstrip("/")


def unique_ids(ids: Iterable[str]) -> list[str]:
    """The ids given, each once, in order; a lone string (which would be iterated by character) is refused."""
    if isinstance(ids, str):
        raise TypeError(f"job_ids must be a list of ids, not the single string {ids[:80]!r}")
    unique = list(dict.fromkeys(ids))
    if not unique:
        raise ArgumentError("job_ids must not be empty")
    return unique


@attrs.frozen(kw_only=True)
class ClientConfig:
    """Everything a client was configured with, checked."""

    base_url: str
    account_id: str | None
    headers: Headers = attrs.field(repr=False)
    secret: Secret = attrs.field(repr=False)
    timeout: float | aiohttp.ClientTimeout
    max_in_flight: int
    max_rate: float | None
    allow_insecure_http: bool

    @classmethod
    def create(
        cls,
        *,
        api_key: str | None,
        account_id: str | None,
        base_url: str | None,
        timeout: float | aiohttp.ClientTimeout,
        max_in_flight: int,
        max_rate: float | None,
        allow_insecure_http: bool,
    ) -> ClientConfig:
        """Check the arguments; ``FIREWORKS_API_KEY``, ``FIREWORKS_ACCOUNT_ID``, ``FIREWORKS_BASE_URL`` fill gaps."""
        key = _api_key(api_key if api_key is not None else os.environ.get("FIREWORKS_API_KEY"))
        account = account_id if account_id is not None else os.environ.get("FIREWORKS_ACCOUNT_ID") or None
        if account is not None:
            check_account_id(account)
        if type(max_in_flight) is not int or max_in_flight < 1:
            raise ArgumentError(f"max_in_flight must be a positive int, got {max_in_flight!r}")
        _check_timeout(timeout)
        if max_rate is not None:
            check_seconds("max_rate", max_rate)  # a positive number, as a duration is
        url = _base_url(
            base_url or os.environ.get("FIREWORKS_BASE_URL") or DEFAULT_BASE_URL,
            allow_insecure_http=allow_insecure_http,
        )
        headers = Headers(
            {
                "Authorization": f"Bearer {key}",
                "Accept": "application/json",
                "User-Agent": f"fwbatch-async/{__version__}",
            }
        )
        return cls(
            base_url=url,
            account_id=account,
            headers=headers,
            secret=Secret(key),
            timeout=timeout,
            max_in_flight=max_in_flight,
            max_rate=None if max_rate is None else float(max_rate),
            allow_insecure_http=allow_insecure_http,
        )
