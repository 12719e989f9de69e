"""The pure follower against a model of the server, in virtual time (design §3)."""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from logsim import NS, LogServerModel, follow_in_virtual_time

from fwbatch_async import LogEntry, Timestamp
from fwbatch_async._core import follow as follow_module
from fwbatch_async._core.cursor import FollowCursor
from fwbatch_async._core.follow import LogFollower
from fwbatch_async._core.logdecode import decode_log_page
from fwbatch_async._core.models import _stored_time
from fwbatch_async._core.window import FollowStats, WindowSettings

T0 = 1_795_320_000 * NS
LOOKBACK = 3.0
WINDOW = WindowSettings(lookback=LOOKBACK, audit=LOOKBACK, max_window=100_000)


Line = tuple[int, int, str, int]


def decode_page(lines: list[tuple[int, int, str]]) -> tuple[LogEntry, ...]:
    """A page as the client decodes it: each entry's time is the server's text until it is read."""
    body = {"entries": [{"logTime": Timestamp(ns).rfc3339(), "rank": rank, "message": m} for ns, rank, m in lines]}
    page = decode_log_page(json.dumps(body).encode())
    assert page is not None
    return page.entries


def stored_time(entry: LogEntry) -> object:
    """What the entry holds for its time: the server's text, or the Timestamp made when it was first read."""
    return _stored_time.__get__(entry)


def keys(entries: list[LogEntry]) -> Counter[tuple[int, int, str]]:
    return Counter((e.log_time.ns, e.rank, e.message) for e in entries)


@st.composite
def logs(draw: st.DrawFn, *, max_delay: float) -> list[tuple[int, int, str, int]]:
    """Entries with shared times, bursts at one time, identical lines, and late arrivals up to ``max_delay``."""
    entries = []
    for _ in range(draw(st.integers(0, 40))):
        at = T0 + draw(st.integers(0, 20_000)) * 1_000_000  # millisecond steps over 20 s: many shared times
        for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3, 12]))):  # copies; 12 is a burst beyond a page
            rank = draw(st.integers(0, 3))
            message = draw(st.sampled_from(["step", "step", "loss 0.5", "warn", "a\nmultiline\ntraceback"]))
            delay = draw(st.sampled_from([0, 0, 0, draw(st.integers(0, int(max_delay * 1000))) * 1_000_000]))
            entries.append((at, rank, message, delay))
    return entries


def run_until_everything_is_visible(
    entries: list[tuple[int, int, str, int]], *, seed: int, page_size: int, restart_chance: float = 0.0
) -> tuple[LogServerModel, list[LogEntry], FollowStats]:
    server = LogServerModel(entries)
    last_visible = max((e.visible_at for e in server.entries), default=T0)
    run = follow_in_virtual_time(
        server,
        WINDOW,
        rng=random.Random(seed),
        until=last_visible + 4 * round(LOOKBACK * NS),
        page_size=page_size,
        restart_chance=restart_chance,
    )
    return server, run.delivered, run.stats


@settings(max_examples=300, deadline=None)
@given(logs(max_delay=LOOKBACK), st.integers(0, 2**32), st.integers(1, 8), st.sampled_from([0.0, 0.0, 0.5]))
def test_every_entry_is_delivered_exactly_once(
    entries: list[tuple[int, int, str, int]], seed: int, page_size: int, restart_chance: float
) -> None:
    server, delivered, stats = run_until_everything_is_visible(
        entries, seed=seed, page_size=page_size, restart_chance=restart_chance
    )
    assert keys(delivered) == server.multiset()
    assert stats.possibly_missed == 0


