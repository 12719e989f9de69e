"""The client's adaptive request budget, in literal times: no event loop, no sleeping."""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Mapping, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fwbatch_async._core.budget import RECHECK_AFTER, AdaptiveRate


def state(budget: AdaptiveRate) -> tuple[bool, float | None, float | None]:
    return budget.limited, budget.rate, budget.ceiling


def send(budget: AdaptiveRate, now: float) -> None:
    """One send while unlimited (or with a send in the bucket): its turn comes at once."""
    assert budget.turn(budget.join(), now) == 0.0


def throttled_after(sends: int, *, at: float = 0.0, **settings: float) -> AdaptiveRate:
    """A budget that saw ``sends`` sends at ``at`` and then one throttle."""
    budget = AdaptiveRate(**settings)  # type: ignore[arg-type]
    for _ in range(sends):
        send(budget, at)
    budget.throttled(at)
    return budget


def run_queue(
    budget: AdaptiveRate, arrivals: Sequence[float], events: Mapping[float, Callable[[float], None]] = {}
) -> list[float]:
    """When each caller sends: caller i joins at ``arrivals[i]`` and asks again when told, as the client does.

    A discrete-event run: ``events`` happen at their times (throttles, successes) between the callers' questions.
    """
    agenda: list[tuple[float, int, int, Callable[[float], None] | None]] = []
    order = itertools.count()
    for at, happening in events.items():
        heapq.heappush(agenda, (at, next(order), -1, happening))
    tickets: dict[int, int] = {}
    for caller, at in enumerate(arrivals):
        heapq.heappush(agenda, (at, next(order), caller, None))
    sent = [math.nan] * len(arrivals)
    for _ in range(100_000):
        if not agenda:
            break
        now, _, caller, event = heapq.heappop(agenda)
        if event is not None:
            event(now)
            continue
        if caller not in tickets:
            tickets[caller] = budget.join()
        wait = budget.turn(tickets[caller], now)
        if wait == 0.0:
            sent[caller] = now
        else:
            # Whole nanoseconds, as the clocks count: a wait shorter than that passes no time at all.
            heapq.heappush(agenda, (round((now + min(wait, RECHECK_AFTER)) * 1e9) / 1e9, next(order), caller, None))
    assert not agenda, "the callers never all had their turn"
    return sent


def test_unlimited_until_the_first_throttle() -> None:
    budget = AdaptiveRate()
    tickets = [budget.join() for _ in range(1000)]
    assert [budget.turn(ticket, 5.0) for ticket in reversed(tickets)] == [0.0] * 1000
    budget.succeeded(5.0)
    assert (*state(budget), budget.throttles, budget.waiting) == (False, None, None, 0, 0)


def test_try_send_counts_sends_as_turns_do_and_declines_while_limited_or_queued() -> None:
    by_ticket, by_try = AdaptiveRate(), AdaptiveRate()
    for _ in range(8):
        by_ticket.turn(by_ticket.join(), 0.0)
        assert by_try.try_send(0.0)
    by_ticket.throttled(0.5)
    by_try.throttled(0.5)
    assert state(by_try) == state(by_ticket)  # the same measured rate: 8 sends, halved to 4/s
    assert not by_try.try_send(0.6)
    queued = AdaptiveRate()
    queued.join()
    assert not queued.try_send(0.0)


def test_after_a_throttle_sends_are_spaced_one_over_the_rate_in_the_order_callers_joined() -> None:
    budget = throttled_after(8)  # 8 sends in the open bucket: the rate halves to 4/s, and the bucket is empty
    assert (budget.limited, budget.rate, budget.throttles) == (True, 4.0, 1)
    assert run_queue(budget, [0.0] * 6) == [0.25, 0.5, 0.75, 1.0, 1.25, 1.5]


def test_an_idle_spell_refills_only_the_burst() -> None:
    budget = throttled_after(8)
    assert run_queue(budget, [100.0] * 4) == [100.0, 100.0, 100.25, 100.5]


def test_the_burst_allowance_is_configurable() -> None:
    budget = throttled_after(8, burst=1)
    assert run_queue(budget, [10.0] * 3) == [10.0, 10.25, 10.5]
    budget = throttled_after(8, burst=4)
    assert run_queue(budget, [10.0] * 6) == [10.0, 10.0, 10.0, 10.0, 10.25, 10.5]


