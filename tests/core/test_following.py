"""The follow machine's rules, one table row each: no clock, no event loop, no server (design §6, issue 15).

Each test feeds the machine pages and failures by hand and reads what it asks next: the request (its parameters),
a wait (until when), or the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qs

import pytest

import fwbatch_async as fw
from fwbatch_async._core.actions import DONE, Wait
from fwbatch_async._core.convert import converter
from fwbatch_async._core.following import MAX_EMPTY_PAGES, FollowMachine, FollowSettings, FollowStart
from fwbatch_async._core.plans import FollowPlan
from fwbatch_async._core.requests import Request
from fwbatch_async._core.selection import LogSelection
from fwbatch_async._core.window import WindowSettings

NS = 1_000_000_000
T0 = 1_795_320_000 * NS
LOOKBACK = 3.0
STEADY = fw.PollPolicy(min_interval=0.5, max_interval=4.0, jitter=0.0)


def entry(seconds: float, message: str = "m", rank: int = 0) -> fw.LogEntry:
    return fw.LogEntry(fw.Timestamp(T0 + round(seconds * NS)), rank, message)


def page(*entries: fw.LogEntry, token: str | None = None) -> fw.LogPage:
    return fw.LogPage(tuple(entries), token)


def lines(count: int, *, start: float = 0.0, every: float = 0.1) -> list[fw.LogEntry]:
    return [entry(start + i * every, f"line {i}") for i in range(count)]


def machine(
    start: FollowStart | None = None,
    *,
    page_size: int = 10,
    poll: fw.PollPolicy = STEADY,
    retry: fw.RetryPolicy | None = None,
) -> FollowMachine:
    settings = FollowSettings(
        window=WindowSettings(lookback=LOOKBACK, audit=LOOKBACK),
        poll=poll,
        retry=(retry or fw.RetryPolicy(base_delay=1.0, max_delay=8.0)).patient(),
        page_size=page_size,
    )
    plan = FollowPlan(
        account_id="acct",
        selection=LogSelection(page_size=page_size),
        start=start or FollowStart(),
        settings=settings,
    )
    return plan.machine("job-1", random=lambda: 1.0)  # full jitter at its top: delays are their caps


def params(action: object) -> dict[str, list[str]]:
    assert isinstance(action, Request), f"expected a request, got {action!r}"
    return parse_qs(action.query)


def request(follow: FollowMachine, now: float) -> dict[str, list[str]]:
    return params(follow.next_request(now))


def answer(follow: FollowMachine, now: float, result: fw.LogPage, server_s: float | None = None) -> list[fw.LogEntry]:
    """One request and its answer; ``server_s`` is the server's Date, in seconds after T0."""
    request(follow, now)
    return follow.on_page(result, now, None if server_s is None else T0 + round(server_s) * NS)


def step(
    follow: FollowMachine, now: float, result: fw.LogPage, server_s: float | None = None
) -> tuple[float, list[fw.LogEntry]]:
    """Wait for the machine's next request, answer it: the time it was sent, and the entries handed out."""
    action = follow.next_request(now)
    while isinstance(action, Wait):
        now = action.until
        action = follow.next_request(now)
    assert isinstance(action, Request)
    return now, follow.on_page(result, now, None if server_s is None else T0 + round(server_s) * NS)


def fail(follow: FollowMachine, now: float, error: fw.FwBatchError) -> None:
    request(follow, now)
    follow.on_failure(error, now)


def messages(entries: Sequence[fw.LogEntry]) -> list[str]:
    return [e.message for e in entries]


# --- the start -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (FollowStart(), {"startFromHead": ["true"], "pageSize": ["10"]}),
        (
            FollowStart(since_ns=T0 + 5),
            {"startFromHead": ["true"], "pageSize": ["10"], "startTime": ["2026-11-22T04:00:00.000000005Z"]},
        ),
        (FollowStart(last=3), {"pageSize": ["100"]}),  # backwards, newest first: room for the lines and the window
        (FollowStart(last=600), {"pageSize": ["1200"]}),
    ],
)
def test_the_first_request_follows_the_start(start: FollowStart, expected: dict[str, list[str]]) -> None:
    assert request(machine(start), 0.0) == expected


