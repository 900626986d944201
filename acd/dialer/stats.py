"""Live estimates a predictive dialer paces from: answer rate, ring-time distributions, handle times, abandons.

Every estimate starts from a prior (so the first minutes of a campaign are
sane) and follows the campaign as results arrive: the answer rates are
exponentially forgetting Beta estimates, the ring-time distributions are the
empirical distributions of the most recent outcomes, the handle time is a
lognormal fitted to recent calls. :class:`AbandonBudget` keeps the abandon
counts the cap is held to, over the campaign and a rolling 30 days.
Pure Python, no clock: times are passed in.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass

DAY = 86400.0


class RecentDistribution:
    """The empirical distribution of the last ``capacity`` samples (seeded with prior samples)."""

    def __init__(self, prior: list[float], capacity: int = 400) -> None:
        self.capacity = capacity
        self._order: deque[float] = deque()
        self._sorted: list[float] = []
        for value in prior:
            self.add(value)

    def add(self, value: float) -> None:
        value = max(0.0, float(value))
        self._order.append(value)
        bisect.insort(self._sorted, value)
        if len(self._order) > self.capacity:
            old = self._order.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]

    def survival(self, t: float) -> float:
        """P(T > t)."""
        n = len(self._sorted)
        return (n - bisect.bisect_right(self._sorted, t)) / n if n else 0.0

    def quantile(self, q: float) -> float:
        if not self._sorted:
            return 0.0
        index = min(len(self._sorted) - 1, max(0, int(q * len(self._sorted))))
        return self._sorted[index]

    def __len__(self) -> int:
        return len(self._sorted)


class ForgettingRate:
    """A success probability with a Beta prior of ``weight`` pseudo-trials, older trials fading by ``keep``."""

    def __init__(self, prior: float, weight: float = 20.0, keep: float = 0.995) -> None:
        self.successes = prior * weight
        self.trials = weight
        self.keep = keep

    def observe(self, success: bool) -> None:
        self.successes = self.successes * self.keep + (1.0 if success else 0.0)
        self.trials = self.trials * self.keep + 1.0

    @property
    def value(self) -> float:
        return self.successes / self.trials if self.trials else 0.0


class HandleTimes:
    """Lognormal handle times (talk + wrap-up), fitted to recent calls with forgetting; prior AHT and spread."""

    def __init__(self, prior_mean: float = 180.0, prior_sigma: float = 0.6, weight: float = 50.0,
                 keep: float = 0.998) -> None:
        self.keep = keep
        self.weight = weight
        mu = math.log(prior_mean) - prior_sigma ** 2 / 2
        self._w = weight
        self._sum = mu * weight
        self._sum_sq = (prior_sigma ** 2 + mu ** 2) * weight

    def observe(self, seconds: float) -> None:
        x = math.log(max(1.0, seconds))
        self._w = self._w * self.keep + 1.0
        self._sum = self._sum * self.keep + x
        self._sum_sq = self._sum_sq * self.keep + x * x

    @property
    def mu(self) -> float:
        return self._sum / self._w

    @property
    def sigma(self) -> float:
        return math.sqrt(max(1e-4, self._sum_sq / self._w - self.mu ** 2))

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma ** 2 / 2)

    def survival(self, t: float) -> float:
        if t <= 0:
            return 1.0
        return 0.5 * math.erfc((math.log(t) - self.mu) / (self.sigma * math.sqrt(2.0)))

    def done_within(self, elapsed: float, horizon: float) -> float:
        """P(a call ``elapsed`` seconds old ends within ``horizon`` more seconds)."""
        alive = self.survival(elapsed)
        if alive <= 1e-12:
            return 1.0
        return max(0.0, min(1.0, (alive - self.survival(elapsed + horizon)) / alive))


class DialStats:
    """What happens to a dialled call: answered (by a person or a machine) and when, or failed and when.

    ``live`` means "needs an agent": a person, or a machine when the campaign treats machines as live.
    The rates are learnt in the order calls were *placed*, not the order their results arrive: busy
    lines resolve in a second and unanswered calls only at the ring timeout, so counting results as
    they come would read the answer rate far too low right after a burst of calls and far too high a
    few seconds later. A result waits until every call placed before it has resolved (or was placed
    more than ``stale_after`` seconds ago, then it is given up).
    """

    def __init__(self, prior_answer: float = 0.35, prior_live: float = 0.85, prior_answer_delay: float = 7.0,
                 ring_timeout: float = 30.0) -> None:
        self.answered = ForgettingRate(prior_answer)
        self.live = ForgettingRate(prior_live)
        spread = [0.5, 0.7, 0.85, 1.0, 1.15, 1.3, 1.6, 2.0]
        #: until the call is known to need an agent (answer + detection), for live answers ...
        self.answer_delay = RecentDistribution([prior_answer_delay * f for f in spread])
        #: ... and for the others (machines pick up after several rings)
        self.other_delay = RecentDistribution([prior_answer_delay * 2 * f for f in spread])
        self.fail_time = RecentDistribution([1.5, 2.0, 3.0] + [ring_timeout + 1.0] * 5)
        self.stale_after = 4 * ring_timeout + 30.0
        self._pending: deque[list] = deque()  # [placed_at, key, outcome or None]
        self._by_key: dict[object, list] = {}

    def placed(self, key: object, at: float) -> None:
        """A call was placed (its result feeds the rates once the calls placed before it have resolved)."""
        entry = [at, key, None]
        self._pending.append(entry)
        self._by_key[key] = entry

    def observe_answer(self, delay: float, live: bool, key: object = None, now: float | None = None) -> None:
        (self.answer_delay if live else self.other_delay).add(delay)
        self._resolve(key, (True, live), now)

    def observe_failure(self, after: float, key: object = None, now: float | None = None) -> None:
        self.fail_time.add(after)
        self._resolve(key, (False, False), now)

    def _resolve(self, key: object, outcome: tuple[bool, bool], now: float | None) -> None:
        entry = self._by_key.pop(key, None) if key is not None else None
        if entry is None:  # not tracked by placement: count it now
            self._count(outcome)
            return
        entry[2] = outcome
        while self._pending:
            head = self._pending[0]
            if head[2] is None and not (now is not None and now - head[0] > self.stale_after):
                break
            self._pending.popleft()
            if head[2] is None:
                self._by_key.pop(head[1], None)
            else:
                self._count(head[2])

    def _count(self, outcome: tuple[bool, bool]) -> None:
        answered, live = outcome
        self.answered.observe(answered)
        if answered:
            self.live.observe(live)

    @property
    def p_live(self) -> float:
        """P(a new call becomes a live answer)."""
        return self.answered.value * self.live.value

    def live_within(self, elapsed: float, horizon: float | None = None) -> float:
        """P(a call unresolved after ``elapsed`` s becomes a live answer (within ``horizon`` more s))."""
        pa, pl = self.answered.value, self.live.value
        sa = self.answer_delay.survival(elapsed)
        unresolved = (pa * (pl * sa + (1.0 - pl) * self.other_delay.survival(elapsed))
                      + (1.0 - pa) * self.fail_time.survival(elapsed))
        if unresolved <= 1e-12:
            return 0.0
        later = 0.0 if horizon is None else self.answer_delay.survival(elapsed + horizon)
        return max(0.0, pa * pl * (sa - later) / unresolved)


@dataclass
class _Bucket:
    day: int
    answered: int = 0
    abandoned: int = 0


class AbandonBudget:
    """Live answered calls and abandoned ones: over the campaign and over the last ``window_days``."""

    def __init__(self, cap: float, window_days: int = 30, *, answered: int = 0, abandoned: int = 0,
                 answered_window: int = 0, abandoned_window: int = 0, now: float = 0.0) -> None:
        self.cap = cap
        self.window_days = window_days
        self.answered = answered
        self.abandoned = abandoned
        self._days: deque[_Bucket] = deque()
        if answered_window or abandoned_window:  # restored counts: kept for a whole window (conservative)
            self._days.append(_Bucket(int(now // DAY), answered_window, abandoned_window))

    def _bucket(self, now: float) -> _Bucket:
        day = int(now // DAY)
        while self._days and self._days[0].day <= day - self.window_days:
            self._days.popleft()
        if not self._days or self._days[-1].day != day:
            self._days.append(_Bucket(day))
        return self._days[-1]

    def record(self, abandoned: bool, now: float) -> None:
        """One live answered call: connected to an agent, or abandoned."""
        bucket = self._bucket(now)
        bucket.answered += 1
        self.answered += 1
        if abandoned:
            bucket.abandoned += 1
            self.abandoned += 1

    def window(self, now: float) -> tuple[int, int]:
        self._bucket(now)
        return sum(b.answered for b in self._days), sum(b.abandoned for b in self._days)

    def rate(self) -> float:
        return self.abandoned / self.answered if self.answered else 0.0

    def earned(self, now: float) -> float:
        """Abandons the live calls so far allow at the cap (before counting the ones that happened)."""
        return self.cap * min(self.answered, self.window(now)[0])

    def headroom(self, now: float) -> float:
        """How many more abandons the tighter of the two counts could take right now and stay within the cap."""
        answered_w, abandoned_w = self.window(now)
        return min(self.cap * self.answered - self.abandoned, self.cap * answered_w - abandoned_w)
