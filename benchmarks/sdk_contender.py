"""The official ``fireworks-ai`` SDK reading log pages: its async client, its httpx stack, its typed parsing.

The SDK has no log method, so pages are read with its generic ``AsyncFireworks.get`` and paged by hand. The
models are declared the way the SDK's generated types are (``fireworks._models.BaseModel``, camelCase aliases,
``datetime`` times), so a page is parsed exactly as the SDK parses any response: with its default lenient
``construct_type``, which builds the models and parses every time into a ``datetime`` (microseconds only).
Import this module only when ``fireworks`` is installed (the bench and tests sessions have it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fireworks import AsyncFireworks
from fireworks._models import BaseModel
from harness import page_params
from pydantic import Field


class SdkLogEntry(BaseModel):
    log_time: datetime | None = Field(alias="logTime", default=None)
    rank: int | None = None
    message: str | None = None


class SdkLogPage(BaseModel):
    entries: list[SdkLogEntry] | None = None
    next_page_token: str | None = Field(alias="nextPageToken", default=None)


@asynccontextmanager
async def sdk_client(base_url: str, account: str) -> AsyncIterator[AsyncFireworks]:
    async with AsyncFireworks(api_key="k", account_id=account, base_url=base_url) as client:
        yield client


def sdk_reader(client: AsyncFireworks, path: str, page_size: int) -> Callable[[], Awaitable[int]]:
    """Read every page of the log at ``path``, oldest first; the number of entries read."""

    async def run() -> int:
        count, token = 0, None
        while True:
            page = await client.get(path, cast_to=SdkLogPage, options={"params": page_params(page_size, token)})
            for _entry in page.entries or ():
                count += 1
            token = page.next_page_token
            if not token:
                return count

    return run