def test_a_start_from_the_last_lines_reads_back_until_it_has_them_and_the_window() -> None:
    follow = machine(FollowStart(last=3))
    newest_first = lines(40, every=0.1)[::-1]  # 0 s .. 3.9 s
    assert answer(follow, 0.0, page(*newest_first[:20], token="t1")) == []  # 3 lines, but not yet 3 s back
    assert params(follow.next_request(0.0))["pageToken"] == ["t1"]
    first = follow.on_page(page(*newest_first[20:], token="t2"), 0.0)
    assert messages(first) == ["line 37", "line 38", "line 39"]  # oldest first
    # Then forward reads from the window: 3 s below the newest line, whole seconds.
    assert request(follow, 0.0) == {
        "startFromHead": ["true"],
        "pageSize": ["10"],
        "startTime": ["2026-11-22T04:00:00.900000000Z"],
    }


def test_a_start_from_the_last_lines_of_a_short_log_takes_what_there_is() -> None:
    follow = machine(FollowStart(last=10))
    assert messages(answer(follow, 0.0, page(entry(2, "b"), entry(1, "a")))) == ["a", "b"]


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"last": 3, "from_start": True}, "at most one"),
        ({"since": "2026-01-01T00:00:00Z", "cursor": "{}"}, "at most one"),
        ({"last": -1}, "non-negative"),
        ({"since": "yesterday"}, "since"),
        ({"cursor": "not json"}, "cursor"),
    ],
)
def test_bad_starts_are_refused(arguments: dict[str, object], problem: str) -> None:
    full: dict[str, object] = {"last": None, "since": None, "from_start": False, "cursor": None, "now_ns": T0}
    with pytest.raises(ValueError, match=problem):
        FollowStart.create(**(full | arguments))  # type: ignore[arg-type]


def test_a_cursor_of_another_query_is_refused() -> None:
    follow = machine()
    answer(follow, 0.0, page(entry(1)))
    cursor = follow.cursor()
    plan = FollowPlan(
        account_id="acct",
        selection=LogSelection(ranks=(1,), page_size=10),
        start=FollowStart(cursor=cursor),
        settings=FollowSettings(window=WindowSettings(), poll=STEADY, retry=fw.RetryPolicy().patient()),
    )
    with pytest.raises(ValueError, match="another job, ranks or filter"):
        plan.machine("job-1", random=lambda: 0.5)


# --- reads ---------------------------------------------------------------------------------------------------


def test_a_read_follows_tokens_with_every_other_parameter_unchanged() -> None:
    follow = machine()
    first = request(follow, 0.0)
    follow.on_page(page(*lines(10), token="t1"), 0.0)
    second = request(follow, 0.0)
    assert second == first | {"pageToken": ["t1"]}


@pytest.mark.parametrize(
    ("last_page", "read_ends"),
    [
        (page(*lines(3)), True),  # no token
        (page(*lines(3), token="t1"), True),  # the token it was sent: caught up
        (page(token="t2"), False),  # empty, with a new token: keep going
        (page(*lines(10), token="t2"), False),  # full, with a new token
    ],
)
def test_when_a_read_ends(last_page: fw.LogPage, read_ends: bool) -> None:
    follow = machine()
    answer(follow, 0.0, page(*lines(10, start=100), token="t1"), server_s=0)
    request(follow, 0.0)
    follow.on_page(last_page, 0.0, T0 + 600 * NS)  # the head is far ahead: a short page is not the end
    action = follow.next_request(0.0)
    if read_ends:
        assert isinstance(action, Wait) or "pageToken" not in params(action)
    else:
        assert "pageToken" in params(action)


def test_a_short_page_at_the_head_ends_a_read_even_with_a_token() -> None:
    """Some servers always send a token; at the head the rest is the next read's (issue 14)."""
    follow = machine()
    answer(follow, 0.0, page(*lines(3, start=10), token="t1"), server_s=11)  # lines within the lookback of Date
    assert isinstance(follow.next_request(0.0), Wait)


def test_a_short_page_far_behind_the_head_does_not_end_a_read() -> None:
    follow = machine()
    answer(follow, 0.0, page(*lines(3, start=10), token="t1"), server_s=600)
    assert params(follow.next_request(0.0))["pageToken"] == ["t1"]


