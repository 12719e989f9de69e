"""The client's send rate: a ceiling, Retry-After for everyone, congestion read as a trend (design §6, issue 19).

Pure and in virtual time: a saturated sender asks for its turns; a model server throttles above a cap (a token
bucket, as Fireworks' account cap) or at random.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import attrs
import pytest

from fwbatch_async._core.rate import SendRate


@attrs.define
class Run:
    sends: list[float] = attrs.Factory(list)
    throttled: list[bool] = attrs.Factory(list)

    def rate_between(self, start: float, end: float) -> float:
        return sum(start <= t < end for t in self.sends) / (end - start)

    def throttle_share_after(self, start: float) -> float:
        picked = [thr for t, thr in zip(self.sends, self.throttled, strict=True) if t >= start]
        return sum(picked) / len(picked)


def saturate(
    rate: SendRate,
    *,
    seconds: float,
    cap: Callable[[float], float] = lambda _: float("inf"),
    random_throttles: float = 0.0,
    seed: int = 1,
    start: float = 0.0,
) -> Run:
    """Send as fast as ``rate`` allows from ``start`` until ``seconds``, against a server capped at ``cap(now)``."""
    rng, run, now, tokens, filled = random.Random(seed), Run(), start, float("inf"), start
    while now < seconds:
        ticket = rate.join()
        while (wait := rate.turn(ticket, now)) > 0:
            now += min(wait, 1.0)
        allowed = cap(now)
        tokens = min(max(1.0, allowed), tokens + (now - filled) * allowed)
        filled = now
        throttled = tokens < 1 or rng.random() < random_throttles
        tokens -= not throttled
        run.sends.append(now)
        run.throttled.append(throttled)
        rate.answered(now, throttled=throttled)
    return run


def test_the_default_ceiling_is_ten_requests_a_second_after_a_small_burst() -> None:
    run = saturate(SendRate(), seconds=60)
    assert sum(t == 0.0 for t in run.sends) == 5  # the burst
    assert run.rate_between(1, 60) == pytest.approx(10.0, abs=0.2)  # the burst counts against the next 10 s


@pytest.mark.parametrize("idle", [0.0, 0.35, 3.0])
def test_no_ten_seconds_hold_more_than_the_ceilings_worth_a_burst_included(idle: float) -> None:
    """Sending flat out, idle for a moment (the bucket refills: a burst), then flat out again."""
    rate = SendRate(max_rate=10.0)
    first = saturate(rate, seconds=20)
    second = saturate(rate, seconds=40, start=20.0 + idle)
    sends = sorted(first.sends + second.sends)
    most = max(sum(start <= t < start + 10.0 for t in sends) for start in sends)
    assert most == 100
    assert second.rate_between(35, 40) == pytest.approx(10.0, abs=0.1)  # the full rate once the burst is repaid


def test_no_ceiling_is_an_explicit_choice() -> None:
    rate = SendRate(None)
    assert rate.rate(0.0) is None
    assert all(rate.turn(rate.join(), 0.0) == 0.0 for _ in range(1000))


def test_a_retry_after_pauses_every_caller_already_waiting() -> None:
    rate = SendRate(max_rate=10.0)
    waiting = [rate.join() for _ in range(3)]
    rate.paused(1.0, 5.0)
    assert [rate.turn(ticket, 2.0) for ticket in waiting] == [4.0, 4.0, 4.0]
    assert rate.turn(waiting[0], 6.0) == 0.0  # the pause is over, and the burst is there


@pytest.mark.parametrize("share", [0.01, 0.05, 0.07])
def test_isolated_and_random_throttles_do_not_collapse_the_rate(share: float) -> None:
    """Through 10 % random faults about 6.5 % of answers are 429 or 503: noise, not congestion."""
    run = saturate(SendRate(max_rate=10.0), seconds=600, random_throttles=share)
    assert run.rate_between(60, 600) >= 0.9 * 10.0


def test_one_throttle_among_successes_changes_nothing() -> None:
    rate = SendRate(max_rate=10.0)
    for second in range(30):
        rate.answered(second, throttled=second == 15)
    assert rate.rate(30.0) == 10.0
    assert rate.cuts == 0


@pytest.mark.parametrize("cap", [100.0, 30.0, 10 / 60])
def test_against_a_cap_it_settles_just_under_it(cap: float) -> None:
    """429s a small share of requests, once settled; the ceiling above the cap (or the free tier's 10 a minute)."""
    ceiling = 150.0 if cap > 1 else 10.0
    seconds = 600 if cap > 1 else 6000
    run = saturate(SendRate(max_rate=ceiling), seconds=seconds, cap=lambda _: cap)
    settled = seconds / 10
    assert run.throttle_share_after(settled) <= (0.02 if cap > 1 else 0.15)
    assert run.rate_between(settled, seconds) >= (0.85 if cap > 1 else 0.75) * cap


def test_a_cap_that_drops_is_followed_down_and_one_that_rises_is_found_again() -> None:
    def cap(now: float) -> float:
        return 100.0 if now < 200 else 50.0 if now < 500 else 100.0

    run = saturate(SendRate(max_rate=150.0), seconds=900, cap=cap)
    assert run.rate_between(260, 500) == pytest.approx(50.0, rel=0.1)
    lower = [thr for t, thr in zip(run.sends, run.throttled, strict=True) if 260 <= t < 500]
    assert sum(lower) / len(lower) <= 0.02
    assert run.rate_between(700, 900) >= 85.0  # found again, within a few minutes


def test_a_cut_is_to_what_the_server_accepted_in_one_step() -> None:
    rate = SendRate(max_rate=1000.0)
    run = saturate(rate, seconds=15, cap=lambda _: 20.0)
    assert rate.cuts == 1
    assert run.rate_between(11, 15) == pytest.approx(20.0, rel=0.2)


def test_throttles_that_all_come_at_one_instant_after_a_quiet_spell_cut_the_rate() -> None:
    """An outage: a window of nothing, then every answer at one instant is a 503 (a span of zero seconds)."""
    rate = SendRate(max_rate=10.0, min_throttles=100)  # a cut only once every answer in the window is a throttle
    rate.answered(0.0, throttled=False)
    for _ in range(30):
        rate.answered(30.0, throttled=True)
    assert rate.cuts == 1
    assert 0 < (rate.rate(30.0) or 0) < 10.0


def test_without_adaptation_only_the_ceiling_and_retry_after_apply() -> None:
    rate = SendRate(max_rate=50.0, adaptive=False)
    saturate(rate, seconds=60, cap=lambda _: 10.0)
    assert rate.cuts == 0
    assert rate.rate(60.0) == 50.0


@pytest.mark.parametrize(
    "settings",
    [{"max_rate": 0}, {"max_rate": -1.0}, {"max_rate": float("nan")}, {"beta": 1.0}, {"min_rate": 0.0}],
)
def test_bad_settings_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"."):
        SendRate(**settings)  # type: ignore[arg-type]


def test_a_caller_that_leaves_gives_its_place_to_the_next() -> None:
    rate = SendRate(max_rate=1.0)
    rate.turn(rate.join(), 0.0)  # the burst of one
    first, second = rate.join(), rate.join()
    assert rate.turn(second, 0.0) == pytest.approx(2.0)
    rate.leave(first)
    assert rate.turn(second, 0.0) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="not waiting"):
        rate.turn(first, 0.0)
