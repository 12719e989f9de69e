"""Credentials from firectl's ``~/.fireworks/auth.ini``, used where neither a flag nor the environment gives them.

firectl (``firectl set-api-key``, ``firectl signin``) writes ``key = value`` lines without a section header, such as
``api_key = fw_...`` and ``account_id = my-account``; a named profile (``firectl --profile NAME``) lives in
``~/.fireworks/profiles/NAME/auth.ini``. This layout is not published by Fireworks: it is how Fireworks' own Python
tools read the file. Only ``api_key`` and ``account_id`` are read; other lines (tokens of a sign-in, comments,
section headers) are skipped.
"""

from __future__ import annotations

from pathlib import Path

import attrs

__all__ = ["Credentials", "auth_file", "complete_credentials", "parse_credentials", "read_credentials"]

_KEYS = ("api_key", "account_id")
_QUOTES = ('"', "'")


@attrs.frozen
class Credentials:
    """The API key and the account, each ``None`` where not known."""

    api_key: str | None = attrs.field(default=None, repr=False)  # a secret: never in a repr, a log or a traceback
    account_id: str | None = None


def auth_file(home: Path, profile: str | None) -> Path:
    """Where firectl keeps the credentials of ``profile`` (the default ones when ``None``).

    Example:
        >>> auth_file(Path("/home/me"), "staging").as_posix()
        '/home/me/.fireworks/profiles/staging/auth.ini'
    """
    base = home / ".fireworks"
    return base / "auth.ini" if profile is None else base / "profiles" / profile / "auth.ini"


def _value(text: str) -> str:
    text = text.strip()
    if len(text) > 1 and text[0] in _QUOTES and text.endswith(text[0]):
        return text[1:-1]
    return text


def parse_credentials(text: str) -> Credentials:
    r"""The ``api_key`` and ``account_id`` of an auth.ini's text.

    Example:
        >>> credentials = parse_credentials("# firectl\napi_key = fw_123\naccount_id='acme'\n")
        >>> credentials.api_key, credentials.account_id
        ('fw_123', 'acme')
        >>> credentials
        Credentials(account_id='acme')
    """
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, raw = line.partition("=")
        key, value = key.strip(), _value(raw)
        if sep and key in _KEYS and key not in found and value:
            found[key] = value
    return Credentials(**found)


def read_credentials(home: Path, profile: str | None) -> Credentials:
    """The credentials in the auth.ini of ``profile`` under ``home``; none when the default file is missing.

    Raises:
        ValueError: ``profile`` was named but has no auth.ini, or the file cannot be read.
    """
    if profile is not None and (not profile or "/" in profile or profile in {".", ".."}):
        raise ValueError(f"--profile {profile!r} is not a profile name")
    path = auth_file(home, profile)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if profile is None:
            return Credentials()
        raise ValueError(f"--profile {profile}: no such profile (no {path})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read {path}: {error}") from None
    return parse_credentials(text)


def complete_credentials(given: Credentials, *, profile: str | None, home: Path) -> Credentials:
    """``given`` (flags, then environment), with what it lacks taken from the auth.ini of ``profile``.

    The file is read only when something is missing or a profile was named (which must exist).

    Raises:
        ValueError: as :func:`read_credentials`.
    """
    if profile is None and given.api_key and given.account_id:
        return given
    stored = read_credentials(home, profile)
    return Credentials(given.api_key or stored.api_key, given.account_id or stored.account_id)