def test_many_empty_pages_in_a_row_end_a_read() -> None:
    follow = machine()
    for i in range(MAX_EMPTY_PAGES + 1):
        answer(follow, 0.0, page(token=f"t{i}"))
    assert isinstance(follow.next_request(0.0), Wait)


@pytest.mark.parametrize(
    ("last_page", "next_after"),
    [
        (page(*lines(10)), 0.0),  # a full page with new lines: more may be waiting, read again at once
        (page(*lines(3)), 0.5),  # new lines: the shortest poll
        (page(), 0.5),  # nothing new on the first read
    ],
)
def test_when_the_next_read_begins(last_page: fw.LogPage, next_after: float) -> None:
    follow = machine()
    answer(follow, 10.0, last_page)
    action = follow.next_request(10.0)
    if next_after:
        assert action == Wait(10.0 + next_after)
    else:
        assert isinstance(action, Request)


def test_reads_that_find_nothing_back_off_and_new_lines_reset_the_backoff() -> None:
    follow = machine()
    now, waits = 0.0, []
    for result in [page(), page(), page(), page(), page(), page(entry(1)), page(entry(1))]:
        answer(follow, now, result)
        action = follow.next_request(now)
        assert isinstance(action, Wait)
        waits.append(action.until - now)
        now = action.until
    assert waits == [0.5, 1.0, 2.0, 4.0, 4.0, 0.5, 1.0]


def test_entries_are_handed_out_once_and_repeats_of_the_window_are_not() -> None:
    follow = machine()
    assert messages(answer(follow, 0.0, page(entry(1, "a"), entry(2, "b")))) == ["a", "b"]
    _, new = step(follow, 0.0, page(entry(1, "a"), entry(2, "b"), entry(3, "c")))
    assert messages(new) == ["c"]


# --- failures ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "wait"),
    [
        (fw.ServerError("unavailable", status=503), 1.0),
        (fw.RateLimitError("slow down", status=429, retry_after=7.0), 7.0),  # the server's word first
        (fw.APIConnectionError("reset"), 1.0),
        (fw.InvalidResponseError("getBatchJobLogs", "cut short", transient=True), 1.0),
    ],
)
def test_a_failure_that_retrying_can_fix_is_waited_out_then_asked_again(error: fw.FwBatchError, wait: float) -> None:
    follow = machine()
    first = request(follow, 0.0)
    follow.on_failure(error, 0.0)
    assert follow.next_request(0.0) == Wait(wait)
    assert request(follow, wait) == first
    assert (follow.stats.requests, follow.stats.retries, follow.stats.failures) == (2, 1, 1)


def test_failures_in_a_row_back_off_to_the_cap_for_as_long_as_they_last() -> None:
    follow = machine()
    now, waits = 0.0, []
    for _ in range(8):
        fail(follow, now, fw.ServerError("down", status=503))
        action = follow.next_request(now)
        assert isinstance(action, Wait)
        waits.append(action.until - now)
        now = action.until
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0, 8.0]
    now, _ = step(follow, now, page(entry(1)))  # a success resets the backoff
    now, _ = step(follow, now, page())
    action = follow.next_request(now)
    assert isinstance(action, Wait)
    fail(follow, action.until, fw.ServerError("down", status=503))
    assert follow.next_request(action.until) == Wait(action.until + 1.0)


@pytest.mark.parametrize(
    "error",
    [fw.NotFoundError("no such job", status=404), fw.AuthenticationError("bad key", status=401)],
)
def test_a_failure_that_retrying_cannot_fix_ends_the_follow(error: fw.FwBatchError) -> None:
    follow = machine()
    request(follow, 0.0)
    with pytest.raises(type(error)):
        follow.on_failure(error, 0.0)


def test_a_rejected_page_token_restarts_the_read_from_the_window() -> None:
    follow = machine()
    answer(follow, 0.0, page(*lines(10), token="t1"))
    fail(follow, 0.0, fw.BadRequestError("invalid page token", status=400))
    assert follow.stats.token_restarts == 1
    assert follow.take_notices() == ["page token rejected; restarting the read from the lookback window"]
    again = request(follow, 0.0)  # at once: the cut-short read had found lines
    assert "pageToken" not in again
    # From the window (3 s below the newest line, in whole seconds), less the 3 s audit span below it.
    assert again["startTime"] == ["2026-11-22T03:59:54.000000000Z"]


