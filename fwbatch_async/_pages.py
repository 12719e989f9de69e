"""Finite paged reads: every page of a log read or of the job list, following tokens to the end, and a log's tail.

Each request is one call of the client's sender (retried by its policy); the reads pull, page by page, as the
consumer asks, and keep no page alive while the next one is decoded.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

from ._core.models import BatchInferenceJob, JobListPage, LogEntry, LogPage
from ._core.requests import JobListQuery, LogQuery
from ._sender import Sender

__all__ = ["iter_entries", "iter_job_pages", "iter_log_pages", "read_tail"]


async def iter_log_pages(sender: Sender, query: LogQuery) -> AsyncGenerator[LogPage]:
    """Every page of one read, following tokens with every other parameter unchanged.

    The read ends when the server sends no token, or sends back the token it was given (caught up). An empty page
    with a new token is not the end.
    """
    token: str | None = None
    while True:
        page = (await sender.call(query.request(token), LogPage)).value
        yield page
        next_token = page.next_page_token
        del page  # not alive while the next page is decoded
        if next_token is None or next_token == token:
            return
        token = next_token


async def iter_entries(pages: AsyncGenerator[LogPage]) -> AsyncGenerator[LogEntry]:
    """The entries of ``pages``, in order."""
    async with aclosing(pages):
        async for page in pages:
            for entry in page.entries:
                yield entry
            del page


async def read_tail(sender: Sender, query: LogQuery, n: int) -> list[LogEntry]:
    """The last ``n`` entries, oldest first; ``query`` must read backwards with a page size of min(n, 10,000)."""
    newest_first: list[LogEntry] = []
    async with aclosing(iter_log_pages(sender, query)) as pages:
        async for page in pages:
            newest_first.extend(page.entries)
            if len(newest_first) >= n:
                break
    return newest_first[n - 1 :: -1] if len(newest_first) >= n else newest_first[::-1]


async def iter_job_pages(sender: Sender, query: JobListQuery) -> AsyncGenerator[BatchInferenceJob]:
    """Every job of a listing, page after page."""
    token: str | None = None
    while True:
        page = (await sender.call(query.request(token), JobListPage)).value
        for job in page.jobs:
            yield job
        # A token that comes back unchanged would page forever.
        if page.next_page_token is None or page.next_page_token == token:
            return
        token = page.next_page_token
