"""The scheduler over many machines: weighted shares of scarce sends, no starvation, holds (issue 19)."""

from __future__ import annotations

from collections import Counter

import attrs
import pytest

from fwbatch_async._core.actions import DONE, Action, Wait
from fwbatch_async._core.requests import Request
from fwbatch_async._core.scheduler import Scheduler

REQUEST = Request("getBatchJobLogs", "/x")


@attrs.define
class Machine:
    """Wants to send every ``period`` seconds (0: again as soon as answered), with a fixed weight."""

    weight: float = 1.0
    period: float = 0.0
    due: float = 0.0
    left: int | None = None  # requests before it is done
    fails_with: Exception | None = None

    def wake(self, now: float) -> float | None:
        return None if self.left == 0 else self.due

    def next_request(self, now: float) -> Action:
        if self.fails_with is not None:
            raise self.fails_with
        if self.left == 0:
            return DONE
        if now < self.due:
            return Wait(self.due)
        self.due = now + self.period
        self.left = None if self.left is None else self.left - 1
        return REQUEST


def send(scheduler: Scheduler[str], count: int, now: float = 0.0) -> Counter[str]:
    """``count`` sends in a row, each answered at once: who got them."""
    got: Counter[str] = Counter()
    for _ in range(count):
        pick = scheduler.next(now)
        assert pick is not None
        key, _ = pick
        got[key] += 1
        scheduler.answered(key, now)
    return got


def test_scarce_sends_are_shared_in_proportion_to_weight() -> None:
    scheduler = Scheduler[str]()
    for key, weight in [("flowing", 10.0), ("first read", 8.0), ("quiet", 2.0), ("watch", 1.0)]:
        scheduler.add(key, Machine(weight=weight), now=0.0)
    assert send(scheduler, 2100) == {"flowing": 1000, "first read": 800, "quiet": 200, "watch": 100}


def test_no_quiet_job_starves_among_a_thousand_busy_ones() -> None:
    scheduler = Scheduler[str]()
    for i in range(1000):
        scheduler.add(f"busy-{i}", Machine(weight=10.0), now=0.0)
    scheduler.add("quiet", Machine(weight=2.0), now=0.0)
    # Its share is 2 in 10,002: one send in every 5,001 at least, however long it goes on.
    for _ in range(4):
        got = send(scheduler, 5_001)
        assert got["quiet"] >= 1
        assert max(count for key, count in got.items() if key != "quiet") <= 6


def test_plentiful_sends_go_as_soon_as_they_are_due() -> None:
    scheduler = Scheduler[str]()
    scheduler.add("a", Machine(period=5.0), now=0.0)
    scheduler.add("b", Machine(period=5.0, due=2.0), now=0.0)
    assert send(scheduler, 1) == {"a": 1}
    assert scheduler.next(0.0) is None
    assert scheduler.due(0.0) == 2.0
    assert send(scheduler, 1, now=2.0) == {"b": 1}
    assert scheduler.due(2.0) == 5.0


def test_a_held_machine_keeps_its_place_but_is_not_picked() -> None:
    scheduler = Scheduler[str]()
    scheduler.add("log", Machine(), now=0.0)
    scheduler.hold("log", 0.0, held=True)
    assert scheduler.next(0.0) is None
    assert scheduler.due(0.0) is None
    scheduler.hold("log", 1.0, held=False)
    assert send(scheduler, 1, now=1.0) == {"log": 1}


def test_a_request_out_is_not_picked_again_until_answered() -> None:
    scheduler = Scheduler[str]()
    scheduler.add("a", Machine(), now=0.0)
    assert scheduler.next(0.0) is not None
    assert scheduler.next(0.0) is None
    scheduler.answered("a", 0.0)
    assert scheduler.next(0.0) is not None


def test_a_machine_that_is_done_leaves() -> None:
    scheduler = Scheduler[str]()
    scheduler.add("a", Machine(left=2), now=0.0)
    send(scheduler, 2)
    assert "a" not in scheduler
    assert len(scheduler) == 0


def test_a_machine_that_raises_when_asked_comes_back_with_its_error_and_leaves() -> None:
    scheduler = Scheduler[str]()
    timeout = TimeoutError("the wait's deadline")
    scheduler.add("a", Machine(fails_with=timeout), now=0.0)
    assert scheduler.next(0.0) == ("a", timeout)
    assert "a" not in scheduler


def test_a_machine_changed_from_outside_is_asked_again() -> None:
    machine = Machine(due=100.0)
    scheduler = Scheduler[str]()
    scheduler.add("a", machine, now=0.0)
    machine.due = 1.0  # e.g. a follow told that its job finished: its drain is due sooner
    scheduler.touch("a", 0.0)
    assert scheduler.due(0.0) == 1.0


def test_a_key_is_scheduled_once() -> None:
    scheduler = Scheduler[str]()
    scheduler.add("a", Machine(), now=0.0)
    with pytest.raises(ValueError, match="scheduled already"):
        scheduler.add("a", Machine(), now=0.0)
