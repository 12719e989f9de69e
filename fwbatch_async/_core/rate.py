"""How fast one client sends: a ceiling, the server's ``Retry-After`` for everyone, and congestion read as a trend.

Fireworks caps an account at 6,000 requests a minute across all its API use, inference included (10 a minute without
a payment method). A client that follows logs shares that cap with its user's production traffic, so it is a good
citizen first and fast second:

- **A ceiling.** Never faster than ``max_rate`` (10 requests/s by default, a tenth of the paid cap), with a small
  burst after an idle spell that still counts against the ceiling: no 10 s ever holds more than ``10 x max_rate``
  sends.
- **Retry-After is for everyone.** A throttle that names a wait pauses every send of the client until then, not only
  the request that got it.
- **Congestion is a trend.** The rate is cut when throttles (429, 503) are a sustained share of the answers of the
  last window (``threshold`` more than the share that stayed after the last cut, and at least ``min_throttles``),
  not on each one: an isolated throttle among successes moves nothing, and throttles that do not go away when the
  rate is cut (random faults) are learnt as noise. Other failures (500, 502, a cut-off body) are failures to retry,
  not congestion.
  A cut sets the rate just under what the server accepted over the window (``beta`` of it): against a cap, one cut
  lands under it wherever the rate was. Then the rate grows back along a cubic: quickly to the rate of the cut
  within ``recovery`` seconds, slowly around it, faster again beyond, so a cap that was raised is found again. At
  most one cut per window: the answers to requests sent before a cut say nothing about the rate after it.

Of the known designs, this follows botocore's adaptive mode (a cut to a fraction of the measured rate, CUBIC
regrowth towards the rate of the last cut, the curve of TCP CUBIC) for *what to do*, and takes from gRPC's retry
throttling and Google SRE's client-side adaptive throttling their way of judging a *share* of recent answers for
*when*: botocore cuts on every throttle, so random 429s among successes keep a client at a fraction of its rate
(measured: 5 times slower through 10 % random faults); SRE's throttling lets a client send up to K times what is
accepted, which against a fixed account cap is the opposite of a good citizen; gRPC's limits retries, not the rate.

Pure: the caller passes the time (monotonic seconds) and does the waiting. Callers take turns in order
(:meth:`SendRate.join`, :meth:`~SendRate.turn`, :meth:`~SendRate.leave`); a turn's wait is computed from the rate of
the moment it is asked, so a pause or a cut reaches callers already waiting.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import deque
from typing import Final

__all__ = ["CEILING_SPAN", "RECHECK_AFTER", "THROTTLE_STATUSES", "SendRate"]

THROTTLE_STATUSES: Final = frozenset({429, 503})
"""HTTP statuses that mean "slow down": they count towards congestion."""

RECHECK_AFTER: Final = 1.0
"""The longest a waiting caller sleeps before asking again, so a change of rate reaches the whole queue soon."""

CEILING_SPAN: Final = 10.0
"""Seconds over which sends never exceed the ceiling's worth, a burst included."""
_CLOSE_ENOUGH: Final = 1e-6  # a shorter wait is a turn: clocks count in ns or coarser, so it might never pass
_MIN_ANSWERS: Final = 20  # at low rates the window stretches to hold this many answers
_HOLD: Final = 0.97  # after a cut the rate levels off at this fraction of what the server accepted
_MAX_NOISE: Final = 0.15  # a larger share of throttles that stays after a cut is congestion, not noise
_NOISE_DECAY: Final = 0.8  # what is kept of the noise floor when a window after a cut measures less