@settings(max_examples=200, deadline=None)
@given(logs(max_delay=LOOKBACK), st.integers(0, 2**32), st.integers(1, 8))
def test_order_is_chronological_except_for_late_arrivals(
    entries: list[tuple[int, int, str, int]], seed: int, page_size: int
) -> None:
    on_time = {(ns, rank, message) for ns, rank, message, delay in entries if delay == 0}
    late = {(ns, rank, message) for ns, rank, message, delay in entries if delay > 0}
    _, delivered, stats = run_until_everything_is_visible(entries, seed=seed, page_size=page_size)
    times = [e.log_time.ns for e in delivered if (e.log_time.ns, e.rank, e.message) in on_time - late]
    assert times == sorted(times)
    out_of_order = sum(1 for before, after in itertools.pairwise(delivered) if after.log_time < before.log_time)
    assert out_of_order <= stats.late_entries


@settings(max_examples=200, deadline=None)
@given(logs(max_delay=2 * LOOKBACK), st.integers(0, 2**32), st.integers(1, 8))
def test_entries_later_than_the_window_are_counted_never_repeated(
    entries: list[tuple[int, int, str, int]], seed: int, page_size: int
) -> None:
    server, delivered, stats = run_until_everything_is_visible(entries, seed=seed, page_size=page_size)
    got, held = keys(delivered), server.multiset()
    assert not got - held, "an entry was delivered more often than the server holds it"
    within_window = server.multiset(max_delay=round(LOOKBACK * NS))
    assert not within_window - got, "an entry within the window was not delivered"
    assert got.total() + stats.possibly_missed == held.total()


@pytest.fixture
def prune_every_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(follow_module, "_MIN_PRUNE_SIZE", 1)