@given(st.integers(1, 500), st.lists(st.floats(0.0, 50.0), min_size=1, max_size=40))
def test_every_caller_has_its_turn_whatever_the_rounding_of_its_waits(sends: int, arrivals: list[float]) -> None:
    budget = throttled_after(sends)  # rates like 3.5/s, whose waits do not add up exactly in floats or nanoseconds
    sent = run_queue(budget, arrivals)
    assert all(at >= arrival for at, arrival in zip(sent, arrivals, strict=True))
    assert budget.waiting == 0


def test_a_wait_is_worked_out_from_the_rate_of_the_moment_it_is_asked() -> None:
    budget = throttled_after(8)  # 4/s
    queue = [budget.join() for _ in range(3)]
    assert budget.turn(queue[2], 0.0) == 0.75  # two ahead of it, then its own send
    budget.throttled(0.1, sent=0.1)  # 2/s: the same caller now has longer to wait
    assert budget.turn(queue[2], 0.1) == pytest.approx((3 - 0.1 * 4) / 2)


def test_when_the_rate_recovers_the_whole_queue_goes_within_a_recheck() -> None:
    budget = throttled_after(1)  # the deepest drop: min_rate 0.5/s, and 200 callers queue behind it
    lifted = 20.0
    sent = run_queue(budget, [0.0] * 200, {lifted: budget.succeeded})  # 20 s of growth reach the ceiling
    assert not budget.limited
    assert sorted(sent)[:9] == [2.0 * i for i in range(1, 10)]  # 0.5/s until then
    # Fixed reservations would have kept the queue at 2 s apart for another 380 s.
    assert max(sent) <= lifted + RECHECK_AFTER
    assert budget.waiting == 0


def test_a_caller_that_leaves_takes_no_send_with_it() -> None:
    budget = throttled_after(8)  # 4/s
    first, gone, third = budget.join(), budget.join(), budget.join()
    assert budget.turn(third, 0.0) == 0.75
    budget.leave(gone)
    budget.leave(gone)  # twice is harmless
    assert budget.turn(third, 0.0) == 0.5
    assert budget.turn(first, 0.25) == 0.0
    assert budget.turn(third, 0.5) == 0.0
    assert budget.waiting == 0
    budget.leave(first)  # after its turn: nothing to give up
    with pytest.raises(ValueError, match="not waiting"):
        budget.turn(first, 1.0)


def test_the_drop_follows_the_measured_send_rate() -> None:
    budget = AdaptiveRate()
    for i in range(300):  # 100 requests a second for three seconds
        send(budget, i / 100)
    budget.throttled(3.0)
    assert budget.rate == pytest.approx(50, rel=0.01)
    assert budget.ceiling == pytest.approx(200, rel=0.01)


def test_a_slow_sender_drops_below_what_it_sent() -> None:
    budget = AdaptiveRate()
    for second in range(10):  # 4 requests a second
        for _ in range(4):
            send(budget, float(second))
    budget.throttled(10.0)
    assert budget.rate == pytest.approx(2.0, rel=0.01)


def test_quiet_seconds_count_as_sending_nothing() -> None:
    budget = AdaptiveRate()
    for _ in range(100):
        send(budget, 0.0)
    budget.throttled(3.5)  # 0.8 x 100, then two empty seconds at 0.2 each
    assert budget.rate == pytest.approx(0.5 * 80 * 0.2 * 0.2)


def test_a_throttle_while_limited_drops_from_what_was_sent_when_that_is_less() -> None:
    budget = throttled_after(64)  # allowed 32/s
    for second in range(1, 6):  # but only 2 sent a second
        send(budget, float(second))
        send(budget, float(second))
    budget.throttled(5.5, sent=5.5)
    assert budget.rate == pytest.approx(1.04, rel=0.01)  # half the measured ~2.08/s, not half of 32/s


def test_repeated_throttles_halve_down_to_min_rate_and_never_below() -> None:
    budget = throttled_after(64)
    rates = [budget.rate]
    for _ in range(10):
        budget.throttled(0.0)
        rates.append(budget.rate)
    assert rates == [32.0, 16.0, 8.0, 4.0, 2.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5]
    assert budget.throttles == 11
    budget = throttled_after(64, min_rate=3.0, beta=0.25)
    budget.throttled(0.0)
    assert budget.rate == 4.0
    budget.throttled(0.0)
    assert budget.rate == 3.0


def test_a_throttle_of_a_request_sent_before_the_last_drop_lowers_nothing() -> None:
    budget = throttled_after(64, at=10.0)
    for _ in range(31):  # the rest of the burst that was in flight when the first 429 came back
        budget.throttled(10.2, sent=10.0)
    assert (budget.rate, budget.throttles) == (32.0, 32)
    budget.throttled(10.5, sent=10.3)  # sent at the new rate, and still throttled
    assert budget.rate == 16.0
    budget.throttled(10.6, sent=10.5)
    assert budget.rate == 16.0


