"""Log reads and the follower through AsyncClient, with exact requests checked (aioresponses, aiohttp<3.14)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from aioresponses import CallbackResult
from logsim import NS, LogServerModel
from testkit import RecordingClock
from yarl import URL

import fwbatch_async as fw

BASE = "https://api.fireworks.example"
LOGS = re.compile(r"^https://api\.fireworks\.example/v1/accounts/acme/batchJobs/job-1:getLogs.*$")
T0 = 1_795_320_000 * NS


def wire(page: fw.LogPage) -> dict[str, Any]:
    data: dict[str, Any] = {
        "entries": [{"logTime": e.log_time.text, "rank": e.rank, "message": e.message} for e in page.entries]
    }
    if page.next_page_token is not None:
        data["nextPageToken"] = page.next_page_token
    return data


class ServedLog:
    """The log server model behind aioresponses: forward reads from the model, newest-first reads reversed."""

    def __init__(self, server: LogServerModel, clock: RecordingClock) -> None:
        self.server = server
        self.clock = clock
        self.urls: list[URL] = []
        self.failures: list[Callable[[URL], CallbackResult | None]] = []

    def __call__(self, url: URL, **_: Any) -> CallbackResult:
        self.urls.append(url)
        assert len(self.urls) < 10_000, "the client keeps polling: the test waits for entries that never come"
        for failure in list(self.failures):
            result = failure(url)
            if result is not None:
                return result
        query = url.query
        size = int(query.get("pageSize", "100"))
        start = fw.Timestamp.parse(query["startTime"]).ns if "startTime" in query else None
        if query.get("startFromHead") == "true":
            page = self.server.page(self.clock.now_ns, start, query.get("pageToken"), size)
            return CallbackResult(payload=wire(page))
        visible = [e for e in self.server.entries if e.visible_at <= self.clock.now_ns][::-1]
        offset = int(query.get("pageToken", "0"))
        chunk = visible[offset : offset + size]
        entries = [{"logTime": fw.Timestamp(e.ns).text, "rank": e.rank, "message": e.message} for e in chunk]
        more = offset + size < len(visible)
        return CallbackResult(payload={"entries": entries, **({"nextPageToken": str(offset + size)} if more else {})})


def lines(count: int, *, every: int = NS // 10, delay: int = 0) -> list[tuple[int, int, str, int]]:
    return [(T0 + i * every, i % 3, f"line {i}", delay) for i in range(count)]


@pytest.fixture
async def client(clock: RecordingClock) -> AsyncIterator[fw.AsyncClient]:
    async with fw.AsyncClient(api_key="k", account_id="acme", base_url=BASE, clock=clock) as c:
        yield c


def serve(mocked: Any, clock: RecordingClock, entries: list[tuple[int, int, str, int]]) -> ServedLog:
    served = ServedLog(LogServerModel(entries), clock)
    mocked.get(LOGS, callback=served, repeat=True)
    return served


# --- finite reads -------------------------------------------------------------------------------------------------


async def test_forward_pages_follow_tokens_with_every_other_parameter_unchanged(
    mocked: Any, client: fw.AsyncClient, clock: RecordingClock
) -> None:
    clock.now_ns = T0 + 100 * NS
    served = serve(mocked, clock, lines(25))
    pages = [
        page
        async for page in client.iter_log_pages(
            "job-1", start_time=fw.Timestamp(T0 + NS), ranks=[0, 1, 2], filter="line", page_size=10
        )
    ]
    assert [len(page.entries) for page in pages] == [10, 5]
    first, second = served.urls
    assert "pageToken" not in first.query
    assert {k: v for k, v in second.query.items() if k != "pageToken"} == dict(first.query.items())
    assert first.query.getall("ranks") == ["0", "1", "2"]
    assert first.query["startTime"] == "2026-11-22T04:00:01.000000000Z"


async def test_a_repeated_token_ends_a_forward_read_and_an_empty_page_with_a_token_does_not(
    mocked: Any, client: fw.AsyncClient
) -> None:
    entry = {"logTime": "2026-11-22T04:00:00Z", "message": "x"}
    mocked.get(LOGS, payload={"entries": [entry], "nextPageToken": "a"})
    mocked.get(LOGS, payload={"nextPageToken": "b"})
    mocked.get(LOGS, payload={"entries": [entry], "nextPageToken": "c"})
    mocked.get(LOGS, payload={"nextPageToken": "c"})
    mocked.get(LOGS, payload={"entries": [entry]}, repeat=True)
    entries = [e async for e in client.iter_logs("job-1")]
    assert len(entries) == 2
    assert sum(len(calls) for calls in mocked.requests.values()) == 4


async def test_backward_reads_come_newest_first(mocked: Any, client: fw.AsyncClient, clock: RecordingClock) -> None:
    clock.now_ns = T0 + 100 * NS
    served = serve(mocked, clock, lines(5))
    got = [e.message async for e in client.iter_logs("job-1", direction="backward")]
    assert got == ["line 4", "line 3", "line 2", "line 1", "line 0"]
    assert "startFromHead" not in served.urls[0].query


@pytest.mark.parametrize(("n", "requests", "page_size"), [(5, 1, "5"), (10_000, 1, "10000"), (25_000, 3, "10000")])
async def test_tail_reads_the_last_n_oldest_first_in_as_few_requests_as_possible(
    mocked: Any, client: fw.AsyncClient, clock: RecordingClock, n: int, requests: int, page_size: str
) -> None:
    clock.now_ns = T0 + 10_000 * NS
    served = serve(mocked, clock, lines(30_000, every=NS // 100))
    tail = await client.tail_logs("job-1", n)
    assert [e.message for e in tail] == [f"line {i}" for i in range(30_000 - n, 30_000)]
    assert len(served.urls) == requests
    assert {url.query["pageSize"] for url in served.urls} == {page_size}


async def test_tail_of_a_short_log_returns_all_of_it(
    mocked: Any, client: fw.AsyncClient, clock: RecordingClock
) -> None:
    clock.now_ns = T0 + 100 * NS
    serve(mocked, clock, lines(3))
    assert [e.message for e in await client.tail_logs("job-1", 10)] == ["line 0", "line 1", "line 2"]
    assert await client.tail_logs("job-1", 0) == []


async def test_bad_read_arguments_fail_before_any_request(mocked: Any, client: fw.AsyncClient) -> None:
    with pytest.raises(ValueError, match="direction"):
        client.iter_logs("job-1", direction="sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n must be"):
        await client.tail_logs("job-1", -1)
    with pytest.raises(ValueError, match="at most one"):
        client.follow_logs("job-1", last=5, from_start=True)
    with pytest.raises(ValueError, match="page_size"):
        client.follow_logs("job-1", page_size=0)
    with pytest.raises(ValueError, match="last"):
        client.follow_logs("job-1", last=-1)
    with pytest.raises(ValueError, match="since: naive"):
        client.follow_logs("job-1", since=datetime(2026, 11, 22, 4))
    with pytest.raises(ValueError, match="since: not an RFC 3339"):
        client.follow_logs("job-1", since="2026-11-22T04:00:00")
    assert mocked.requests == {}


# --- following ----------------------------------------------------------------------------------------------------


async def take(logs: fw.FollowLogs, count: int) -> list[fw.LogEntry]:
    got = []
    async for entry in logs:
        got.append(entry)
        if len(got) == count:
            break
    return got


async def keep_following_until(
    logs: fw.FollowLogs, done: Callable[[], bool], clock: RecordingClock, *, deadline: int
) -> None:
    """Let the follow poll on (in virtual time) until ``done()``, then stop it."""
    task = asyncio.create_task(take(logs, 1))

    def stop_when_done() -> None:
        if done() or clock.now_ns >= deadline:
            task.cancel()

    clock.on_sleep = stop_when_done
    with contextlib.suppress(asyncio.CancelledError):
        await task
    clock.on_sleep = None


async def test_follow_from_the_start_delivers_lines_as_they_are_written(
    mocked: Any, client: fw.AsyncClient, clock: RecordingClock
) -> None:
    clock.now_ns = T0
    entries = [*lines(50, every=NS // 5, delay=0), (T0 + 3 * NS, 7, "late", 2 * NS)]
    serve(mocked, clock, entries)
    async with client.follow_logs("job-1", from_start=True, lookback=5.0) as logs:
        got = await take(logs, 51)
    assert Counter(e.message for e in got) == Counter(e[2] for e in entries)
    assert logs.stats.late_entries == 1
    assert logs.stats.entries_delivered == 51
    assert logs.stats.requests >= logs.stats.reads


async def test_follow_with_last_shows_the_tail_then_only_new_lines(
    mocked: Any, client: fw.AsyncClient, clock: RecordingClock
) -> None:
    clock.now_ns = T0 + 10 * NS  # lines 0..100 are there, 101..199 come later
    served = serve(mocked, clock, lines(200))
    async with client.follow_logs("job-1", last=3) as logs:
        got = await take(logs, 3 + 99)
    assert [e.message for e in got] == [f"line {i}" for i in range(98, 200)]
    assert "startFromHead" not in served.urls[0].query  # the tail is read newest first


async def test_follow_since_a_timedelta_starts_that_long_ago_on_the_clients_clock(
    mocked: Any, client: fw.AsyncClient, clock: RecordingClock
) -> None:
    clock.now_ns = T0 + 10 * NS
    served = serve(mocked, clock, lines(100))
    async with client.follow_logs("job-1", since=timedelta(seconds=2)) as logs:
        got = await take(logs, 20)
    assert got[0].message == "line 80"
    assert served.urls[0].query["startTime"] == "2026-11-22T04:00:08.000000000Z"


async def test_a_log_that_ends_on_a_full_page_is_not_polled_without_pause(
    mocked: Any, client: fw.AsyncClient, clock: RecordingClock
) -> None:
    clock.now_ns = T0 + 100 * NS
    served = serve(mocked, clock, lines(20))  # two full pages of 10, and no token after the second
    async with client.follow_logs("job-1", from_start=True, page_size=10) as logs:
        assert len(await take(logs, 20)) == 20
        await keep_following_until(logs, lambda: True, clock, deadline=clock.now_ns)  # stop at the first pause
    assert len(served.urls) <= 4  # the read, and one more read at once because it ended on a full page


async def test_a_rejected_page_token_restarts_the_read_without_repeating_lines(
    mocked: Any, client: fw.AsyncClient, clock: RecordingClock
) -> None:
    clock.now_ns = T0 + 100 * NS
    served = serve(mocked, clock, lines(30))
    rejected: list[URL] = []

    def reject_first_token(url: URL) -> CallbackResult | None:
        if "pageToken" in url.query and not rejected:
            rejected.append(url)
            return CallbackResult(status=400, payload={"code": 3, "message": "invalid page token"})
        return None

    served.failures.append(reject_first_token)
    async with client.follow_logs("job-1", from_start=True, page_size=10) as logs:
        got = await take(logs, 30)
    assert [e.message for e in got] == [f"line {i}" for i in range(30)]
    assert logs.stats.token_restarts == 1
    assert rejected


async def test_a_throttling_storm_slows_the_follow_but_does_not_end_it(
    mocked: Any, clock: RecordingClock, caplog: pytest.LogCaptureFixture
) -> None:
    clock.now_ns = T0 + 100 * NS
    served = serve(mocked, clock, lines(20))
    storm = {"left": 7}

    def throttle(url: URL) -> CallbackResult | None:
        if storm["left"]:
            storm["left"] -= 1
            return CallbackResult(status=429, payload={"code": 8, "message": "slow down"}, headers={"Retry-After": "2"})
        return None

    served.failures.append(throttle)
    policy = fw.RetryPolicy(max_attempts=3)
    async with (
        fw.AsyncClient(api_key="k", account_id="acme", base_url=BASE, clock=clock, retry=policy) as client,
        client.follow_logs("job-1", from_start=True) as logs,
    ):
        got = await take(logs, 20)
    assert len(got) == 20
    # One retry layer: each 429 is one failed request, waited out for as long as the server asked.
    assert logs.stats.failures == 7
    assert logs.stats.retries == 7
    assert clock.sleeps.count(2.0) == 7
    # Throttling is not an outage: the client's send rate answers it, and no warning says requests keep failing.
    assert "keep failing" not in caplog.text


async def test_errors_that_retrying_cannot_fix_end_the_follow(mocked: Any, client: fw.AsyncClient) -> None:
    mocked.get(LOGS, status=404, payload={"code": 5, "message": "no such batch job"}, repeat=True)
    async with client.follow_logs("job-1", from_start=True) as logs:
        with pytest.raises(fw.NotFoundError):
            await take(logs, 1)


async def test_a_cursor_resumes_in_a_new_client_with_nothing_repeated_or_missed(
    mocked: Any, clock: RecordingClock
) -> None:
    clock.now_ns = T0 + 2 * NS
    entries = lines(60, every=NS // 10)
    serve(mocked, clock, entries)
    async with (
        fw.AsyncClient(api_key="k", account_id="acme", base_url=BASE, clock=clock) as first,
        first.follow_logs("job-1", from_start=True, page_size=7) as logs,
    ):
        before = await take(logs, 12)
        saved = logs.cursor.to_json()
    clock.now_ns = T0 + 100 * NS  # time passes; the rest of the lines are written
    async with (
        fw.AsyncClient(api_key="k", account_id="acme", base_url=BASE, clock=clock) as second,
        second.follow_logs("job-1", cursor=saved, page_size=7) as resumed,
    ):
        after = await take(resumed, 48)
    assert Counter(e.message for e in before + after) == Counter(e[2] for e in entries)


async def test_a_cursor_from_another_query_is_refused(mocked: Any, client: fw.AsyncClient) -> None:
    async with client.follow_logs("job-1", since="2026-11-22T04:00:00Z", ranks=[1]) as logs:
        cursor = logs.cursor
    with pytest.raises(ValueError, match="another job, ranks or filter"):
        client.follow_logs("job-1", cursor=cursor)
    assert client.follow_logs("job-1", cursor=cursor, ranks=[1]) is not None


async def test_a_malformed_log_time_is_an_invalid_response(mocked: Any, client: fw.AsyncClient) -> None:
    mocked.get(LOGS, payload={"entries": [{"logTime": "2026-02-30T00:00:00Z", "message": "x"}]}, repeat=True)
    async with client.follow_logs("job-1", from_start=True) as logs:
        with pytest.raises(fw.InvalidResponseError, match="timestamp"):
            await take(logs, 1)


async def test_lines_that_arrive_later_than_the_window_are_reported(
    mocked: Any, clock: RecordingClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    clock.now_ns = T0
    # 4.5 s late: beyond the 3 s lookback, within the 3 s audit span below it.
    entries = [*lines(100, every=NS // 5), (T0 + 5 * NS, 9, "very late", 4 * NS + NS // 2)]
    serve(mocked, clock, entries)
    async with (
        fw.AsyncClient(api_key="k", account_id="acme", base_url=BASE, clock=clock) as client,
        # Without jitter, so the window's edge at each poll is known: how far back a poll reaches depends on when.
        client.follow_logs(
            "job-1", from_start=True, lookback=3.0, poll=fw.PollPolicy(max_interval=0.5, jitter=0.0)
        ) as logs,
    ):
        got = await take(logs, 100)
        await keep_following_until(logs, lambda: logs.stats.possibly_missed > 0, clock, deadline=T0 + 60 * NS)
    assert "very late" not in {e.message for e in got}
    assert logs.stats.possibly_missed == 1
    assert "arrived more than the lookback" in caplog.text