@pytest.mark.usefixtures("prune_every_page")
@pytest.mark.parametrize("seed", range(40))
def test_pruning_in_the_middle_of_a_read_loses_and_repeats_nothing(seed: int) -> None:
    rng = random.Random(seed)
    entries = [
        (T0 + rng.randrange(0, 30 * NS, NS // 20), rng.randrange(3), rng.choice("abc"), rng.choice([0, 0, NS]))
        for _ in range(400)
    ]
    server, delivered, stats = run_until_everything_is_visible(entries, seed=seed, page_size=rng.randint(1, 9))
    assert keys(delivered) == server.multiset()
    assert stats.possibly_missed == 0


@pytest.mark.parametrize("seed", range(20))
def test_a_tiny_window_cap_overflows_but_never_repeats_or_loses_on_time_entries(seed: int) -> None:
    rng = random.Random(seed)
    entries = [(T0 + rng.randrange(0, 20 * NS, NS // 10), rng.randrange(3), rng.choice("ab"), 0) for _ in range(300)]
    server = LogServerModel(entries)
    tiny = WindowSettings(lookback=LOOKBACK, audit=LOOKBACK, max_window=8)
    run = follow_in_virtual_time(server, tiny, rng=rng, until=T0 + 40 * NS, page_size=5)
    assert keys(run.delivered) == server.multiset()
    assert run.stats.window_overflows > 0


def test_the_window_never_holds_more_than_the_cap_between_reads() -> None:
    rng = random.Random(7)
    entries = [(T0 + i * NS // 100, i % 2, "x", 0) for i in range(2000)]
    server = LogServerModel(entries)
    stats = FollowStats()
    follower = LogFollower(WindowSettings(lookback=60.0, audit=0.0, max_window=100), stats)
    now = T0
    sizes = []
    while now < T0 + 30 * NS:
        start = follower.begin_read(now / NS)
        token = None
        while True:
            now += NS // 50
            page = server.page(now, start, token, 50)
            follower.accept(page.entries, now / NS)
            if page.next_page_token is None:
                break
            token = page.next_page_token
        follower.end_read(now / NS)
        sizes.append(follower.window_size)
        now += rng.randrange(NS // 10, NS)
    assert max(sizes) <= 100
    assert stats.window_overflows > 0


def test_a_long_read_still_finds_an_entry_that_appeared_behind_its_token() -> None:
    """Design §3.3: one read pages through a live log for a minute, 3 s behind its head, never catching up.

    The cursor passes 20 s at real time 23 s, before the slow rank's entry for 20 s becomes visible at 24 s; the
    read ends after 60 s. Anchoring the next read on the newest entry just read (60 s - lookback) would never read
    20 s again; anchoring on the server's clock when the read began does.
    """
    live = [(T0 + i * NS // 100, 0, f"line {i}", 0) for i in range(6000)]  # 100 lines a second, 0 s .. 60 s
    late = (T0 + 20 * NS, 1, "from a slow rank", 4 * NS)
    server = LogServerModel([*live, late])
    run = follow_in_virtual_time(
        server,
        WindowSettings(lookback=5.0, audit=5.0, max_window=100_000),
        rng=random.Random(1),
        begin=T0 + 3 * NS,
        until=T0 + 90 * NS,
        page_size=10,  # 10 lines per 0.1 s: exactly the rate they are written, so the first read never ends early
        start=T0,
        request_cost=lambda _: NS // 10,
        poll_delay=lambda _: NS,
    )
    assert keys(run.delivered) == server.multiset()
    assert run.stats.late_entries == 1


def live_log(rng: random.Random, *, seconds: int, per_second: int, late: float, max_delay: float) -> list[Line]:
    """A log written while the job runs: lines at random times, some late by up to ``max_delay``, a few twice."""
    entries: list[Line] = []
    for i in range(seconds * per_second):
        at = T0 + rng.randrange(seconds * NS)
        delay = rng.randrange(1, round(max_delay * NS)) if rng.random() < late else 0
        line = (at, rng.randrange(8), f"step {i}", delay)
        entries += [line, line] if rng.random() < 0.02 else [line]
    return entries


@pytest.mark.parametrize("speed", [1, 20, 60])
@pytest.mark.parametrize("seed", range(6))
def test_pages_that_always_carry_a_token_with_failures_between_them_lose_nothing(speed: int, seed: int) -> None:
    """Issue 14: a server that always sends a token makes every read at the head two requests (the lines, then the
    token that says it is the end); a failed request between them lets the server's clock run on, and a server
    running faster than the follower's clock (an emulator sped up) ran it on ``speed`` times further than the
    follower measured, so the next read started past lines that appeared behind the token meanwhile. The window is
    measured in the server's time (its ``Date``), so every line arrives, whatever the speed."""
    rng = random.Random(seed)
    server = LogServerModel(
        live_log(rng, seconds=120, per_second=20, late=0.05, max_delay=LOOKBACK), repeat_end_token=True
    )
    run = follow_in_virtual_time(
        server,
        WINDOW,
        rng=rng,
        begin=T0,
        until=T0 + 130 * NS,
        page_size=50,
        start=T0,
        request_cost=lambda r: r.randrange(NS // 1000, NS // 100),
        poll_delay=lambda r: r.randrange(NS // 2, 2 * NS) // speed,
        failure_chance=0.3,
        failure_wait=lambda r: r.randrange(NS // 2, 2 * NS),
        speed=speed,
        dates=True,
    )
    assert keys(run.delivered) == server.multiset()
    assert run.stats.possibly_missed == 0


def test_catching_up_on_a_long_backlog_does_not_read_it_twice() -> None:
    backlog = [(T0 + i * NS // 100, i % 4, f"line {i}", 0) for i in range(20_000)]  # 200 s of lines, all there
    server = LogServerModel(backlog)
    run = follow_in_virtual_time(
        server,
        WINDOW,
        rng=random.Random(2),
        begin=T0 + 200 * NS,
        until=T0 + 210 * NS,
        page_size=1000,
        start=T0,
        request_cost=lambda _: NS // 100,
        poll_delay=lambda _: NS,
    )
    assert keys(run.delivered) == server.multiset()
    # 20 pages for the backlog, then one page per poll (the window holds ~600 lines); a second pass over the
    # backlog would add 20 more.
    assert server.requests <= 20 + 13


def test_catching_up_counts_only_what_the_next_read_can_repeat() -> None:
    """Issue 17: a backlog far below the window is added to per-second totals, not parsed and counted entry by entry.

    100,000 lines at 1,000 a second arrive in one read as decoded pages (times still the server's text); the next
    read re-reads the last lookback (3 s: 3,000 lines), and what the read's own duration and the whole second it
    starts on add. Only times probed to bisect pages are made into Timestamps.
    """
    lines = 100_000
    pages = [
        decode_page([(T0 + i * NS // 1000, i % 8, f"line {i}") for i in range(first, first + 5000)])
        for first in range(0, lines, 5000)
    ]
    stats = FollowStats()
    follower = LogFollower(WINDOW, stats)
    follower.begin_read(0.0)
    delivered = []
    for number, page in enumerate(pages):
        delivered += follower.accept(page, 0.01 * number, server_time=T0 + 3600 * NS)  # the job ended long ago
    follower.end_read(0.2)
    parsed = sum(type(stored_time(entry)) is not str for entry in delivered)  # before keys() reads them all
    assert parsed < 2_000, f"{parsed} of {lines} times were parsed"  # about 13 a second of log
    assert keys(delivered) == Counter((T0 + i * NS // 1000, i % 8, f"line {i}") for i in range(lines))
    assert 3_000 <= len(follower.accounted()) <= 4_200
    assert follower.window_size == len(follower.accounted())
    start = follower.begin_read(1.0)
    assert start is not None
    again = [entry for page in pages for entry in page if entry.log_time.ns >= start]
    assert follower.accept(again, 1.0) == []


def test_since_never_delivers_anything_older() -> None:
    entries = [(T0 + i * NS, 0, f"line {i}", 0) for i in range(20)]
    server = LogServerModel(entries)
    since = T0 + 9 * NS + 1
    run = follow_in_virtual_time(server, WINDOW, rng=random.Random(3), until=T0 + 40 * NS, page_size=3, start=since)
    assert [e.message for e in run.delivered] == [f"line {i}" for i in range(10, 20)]


# --- starting from a tail ------------------------------------------------------------------------------------


def entry(seconds: float, rank: int = 0, message: str = "m") -> LogEntry:
    return LogEntry(Timestamp(T0 + round(seconds * NS)), rank, message)


def test_a_tail_start_delivers_the_last_entries_then_only_new_ones() -> None:
    newest_first = [entry(10 - i * 0.5, message=f"m{20 - i}") for i in range(21)]  # 0 s .. 10 s
    stats = FollowStats()
    follower, first = LogFollower.after_tail(newest_first, 3, WINDOW, stats)
    assert [e.message for e in first] == ["m18", "m19", "m20"]
    # The next read re-reads the window: only an entry that was not there before is new.
    start = follower.begin_read(0.0)
    assert start == T0 + 7 * NS
    window = [e for e in reversed(newest_first) if e.log_time.ns >= T0 + 7 * NS]
    late = entry(8.25, rank=1, message="late")
    new = follower.accept([*window[:3], late, *window[3:], entry(11, message="next")], 1.0)
    assert [e.message for e in new] == ["late", "next"]


def test_a_tail_of_zero_delivers_nothing_old() -> None:
    newest_first = [entry(5), entry(4), entry(1)]
    follower, first = LogFollower.after_tail(newest_first, 0, WINDOW, FollowStats())
    assert first == []
    follower.begin_read(0.0)
    assert follower.accept([entry(4), entry(5), entry(6, message="new")], 0.1) == [entry(6, message="new")]


def test_a_tail_of_an_empty_log_follows_from_the_first_entry() -> None:
    follower, first = LogFollower.after_tail([], 10, WINDOW, FollowStats())
    assert first == []
    assert follower.begin_read(0.0) is None


# --- cursors ---------------------------------------------------------------------------------------------------


def test_a_cursor_mid_page_counts_exactly_the_entries_handed_over() -> None:
    follower = LogFollower(WINDOW, FollowStats(), start=T0, floor=T0)
    follower.begin_read(0.0)
    page = [entry(1), entry(1), entry(2, message="x"), entry(3)]
    new = follower.accept(page, 0.0)
    cursor = follower.cursor("q", pending=new[1:])  # the consumer got only the first one
    resumed = LogFollower.from_cursor(FollowCursor.from_json(cursor.to_json()), WINDOW, FollowStats())
    assert resumed.begin_read(1.0) == T0
    assert resumed.accept(page, 1.0) == page[1:]


@pytest.mark.parametrize("last", [1, 4, 7, 10, 12])  # 10 cuts the three identical lines
def test_a_cursor_taken_while_a_long_tail_is_handed_over_resumes_with_the_rest_of_it(last: int) -> None:
    # 1 s apart over 10 s, three identical lines at 3 s, two lines at 6 s; the window is the last 3 s.
    oldest_first = [entry(s, message=f"m{s}") for s in range(11)]
    oldest_first[3:4] = [entry(3, message="same")] * 3
    oldest_first.insert(8, entry(6, rank=1, message="other"))
    newest_first = oldest_first[::-1]
    follower, first = LogFollower.after_tail(newest_first, last, WINDOW, FollowStats())
    assert first == oldest_first[-last:]
    for handed_over in range(len(first) + 1):
        cursor = FollowCursor.from_json(follower.cursor("q", pending=first[handed_over:]).to_json())
        resumed = LogFollower.from_cursor(cursor, WINDOW, FollowStats())
        start = resumed.begin_read(0.0)
        page = [e for e in oldest_first if start is None or e.log_time.ns >= start]
        assert resumed.accept(page, 0.0) == first[handed_over:], f"last={last}, handed over {handed_over}"


def test_cursor_json_round_trip_and_validation() -> None:
    follower = LogFollower(WINDOW, FollowStats(), start=T0, floor=T0)
    follower.begin_read(0.0)
    follower.accept([entry(1, 2, "é\n\ud800"), entry(1, 2, "é\n\ud800")], 0.0)
    follower.end_read(0.0)
    cursor = follower.cursor("fingerprint")
    text = cursor.to_json()
    assert FollowCursor.from_json(text) == cursor
    assert "é" not in text  # messages are stored as digests
    assert cursor.seen[0][3] == 2
    for bad in ["", "[]", '{"v": 2}', '{"v": 1}', text.replace('"seen":[[', '"seen":[["x",')]:
        with pytest.raises(ValueError, match="cursor"):
            FollowCursor.from_json(bad)


def test_a_cursor_resumed_later_delivers_exactly_what_came_meanwhile() -> None:
    server_entries = [(T0 + i * NS // 2, i % 3, f"line {i}", 0) for i in range(40)]
    first_half = LogServerModel([e for e in server_entries if e[0] < T0 + 10 * NS])
    stats = FollowStats()
    follower = LogFollower(WINDOW, stats, start=T0, floor=T0)
    follower.begin_read(0.0)
    page = first_half.page(T0 + 10 * NS, T0, None, 100)
    delivered = follower.accept(page.entries, 0.0)
    follower.end_read(0.0)
    saved = follower.cursor("q").to_json()
    # Meanwhile, new lines and a late one inside the window appear; a new process resumes.
    late = (T0 + 9 * NS + 1, 2, "late but inside the window", 0)
    everything = LogServerModel([*server_entries, late])
    resumed = LogFollower.from_cursor(FollowCursor.from_json(saved), WINDOW, FollowStats())
    start = resumed.begin_read(100.0)
    page = everything.page(T0 + 30 * NS, start, None, 1000)
    more = resumed.accept(page.entries, 100.0)
    assert keys(delivered) + keys(more) == everything.multiset()
    assert not keys(delivered) & keys(more)


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="lookback"):
        WindowSettings(lookback=-1)
    with pytest.raises(ValueError, match="max_window"):
        WindowSettings(max_window=0)