def test_a_server_that_keeps_rejecting_page_tokens_ends_the_follow() -> None:
    """It would re-read the first page forever and never drain (issue 15)."""
    follow = machine()
    now, rejected = 0.0, 0

    def rejected_again() -> None:
        nonlocal now, rejected
        while True:
            action = follow.next_request(now)
            if isinstance(action, Wait):
                now = action.until
            elif "pageToken" in params(action):
                rejected += 1
                follow.on_failure(fw.BadRequestError("invalid page token", status=400), now)
            else:
                follow.on_page(page(*lines(10), token="t1"), now)

    with pytest.raises(fw.BadRequestError) as raised:
        rejected_again()
    assert rejected == 4
    assert "rejected the page tokens of 4 reads in a row" in "".join(raised.value.__notes__)


def test_a_rejected_first_page_is_an_error_not_a_restart() -> None:
    follow = machine()
    request(follow, 0.0)
    with pytest.raises(fw.BadRequestError):
        follow.on_failure(fw.BadRequestError("bad filter", status=400), 0.0)


def test_a_log_time_that_is_not_a_timestamp_is_an_invalid_response() -> None:
    follow = machine()
    request(follow, 0.0)
    bad = converter.structure({"entries": [{"logTime": "2026-02-30T00:00:00Z", "message": "x"}]}, fw.LogPage)
    with pytest.raises(fw.InvalidResponseError, match="getBatchJobLogs"):
        follow.on_page(bad, 0.0)


# --- the drain -----------------------------------------------------------------------------------------------


def test_a_follow_never_ends_before_finish() -> None:
    follow = machine()
    now = 0.0
    for _ in range(50):
        answer(follow, now, page())
        action = follow.next_request(now)
        assert isinstance(action, Wait)
        now = action.until
    assert not follow.done


def test_after_finish_it_ends_once_a_read_that_began_a_lookback_later_finds_nothing() -> None:
    follow = machine(poll=fw.PollPolicy(min_interval=0.5, max_interval=0.5, jitter=0.0))
    now, _ = step(follow, 0.0, page(entry(0.5)), server_s=1)
    follow.finish(now, T0 + 1 * NS)  # the job was seen finished at the server's 1 s
    # On the server's clock: done once a read that begins at 1 + 1 (the Date's second) + 3 s finds nothing new.
    now, _ = step(follow, now, page(entry(0.5)), server_s=4)
    assert isinstance(follow.next_request(now), Wait)  # began too early to be the last
    now, new = step(follow, now, page(entry(0.5), entry(4.5, "late but in time")), server_s=5)
    assert messages(new) == ["late but in time"]
    # Found something: not the end yet; the drain's time has come, so the next read goes at once.
    assert params(follow.next_request(now))["startTime"]
    assert follow.on_page(page(entry(0.5), entry(4.5, "late but in time")), now, T0 + 5 * NS) == []
    assert follow.next_request(now) is DONE
    assert follow.done


def test_against_a_fast_server_the_drain_ends_in_the_servers_time() -> None:
    """An emulator at speed 60: a lookback of the server's time passes in a fraction of the follower's."""
    follow = machine()
    now, _ = step(follow, 0.0, page(entry(0.5)), server_s=1)
    follow.finish(now, T0 + 1 * NS)
    now, _ = step(follow, now, page(entry(0.5)), server_s=30)
    assert follow.next_request(now) is DONE
    assert now < LOOKBACK


def test_a_job_that_ended_more_than_a_lookback_ago_drains_at_the_next_read_that_finds_nothing() -> None:
    """``fwbatch logs -f`` of a job finished an hour ago: nothing can still turn up late, so nothing to wait for."""
    follow = machine()
    follow.finish(0.0, T0 + 3600 * NS, ended_at=T0 + 10 * NS)
    now, new = step(follow, 0.0, page(entry(0.5), entry(9.5)), server_s=3600)
    assert len(new) == 2
    now, new = step(follow, now, page(entry(0.5), entry(9.5)), server_s=3600)  # at once: found something before
    assert (new, now) == ([], 0.0)
    assert follow.next_request(now) is DONE