def test_recovery_is_gradual_and_ends_unlimited() -> None:
    budget = throttled_after(4)  # 4 sends: rate 2/s, ceiling 8/s
    assert (budget.rate, budget.ceiling) == (2.0, 8.0)
    budget.succeeded(0.5)
    assert budget.rate == 2.5  # +1/s for half a second
    budget.succeeded(2.5)
    assert budget.rate == 4.5
    budget.succeeded(2.5)
    assert budget.rate == 4.5  # no time passed, no growth
    budget.succeeded(5.0)
    assert budget.rate == 7.0
    budget.succeeded(6.0)  # reaches the ceiling
    assert state(budget) == (False, None, None)
    assert run_queue(budget, [6.0] * 50) == [6.0] * 50


def test_above_ten_per_second_recovery_is_ten_percent_a_second() -> None:
    budget = throttled_after(100)
    assert budget.rate == 50.0
    budget.succeeded(1.0)
    assert budget.rate == pytest.approx(55.0)
    budget.succeeded(3.0)
    assert budget.rate == pytest.approx(66.0)


def test_a_throttle_after_the_limit_was_lifted_limits_again() -> None:
    budget = throttled_after(4)
    budget.succeeded(60.0)
    assert not budget.limited
    for _ in range(20):
        send(budget, 60.5)
    budget.throttled(60.5, sent=60.5)
    assert (budget.rate, budget.ceiling) == (10.0, 40.0)


def test_many_callers_at_one_instant_go_in_order_at_min_rate() -> None:
    budget = throttled_after(1)  # the rate falls to min_rate: 0.5/s
    sent = run_queue(budget, [0.0] * 50)
    assert sent == sorted(sent)
    assert sent == pytest.approx([2.0 * (i + 1) for i in range(50)])


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"min_rate": 0}, "min_rate"),
        ({"min_rate": -1.0}, "min_rate"),
        ({"min_rate": float("inf")}, "min_rate"),
        ({"min_rate": float("nan")}, "min_rate"),
        ({"beta": 0.0}, "beta"),
        ({"beta": 1.0}, "beta"),
        ({"beta": float("nan")}, "beta"),
        ({"burst": 0}, "burst"),
        ({"burst": 1.5}, "burst"),
        ({"burst": True}, "burst"),
    ],
)
def test_bad_arguments_raise(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AdaptiveRate(**settings)  # type: ignore[arg-type]


times = st.floats(min_value=0.0, max_value=5.0, allow_nan=False)
events = st.lists(
    st.tuples(st.sampled_from(["join", "turn", "leave", "throttled", "throttled_sent", "succeeded"]), times, times),
    max_size=200,
)


@given(
    events,
    st.floats(min_value=0.01, max_value=10.0),
    st.floats(min_value=0.05, max_value=0.95),
    st.integers(1, 5),
)
def test_waits_are_never_negative_and_the_rate_stays_between_min_rate_and_the_ceiling(
    script: list[tuple[str, float, float]], min_rate: float, beta: float, burst: int
) -> None:
    budget = AdaptiveRate(min_rate=min_rate, beta=beta, burst=burst)
    waiting: list[int] = []
    now = 0.0
    for event, step, back in script:
        now += step
        if event == "join":
            waiting.append(budget.join())
        elif event in {"turn", "leave"} and waiting:
            ticket = waiting[int(back) % len(waiting)]
            if event == "leave":
                budget.leave(ticket)
                waiting.remove(ticket)
            elif (wait := budget.turn(ticket, now)) == 0.0:
                waiting.remove(ticket)
            else:
                assert wait > 0.0
                # Never longer than it takes the rate to fill a send for everyone ahead and this one.
                assert budget.rate is not None
                assert wait <= (waiting.index(ticket) + 1) / budget.rate + 1e-9
        elif event == "throttled":
            budget.throttled(now)
        elif event == "throttled_sent":
            budget.throttled(now, sent=max(0.0, now - back))
        elif event == "succeeded":
            budget.succeeded(now)
        assert budget.waiting == len(waiting)
        if budget.limited:
            assert budget.rate is not None
            assert budget.ceiling is not None
            assert min_rate <= budget.rate < budget.ceiling
        else:
            assert state(budget) == (False, None, None)