class SendRate:
    """How fast a client may send now; see the module documentation for the rules.

    Args:
        max_rate: the ceiling in requests per second, or ``None`` for none (the rate still drops on congestion).
        adaptive: cut the rate on congestion (``False``: the ceiling and Retry-After only).
        min_rate: the lowest rate a cut goes to (an account without a payment method gets 10 requests a minute).
        window: seconds of answers judged for congestion (longer at low rates: never fewer than 20 answers).
        threshold: the share of throttles in the window that is congestion.
        min_throttles: the fewest throttles in the window that are congestion.
        beta: a cut sets the rate to this fraction of the rate the server accepted.
        recovery: seconds after a cut at which the rate is back just under the rate the server accepted; it
            stays there about as long again before it probes above.

    Raises:
        ValueError: an argument out of range.

    Example:
        >>> rate = SendRate(max_rate=10.0)
        >>> [rate.turn(rate.join(), 0.0) for _ in range(4)]  # a burst of 5, then 10 a second
        [0.0, 0.0, 0.0, 0.0]
        >>> rate.paused(0.0, 3.0)  # a Retry-After of 3 s: everyone waits
        >>> rate.turn(rate.join(), 1.0)
        2.0
    """

    def __init__(
        self,
        max_rate: float | None = 10.0,
        *,
        adaptive: bool = True,
        min_rate: float = 0.1,
        window: float = 10.0,
        threshold: float = 0.03,
        min_throttles: int = 5,
        beta: float = 0.9,
        recovery: float = 30.0,
    ) -> None:
        if max_rate is not None and not (math.isfinite(max_rate) and max_rate > 0):
            raise ValueError(f"max_rate must be a positive number of requests per second or None, got {max_rate!r}")
        if not (math.isfinite(min_rate) and min_rate > 0):
            raise ValueError(f"min_rate must be a positive number of requests per second, got {min_rate!r}")
        if not 0 < beta < 1:
            raise ValueError(f"beta must be between 0 and 1 (exclusive), got {beta!r}")
        if not (window > 0 and recovery > 0 and 0 < threshold < 1 and min_throttles >= 1):
            raise ValueError("window and recovery must be positive, threshold in (0, 1), min_throttles >= 1")
        self._ceiling = math.inf if max_rate is None else float(max_rate)
        self._adaptive = adaptive
        self._min_rate = min(float(min_rate), self._ceiling)
        self._window = float(window)
        self._threshold = float(threshold)
        self._min_throttles = min_throttles
        self._beta = float(beta)
        self._recovery = float(recovery)
        self._burst = _burst(self._ceiling)
        # The sends of the last CEILING_SPAN seconds, as many as the ceiling allows in it: a burst borrows from them.
        span_sends = None if math.isinf(self._ceiling) else max(1, math.floor(CEILING_SPAN * self._ceiling))
        self._sent: deque[float] = deque(maxlen=span_sends)
        self._tokens = self._burst  # sends the bucket holds
        self._filled = -math.inf  # when the bucket was last filled up to date
        self._waiting: list[int] = []  # tickets of callers waiting for their turn, in order
        self._tickets = itertools.count()
        self._paused_until = -math.inf
        self._answers: deque[tuple[float, bool]] = deque()  # (when, throttled) in the window
        self._judging_since: float | None = None  # answers since then are judged: the first, or the last cut
        self._throttles_in_window = 0
        self._cut_at: float | None = None  # when the rate was last cut
        self._cut_rate = math.inf  # the accepted rate the last cut was measured at
        self._cut_recovery = self._recovery  # longer at low rates, where a window holds fewer answers
        self._noise = 0.0  # the share of throttles that does not go away when the rate is cut (random faults)
        self._noise_judged = True  # the window after the last cut has been judged for noise
        self._cuts = 0

    # --- what it says ------------------------------------------------------------------------------------------

    def rate(self, now: float) -> float | None:
        """The requests per second allowed at ``now``, or ``None`` while nothing limits them."""
        rate = self._rate(now)
        return None if math.isinf(rate) else rate

    @property
    def cuts(self) -> int:
        """How many times congestion cut the rate."""
        return self._cuts

    # --- taking turns ------------------------------------------------------------------------------------------

    def join(self) -> int:
        """Join the queue: the ticket to ask :meth:`turn` with."""
        ticket = next(self._tickets)
        self._waiting.append(ticket)  # tickets grow, so the list stays sorted
        return ticket

    def turn(self, ticket: int, now: float) -> float:
        """Whether ``ticket``'s turn has come: 0.0 to send now, else the seconds to wait before asking again.

        A 0.0 uses the ticket up and counts as a send.

        Raises:
            ValueError: the ticket is not waiting (it had its turn, left, or never joined).
        """
        position = bisect.bisect_left(self._waiting, ticket)
        if position == len(self._waiting) or self._waiting[position] != ticket:
            raise ValueError(f"ticket {ticket} is not waiting")
        if self._paused_until - now > _CLOSE_ENOUGH:
            return self._paused_until - now
        rate = self._rate(now)
        if not math.isinf(rate):
            self._fill(now, rate)
            wait = (position + 1 - self._tokens) / rate  # a send for everyone ahead, and one for this ticket
            span_wait = self._span_wait(position, now)
            if span_wait > max(wait, 0.0):
                # The span is full: nothing accrues until it has room, or the first burst would recur every span.
                self._tokens, self._filled = 0.0, now + span_wait - position / rate
                wait = span_wait
            if wait > _CLOSE_ENOUGH:
                return wait
            self._tokens = max(0.0, self._tokens - 1)
            self._sent.append(now)
        del self._waiting[position]
        return 0.0

    def leave(self, ticket: int) -> None:
        """Give up ``ticket``'s place (a cancelled caller); nothing happens if it is not waiting."""
        position = bisect.bisect_left(self._waiting, ticket)
        if position < len(self._waiting) and self._waiting[position] == ticket:
            del self._waiting[position]

    # --- what the server said ----------------------------------------------------------------------------------

    def paused(self, now: float, seconds: float) -> None:
        """The server asked for a pause (``Retry-After``) at ``now``: no send of this client before it ends."""
        self._paused_until = max(self._paused_until, now + max(0.0, seconds))

    def answered(self, now: float, *, throttled: bool) -> None:
        """An answer came at ``now``: a throttle (429, 503) or not. Cuts the rate when throttles are a trend."""
        answers = self._answers
        if self._judging_since is None:
            self._judging_since = now
        answers.append((now, throttled))
        self._throttles_in_window += throttled
        horizon = now - self._window
        while len(answers) > _MIN_ANSWERS and answers[0][0] < horizon:
            self._throttles_in_window -= answers.popleft()[1]
        if self._adaptive and (throttled or not self._noise_judged) and self._congested(now):
            self._cut(now)

    # --- inside ------------------------------------------------------------------------------------------------

    def _congested(self, now: float) -> bool:
        since = self._judging_since
        if since is None or now - since < self._window:
            return False  # judged on a full window of answers, all given after the last cut: never on a sliver
        count, throttles = len(self._answers), self._throttles_in_window
        if not self._noise_judged:
            # The first window after a cut, at a rate under what was accepted: throttles that stay are not ours,
            # unless they are many (a cap that dropped while the window before the cut was judged). The floor
            # decays slowly, so one quiet window does not forget it.
            self._noise_judged = True
            if throttles <= _MAX_NOISE * count:
                self._noise = max(_NOISE_DECAY * self._noise, throttles / count)
        expected = self._noise * count
        # More throttles than the noise explains: beyond three standard deviations of it, and by enough.
        excess = throttles - expected
        return excess >= max(min(self._min_throttles, count), self._threshold * count, 3 * math.sqrt(expected))

    def _cut(self, now: float) -> None:
        """Set the rate just under what the server accepted over the window, and start regrowing from there."""
        # Over a window at least: answers can all come at one instant (after a pause), and a cut is judged on a full
        # window since the last one, so a shorter span only means the client sent nothing for part of it.
        span = max(now - self._answers[0][0], self._window)
        accepted = (len(self._answers) - self._throttles_in_window) / span
        current = self._rate(now)
        self._cut_rate = max(self._min_rate, min(current, accepted))
        self._cut_at = self._judging_since = now
        self._cut_recovery = max(self._recovery, 3 * span)
        self._noise_judged = False
        self._cuts += 1
        self._answers.clear()
        self._throttles_in_window = 0
        rate = self._rate(now)
        self._fill(now, rate)
        self._tokens = min(self._tokens, 1.0)  # the burst after a cut is one send

    def _span_wait(self, position: int, now: float) -> float:
        """How long until the last ``CEILING_SPAN`` seconds hold room for the sends of ``position`` and those ahead."""
        sent, most = self._sent, self._sent.maxlen
        if most is None or len(sent) < most:
            return 0.0
        # Full: the send at ``position`` goes once the (position + 1)-th oldest has left the span.
        return sent[min(position, most - 1)] + CEILING_SPAN - now

    def _rate(self, now: float) -> float:
        """The allowed rate at ``now``: the ceiling, or the cubic regrowth after the last cut."""
        if self._cut_at is None:
            return self._ceiling
        # W(t) = W0 (h + (h - beta) x^3), x = t / K - 1: beta W0 at the cut, h W0 (just under what was accepted)
        # after K = ``recovery``, flat around there, then faster and faster above: a raised cap is found again.
        x = (now - self._cut_at) / self._cut_recovery - 1.0
        grown = self._cut_rate * (_HOLD + (_HOLD - self._beta) * x * x * x)
        return max(self._min_rate, min(self._ceiling, grown))

    def _fill(self, now: float, rate: float) -> None:
        """Add the sends ``rate`` earned since the last fill, up to the burst."""
        if now > self._filled:
            if math.isinf(self._filled):
                self._tokens = self._burst
            else:
                self._tokens = min(_burst(rate), self._tokens + (now - self._filled) * rate)
            self._filled = now


def _burst(rate: float) -> float:
    """Sends that may go back to back after an idle spell: half a second's worth, 1 to 5."""
    return 5.0 if math.isinf(rate) else min(5.0, max(1.0, rate / 2))
