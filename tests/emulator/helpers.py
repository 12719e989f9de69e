"""Raw HTTP against a running emulator: every response body is validated against the seed schemas."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
import attrs
import orjson

from fwbatch_async.emulator import Emulator

from . import schemas

Params = Mapping[str, str] | Sequence[tuple[str, str]]
Entry = tuple[str, int, str]


@attrs.frozen
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes
    data: Any

    def entries(self) -> list[Entry]:
        return [(e["logTime"], e.get("rank", 0), e.get("message", "")) for e in self.data.get("entries", [])]

    @property
    def token(self) -> str | None:
        token: str | None = self.data.get("nextPageToken")
        return token


class Api:
    """A raw client: builds URLs, sends the key, validates every body it receives."""

    def __init__(self, session: aiohttp.ClientSession, emulator: Emulator[Any]) -> None:
        self.session = session
        self.emu = emulator
        self.account = emulator.account_id

    def _schema(self, path: str, status: int) -> dict[str, Any]:
        if status != 200:
            return schemas.ERROR_SCHEMA
        realism = self.emu.realism
        options = {
            "strict": not realism.unknown_fields,
            "int64_strings": realism.int64_as_strings,
            "any_state": realism.unknown_state,
        }
        if path.endswith(":getLogs"):
            return schemas.logs_response_schema(strict=options["strict"])
        if path.endswith("/batchInferenceJobs"):
            return schemas.list_response_schema(**options)
        return schemas.job_schema(**options)

    async def get(
        self,
        path: str,
        params: Params = (),
        *,
        auth: str | None = "default",
    ) -> Reply:
        headers = {}
        if auth == "default":
            headers["Authorization"] = f"Bearer {self.emu.api_key}"
        elif auth is not None:
            headers["Authorization"] = auth
        async with self.session.get(
            self.emu.base_url + path, params=params, headers=headers, timeout=aiohttp.ClientTimeout(total=30)
        ) as response:
            body = await response.read()
            data = self.check(path, response.status, response.content_type, body)
            return Reply(response.status, response.headers, body, data)

    def check(self, path: str, status: int, content_type: str, body: bytes) -> Any:
        """Validate a JSON body against its schema and return it decoded (None for other bodies)."""
        if content_type != "application/json":
            return None
        data = orjson.loads(body)
        schemas.validate(data, self._schema(path, status))
        return data

    def job_path(self, job_id: str, account: str | None = None) -> str:
        return f"/v1/accounts/{account or self.account}/batchInferenceJobs/{job_id}"

    def logs_path(self, job_id: str, account: str | None = None) -> str:
        return f"/v1/accounts/{account or self.account}/batchJobs/{job_id}:getLogs"

    def list_path(self, account: str | None = None) -> str:
        return f"/v1/accounts/{account or self.account}/batchInferenceJobs"

    async def job(self, job_id: str, params: Params = ()) -> Reply:
        return await self.get(self.job_path(job_id), params)

    async def logs(self, job_id: str, params: Params = ()) -> Reply:
        return await self.get(self.logs_path(job_id), params)

    async def list_jobs(self, params: Params = ()) -> Reply:
        return await self.get(self.list_path(), params)

    async def read_all(self, job_id: str, params: Params = ()) -> tuple[list[Entry], int]:
        """Follow tokens to the end; return the entries in page order and the number of pages."""
        base = list(params.items()) if isinstance(params, Mapping) else list(params)
        entries: list[Entry] = []
        pages, token = 0, None
        while True:
            reply = await self.logs(job_id, [*base, ("pageToken", token)] if token else base)
            assert reply.status == 200, reply.body
            pages += 1
            entries += reply.entries()
            if reply.token is None or reply.token == token:
                return entries, pages
            token = reply.token


def error_of(reply: Reply) -> tuple[int, str]:
    """(numeric code, ErrorInfo reason) of an error reply."""
    assert reply.data is not None
    return reply.data["code"], reply.data["details"][0]["reason"]


def ns_of(text: str) -> int:
    """Nanoseconds of an RFC 3339 UTC ``Z`` timestamp, computed independently of the emulator's code."""
    match = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z", text)
    assert match, text
    seconds = calendar.timegm((*(int(g) for g in match.groups()[:6]), 0, 0, 0))
    fraction = match.group(7) or ""
    return seconds * 10**9 + (int(fraction.ljust(9, "0")) if fraction else 0)
