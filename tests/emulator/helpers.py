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
        """The next page token; ``""`` (written out live when there is none) counts as none."""
        token: str | None = self.data.get("nextPageToken") or None
        return token


class Api:
    """A raw client: builds URLs, sends the key, validates every body it receives."""

    def __init__(self, session: aiohttp.ClientSession, emulator: Emulator[Any]) -> None:
        self.session = session
        self.emu = emulator
        self.account = emulator.account_id

    def _schema(self, path: str, status: int, method: str = "GET", *, masked: bool = False) -> dict[str, Any]:
        if status != 200:
            return schemas.ERROR_SCHEMA if self.emu.realism.auth_401 and status == 401 else schemas.error_schema(status)
        if method == "DELETE":
            return schemas.EMPTY_SCHEMA
        realism = self.emu.realism
        # A read mask keeps only some fields: complete means every field written that is asked for.
        strict, complete = not realism.unknown_fields, not (realism.omit_defaults or masked)
        options = {
            "strict": strict,
            "complete": complete,
            "int64_strings": realism.int64_as_strings,
            "any_state": realism.unknown_state,
        }
        if path.endswith(":getLogs"):
            return schemas.logs_response_schema(strict=strict, complete=complete)
        if path.endswith("/batchInferenceJobs"):
            return schemas.list_response_schema(**options)
        if "/batchJobs/" in path:
            return schemas.batch_job_schema(strict=strict, complete=complete)
        return schemas.job_schema(**options)

    async def get(
        self,
        path: str,
        params: Params = (),
        *,
        auth: str | None = "default",
        method: str = "GET",
    ) -> Reply:
        headers = {}
        if auth == "default":
            headers["Authorization"] = f"Bearer {self.emu.api_key}"
        elif auth is not None:
            headers["Authorization"] = auth
        async with self.session.request(
            method,
            self.emu.base_url + path,
            params=params,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=30),
        ) as response:
            body = await response.read()
            names = params.keys() if isinstance(params, Mapping) else [name for name, _ in params]
            masked = bool({"readMask", "read_mask"} & set(names))
            data = self.check(path, response.status, response.content_type, body, method, masked=masked)
            return Reply(response.status, response.headers, body, data)

    def check(
        self, path: str, status: int, content_type: str, body: bytes, method: str = "GET", *, masked: bool = False
    ) -> Any:
        """Validate a JSON body against its schema and return it decoded (None for other bodies)."""
        if content_type != "application/json":
            return None
        data = orjson.loads(body)
        schemas.validate(data, self._schema(path, status, method, masked=masked))
        return data

    def job_path(self, job_id: str, account: str | None = None) -> str:
        return f"/v1/accounts/{account or self.account}/batchInferenceJobs/{job_id}"

    def logs_path(self, job_id: str, account: str | None = None, cluster: str | None = None) -> str:
        return self.batch_job_path(job_id, account, cluster) + ":getLogs"

    def batch_job_path(self, job_id: str, account: str | None = None, cluster: str | None = None) -> str:
        under = f"/clusters/{cluster}" if cluster else ""
        return f"/v1/accounts/{account or self.account}{under}/batchJobs/{job_id}"

    def list_path(self, account: str | None = None) -> str:
        return f"/v1/accounts/{account or self.account}/batchInferenceJobs"

    async def job(self, job_id: str, params: Params = ()) -> Reply:
        return await self.get(self.job_path(job_id), params)

    async def logs(self, job_id: str, params: Params = ()) -> Reply:
        return await self.get(self.logs_path(job_id), params)

    async def batch_job(self, job_id: str, params: Params = (), cluster: str | None = None) -> Reply:
        return await self.get(self.batch_job_path(job_id, cluster=cluster), params)

    async def delete(self, job_id: str) -> Reply:
        return await self.get(self.job_path(job_id), method="DELETE")

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
    """(numeric code, ErrorInfo reason) of a google.rpc.Status error reply."""
    assert reply.data is not None
    return reply.data["code"], reply.data["details"][0]["reason"]


def ns_of(text: str) -> int:
    """Nanoseconds of an RFC 3339 UTC ``Z`` timestamp, computed independently of the emulator's code."""
    match = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z", text)
    assert match, text
    seconds = calendar.timegm((*(int(g) for g in match.groups()[:6]), 0, 0, 0))
    fraction = match.group(7) or ""
    return seconds * 10**9 + (int(fraction.ljust(9, "0")) if fraction else 0)
