"""A pure model of the getLogs endpoint and a driver that runs a LogFollower against it in virtual time.

The model follows fireworks-api.md §1: forward reads from an inclusive ``startTime``, page tokens that carry the
position reached (so an entry that becomes visible behind a token is not returned by that query, as on a real
server), entries that become visible ``delay`` after their time, identical lines at identical times. With
``repeat_end_token`` a forward read always carries a token, and at the end it is the token that was sent.

The driver keeps two clocks: the server's (log times, visibility, the ``Date`` of each answer) and the follower's,
which runs ``speed`` times slower, as a client on real time does against an emulator sped up ``speed`` times.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Callable

import attrs

from fwbatch_async import LogEntry, LogPage, Timestamp
from fwbatch_async._core.cursor import FollowCursor
from fwbatch_async._core.follow import LogFollower
from fwbatch_async._core.window import FollowStats, WindowSettings

NS = 1_000_000_000


@attrs.frozen
class SimEntry:
    ns: int
    rank: int
    message: str
    visible_at: int
    seq: int

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.ns, self.rank, self.message)


class LogServerModel:
    """Entries sorted by (time, arrival order); pages by token from an inclusive start, oldest first."""

    def __init__(self, entries: list[tuple[int, int, str, int]], *, repeat_end_token: bool = False) -> None:
        self.repeat_end_token = repeat_end_token
        self.entries = sorted(
            (SimEntry(ns, rank, message, ns + delay, seq) for seq, (ns, rank, message, delay) in enumerate(entries)),
            key=lambda e: (e.ns, e.seq),
        )
        self.requests = 0

    def page(self, now: int, start: int | None, token: str | None, size: int) -> LogPage:
        self.requests += 1
        after: tuple[int, int] | None = None
        if token is not None:
            token_start, ns, seq = token.split("|")
            assert token_start == str(start), "a token must be sent with the same parameters"
            after = (int(ns), int(seq))
        visible = [
            e
            for e in self.entries
            if e.visible_at <= now and (start is None or e.ns >= start) and (after is None or (e.ns, e.seq) > after)
        ]
        chunk = visible[:size]
        entries = tuple(LogEntry(Timestamp(e.ns), e.rank, e.message) for e in chunk)
        more = len(visible) > size
        next_token = f"{start}|{chunk[-1].ns}|{chunk[-1].seq}" if chunk and (more or self.repeat_end_token) else None
        if self.repeat_end_token and not chunk:
            next_token = token if token is not None else f"{start}|-1|-1"  # caught up: the same token comes back
        return LogPage(entries, next_token)

    def multiset(self, *, max_delay: int | None = None) -> Counter[tuple[int, int, str]]:
        return Counter(e.key for e in self.entries if max_delay is None or e.visible_at - e.ns <= max_delay)


@attrs.define
class Run:
    delivered: list[LogEntry]
    stats: FollowStats
    restarts: int


def follow_in_virtual_time(
    server: LogServerModel,
    settings: WindowSettings,
    *,
    rng: random.Random,
    until: int,
    page_size: int,
    start: int | None = None,
    begin: int | None = None,
    restart_chance: float = 0.0,
    request_cost: Callable[[random.Random], int] = lambda r: r.randrange(0, NS // 5),
    poll_delay: Callable[[random.Random], int] = lambda r: r.randrange(NS // 10, 2 * NS),
    follower: LogFollower | None = None,
    speed: float = 1.0,
    failure_chance: float = 0.0,
    failure_wait: Callable[[random.Random], int] = lambda r: r.randrange(NS // 2, 2 * NS),
    dates: bool = False,
) -> Run:
    """Follow from virtual time ``begin`` (default: the first entry's) until ``until`` and two complete reads after.

    With ``restart_chance``, a read is abandoned at a random page, part of that page handed over, and the follow
    resumed from a JSON cursor, as a new process would. ``request_cost``, ``poll_delay`` and ``failure_wait`` are
    nanoseconds of the follower's clock; the server's runs ``speed`` times faster. With ``failure_chance`` a request
    fails first and is retried after ``failure_wait``. With ``dates`` each page comes with the server's ``Date``.
    """
    stats = FollowStats()
    if follower is None:
        follower = LogFollower(settings, stats, start=start, floor=start)
    else:
        stats = follower.stats
    delivered: list[LogEntry] = []
    now = begin if begin is not None else min((e.ns for e in server.entries), default=until)
    client = 0  # the follower's clock, in ns

    def wait(client_ns: int) -> None:
        nonlocal now, client
        client += client_ns
        now += round(client_ns * speed)

    restarts = 0
    complete_reads_after_until = 0
    while complete_reads_after_until < 2:
        read_start = follower.begin_read(client / NS)
        began = now
        token: str | None = None
        abandoned = False
        restart_at = rng.randrange(8) if rng.random() < restart_chance else -1
        for page_number in itertools.count():
            if rng.random() < failure_chance:
                wait(request_cost(rng) + failure_wait(rng))
            wait(request_cost(rng))
            page = server.page(now, read_start, token, page_size)
            date = now - now % NS if dates else None
            new = follower.accept(page.entries, client / NS, server_time=date)
            if page_number == restart_at:
                taken = rng.randint(0, len(new))
                delivered.extend(new[:taken])
                cursor = follower.cursor("q", new[taken:])
                follower = LogFollower.from_cursor(FollowCursor.from_json(cursor.to_json()), settings, stats)
                restarts += 1
                abandoned = True
                break
            delivered.extend(new)
            if page.next_page_token is None or page.next_page_token == token:
                break
            token = page.next_page_token
        if not abandoned:
            follower.end_read(client / NS)
            complete_reads_after_until += began >= until
        wait(poll_delay(rng))
    return Run(delivered, stats, restarts)