def test_a_job_that_ended_within_the_lookback_still_drains_a_lookback_after_its_end() -> None:
    follow = machine()
    now, _ = step(follow, 0.0, page(entry(0.5)), server_s=1)
    follow.finish(now, T0 + 5 * NS, ended_at=T0 + 4 * NS)  # seen at the server's 5 s; ended at 4 s: wait until 7 s
    now, _ = step(follow, now, page(entry(0.5)), server_s=6)
    assert isinstance(follow.next_request(now), Wait)  # began before 4 + 3 s: a line may still turn up
    now, new = step(follow, now, page(entry(0.5), entry(3.9, "late")), server_s=7)
    assert messages(new) == ["late"]
    step(follow, now, page(entry(0.5), entry(3.9, "late")), server_s=7)
    assert follow.next_request(now) is DONE


def test_against_a_server_whose_clock_stands_still_the_drain_ends_in_the_followers_time() -> None:
    follow = machine()
    answer(follow, 0.0, page(entry(0.5)), server_s=1)
    follow.finish(0.0, T0 + 1 * NS)
    now = 0.0
    while not follow.done:
        action = follow.next_request(now)
        if isinstance(action, Wait):
            now = action.until
        elif isinstance(action, Request):
            follow.on_page(page(entry(0.5)), now, T0 + 1 * NS)
    assert LOOKBACK <= now <= LOOKBACK + 0.5


def test_without_the_servers_date_the_drain_waits_the_lookback_on_the_followers_clock() -> None:
    follow = machine()
    now, _ = step(follow, 0.0, page(entry(0.5)))
    follow.finish(now)
    ends = []
    while not follow.done:
        now, _ = step(follow, now, page(entry(0.5)))
        ends.append(follow.next_request(now) is DONE)
    assert LOOKBACK - 0.01 <= now <= LOOKBACK + 0.5
    assert ends[-1]


def test_a_read_that_began_before_the_drain_point_is_not_the_last_even_if_it_ended_after() -> None:
    """A fan-out follower may wait long for a page slot between a page and its next request (issue 15)."""
    follow = machine()
    now, _ = step(follow, 0.0, page(entry(0.5)))
    follow.finish(now)  # drain point: 3 s
    assert follow.next_request(0.0) == Wait(0.5)
    assert isinstance(follow.next_request(0.5), Request)  # a read begins at 0.5 s...
    follow.on_page(page(entry(0.5)), 0.5)
    assert isinstance(follow.next_request(10.0), Request)  # ended at 10 s, but began at 2.9 s: read again
    follow.on_page(page(entry(0.5)), 10.0)
    assert follow.next_request(10.0) is DONE


# --- the protocol --------------------------------------------------------------------------------------------


def test_one_request_at_a_time() -> None:
    follow = machine()
    request(follow, 0.0)
    with pytest.raises(RuntimeError, match="a request is out"):
        follow.next_request(0.0)
    follow.on_page(page(), 0.0)
    with pytest.raises(RuntimeError, match="no request is out"):
        follow.on_page(page(), 0.0)
    with pytest.raises(RuntimeError, match="no request is out"):
        follow.on_failure(fw.ServerError("x", status=500), 0.0)


def test_a_cursor_before_the_tail_was_read_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="has not started"):
        machine(FollowStart(last=5)).cursor()


def test_a_cursor_taken_while_the_last_page_of_a_read_is_handed_out_resumes_exactly() -> None:
    """The read ends once its entries were handed over, so a cursor taken meanwhile still has them in its window."""
    follow = machine(FollowStart(since_ns=T0))
    new = answer(follow, 0.0, page(*lines(5, start=100)), server_s=200)  # far behind the head: no window left
    for taken in range(len(new) + 1):
        cursor = follow.cursor(new[taken:])
        resumed = machine(FollowStart(cursor=fw.FollowCursor.from_json(cursor.to_json())))
        assert answer(resumed, 0.0, page(*lines(5, start=100))) == new[taken:]


def test_a_404_after_the_log_was_read_ends_the_follow_with_a_notice_the_job_was_deleted() -> None:
    follow = machine()
    assert answer(follow, 0.0, page(*lines(3))) == lines(3)
    action = follow.next_request(0.0)
    assert isinstance(action, Wait)
    fail(follow, action.until, fw.NotFoundError("resource not found", status=404))
    assert follow.next_request(action.until) is DONE
    assert follow.take_notices() == ["the log is gone (404): its job was deleted; the follow ends"]
