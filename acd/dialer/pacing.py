"""How many calls to place now: preview, progressive, fixed ratio and predictive pacing, as pure code.

The dialer (and ``bench/dialer_sim.py``) calls :meth:`Pacer.decide` with a
snapshot of the campaign's agents and lines, whenever something changes
and at least once a second, and places that many new calls.

* preview: none (the agent dials from the desk);
* automated (``ivr``): no agents; as many calls as the campaign's lines allow;
* progressive: one call per free agent, counting calls already ringing;
* ratio: ``ratio`` calls per free agent (the common naive baseline);
* predictive: a probabilistic over-dial with abandonment control.

The predictive model. At checkpoints ``t`` = 2, 4, ... seconds ahead (up to
the time nearly every live answer has come):

* live answers by ``t``, ``X(t)`` = answered calls waiting now + each
  ringing call's chance to turn live by ``t`` given how long it has already
  rung (from the live answer rate and the recent answer-time and
  failure-time distributions, learnt in the order calls were placed) + each
  new call's chance;
* agents by ``t`` + the connect deadline, ``A(t)`` = free agents + each busy
  agent's chance of finishing by then given how long its call has lasted
  (a lognormal fitted to recent handle times).

An answer finds no agent when ``X(t) > A(t)``; ``E[(X(t) - A(t))+]`` is
computed exactly (sums of Bernoulli variables) when few calls are involved,
with a normal approximation otherwise. The pacer places the largest number
of new calls for which the worst checkpoint's expected shortfall, per live
answer the calls in flight will bring, stays at or under a target.

The target closes the loop on what really happens. It is ``0.75 x cap x
gain``: the gain is a stochastic-approximation estimate that rises a little
with every connected call and falls with every abandoned one, settling
where the real abandon rate is 75 % of the cap whatever the model's bias;
while the campaign (or its rolling 30 days) has less than three abandons
of budget left the target is cut to a tenth; and a new campaign, whose
live calls have not yet earned one abandon (33 at a 3 % cap), is dialled
progressively -- never more calls out than free agents. So the model gives the responsiveness (it sees
agents about to free up and calls about to be answered) and the real
counts keep the campaign under its cap. It never hangs up a ringing
call to correct itself. See docs/outbound.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

from acd.dialer.stats import AbandonBudget, DialStats, HandleTimes
from crm_core.campaign_rules import CONNECT_DEADLINE_SECONDS

PREVIEW, PROGRESSIVE, RATIO, PREDICTIVE, AUTOMATED = "preview", "progressive", "ratio", "predictive", "ivr"
#: Lines an automated campaign holds at once when the trunk limit is not set.
AUTOMATED_LINES = 30
#: Above this many Bernoulli terms the normal approximation replaces the exact convolution.
EXACT_LIMIT = 40
#: The calibration gain: its bounds and learning rate (the log-gain moves by ETA per live answered call at the aim).
MIN_GAIN, MAX_GAIN, ETA = 0.01, 4.0, 0.004
#: The share of the cap the pacer aims at (the rest is the margin that keeps it under the cap).
AIM = 0.75
#: With less budget than this (abandons) left, the target is cut to GUARD of itself.
GUARD_HEADROOM, GUARD = 3.0, 0.1


@dataclass(frozen=True)
class PacingPolicy:
    """A campaign's pacing settings as the pacer needs them."""

    mode: str = PREDICTIVE
    ratio: float = 2.0
    abandon_cap: float = 0.03
    connect_deadline: float = CONNECT_DEADLINE_SECONDS
    max_lines: int | None = None  # trunk channels the campaign may hold at once
    max_new_per_decision: int = 50


@dataclass(frozen=True)
class Snapshot:
    """The campaign's agents and lines at one moment."""

    free_agents: int
    busy_elapsed: Sequence[float] = ()  # seconds into the current call (talk + wrap-up) of each busy agent
    ringing_elapsed: Sequence[float] = ()  # seconds since each unanswered in-flight call was placed
    waiting: int = 0  # answered live calls waiting for an agent right now
    lines_in_use: int | None = None  # every call of the campaign still up (automated campaigns pace on lines)


@dataclass(frozen=True)
class Decision:
    calls: int
    mode: str
    expected_live: float = 0.0
    expected_agents: float = 0.0
    risk: float = 0.0
    target: float = 0.0


@dataclass
class Pacer:
    """Decides how many calls to place; fed with outcomes through ``stats``, ``handle`` and ``budget``."""

    policy: PacingPolicy
    stats: DialStats = field(default_factory=DialStats)
    handle: HandleTimes = field(default_factory=HandleTimes)
    budget: AbandonBudget | None = None
    gain: float = 1.0
    last: Decision = field(default=Decision(0, PREDICTIVE))

    def __post_init__(self) -> None:
        if self.budget is None:
            self.budget = AbandonBudget(self.policy.abandon_cap)

    # -- outcomes ---------------------------------------------------------------------------------
    def placed(self, key: object, now: float) -> None:
        self.stats.placed(key, now)

    def answered(self, delay: float, live: bool, key: object = None, now: float | None = None) -> None:
        self.stats.observe_answer(delay, live, key, now)

    def failed(self, after: float, key: object = None, now: float | None = None) -> None:
        self.stats.observe_failure(after, key, now)

    def connected(self, now: float) -> None:
        assert self.budget is not None
        self.budget.record(False, now)
        self._calibrate(False)

    def abandoned(self, now: float) -> None:
        assert self.budget is not None
        self.budget.record(True, now)
        self._calibrate(True)

    def _calibrate(self, abandoned: bool) -> None:
        """Stochastic approximation: the gain settles where the real abandon rate is AIM x the cap."""
        aim = max(AIM * self.policy.abandon_cap, 1e-4)
        step = ETA * (aim - (1.0 if abandoned else 0.0)) / aim
        self.gain = min(MAX_GAIN, max(MIN_GAIN, self.gain * math.exp(step)))

    def handled(self, seconds: float) -> None:
        self.handle.observe(seconds)

    # -- the decision ---------------------------------------------------------------------------------
    def decide(self, snap: Snapshot, now: float) -> Decision:
        """How many new calls to place now."""
        mode = self.policy.mode
        in_flight = len(snap.ringing_elapsed) + snap.waiting
        room = self.policy.max_new_per_decision
        if self.policy.max_lines is not None:
            room = min(room, self.policy.max_lines - in_flight)
        if mode in (PREVIEW,) or room <= 0:
            calls = 0
        elif mode == PROGRESSIVE:
            calls = snap.free_agents - in_flight
        elif mode == AUTOMATED:  # no agents: as many calls as the lines allow
            used = snap.lines_in_use if snap.lines_in_use is not None else in_flight
            calls = (self.policy.max_lines or AUTOMATED_LINES) - used
        elif mode == RATIO:
            calls = math.ceil(self.policy.ratio * snap.free_agents) - in_flight
        else:
            self.last = self._predictive(snap, now, room)
            return self.last
        self.last = Decision(max(0, min(calls, room)), mode)
        return self.last

    def target(self, now: float) -> float:
        """The model's expected-abandon fraction aimed at now: the calibrated cap, cut when the budget is spent."""
        assert self.budget is not None
        target = AIM * self.policy.abandon_cap * self.gain
        if self.budget.headroom(now) < GUARD_HEADROOM:
            target *= GUARD
        return target

    def _predictive(self, snap: Snapshot, now: float, room: int) -> Decision:
        assert self.budget is not None
        if self.budget.earned(now) < 1.0:
            # a new campaign has not one abandon to spare: dial progressively, which never has more calls
            # out than free agents, until connected calls have earned a budget
            calls = max(0, min(room, snap.free_agents - len(snap.ringing_elapsed) - snap.waiting))
            return Decision(calls, PREDICTIVE, target=0.0)
        stats, deadline = self.stats, self.policy.connect_deadline
        last = stats.answer_delay.quantile(0.98)
        checkpoints = [t for t in CHECKPOINTS if t < last] + [last]
        windows = [_Window(snap, stats, self.handle, t, deadline) for t in checkpoints]
        target = self.target(now)
        final = windows[-1]
        calls, risk = 0, max(w.risk(0, final) for w in windows)
        while calls < room:
            trial = max(w.risk(calls + 1, final) for w in windows)
            if trial > target:
                break
            calls, risk = calls + 1, trial
        return Decision(calls, PREDICTIVE, final.mean_x(calls), final.mean_a, risk, target)


#: Seconds ahead at which answers so far are compared with agents free by then (+ the connect deadline).
CHECKPOINTS = (2.0, 4.0, 6.0, 8.0, 11.0, 15.0, 20.0, 30.0)


class _Window:
    """Live answers expected by ``t`` seconds from now against agents free by ``t`` + the connect deadline."""

    def __init__(self, snap: Snapshot, stats: DialStats, handle: HandleTimes, t: float, deadline: float) -> None:
        self.free, self.waiting = snap.free_agents, snap.waiting
        self.agents = [handle.done_within(e, t + deadline) for e in snap.busy_elapsed]
        self.lines = [stats.live_within(e, t) for e in snap.ringing_elapsed]
        self.fresh = stats.live_within(0.0, t)
        self.mean_a = self.free + sum(self.agents)
        self._mean_lines = self.waiting + sum(self.lines)
        self._var = sum(p * (1 - p) for p in self.agents) + sum(p * (1 - p) for p in self.lines)

    def mean_x(self, new: int) -> float:
        return self._mean_lines + new * self.fresh

    def risk(self, new: int, final: "_Window") -> float:
        """Expected answers without an agent by this checkpoint, per live answer the calls will bring."""
        total = final.mean_x(new)
        if total <= 1e-9:
            return 0.0
        if len(self.agents) + len(self.lines) + new <= EXACT_LIMIT:
            excess = _exact_excess(self.free, self.agents, self.waiting, self.lines + [self.fresh] * new)
        else:
            var = self._var + new * self.fresh * (1 - self.fresh)
            excess = _normal_excess(self.mean_x(new) - self.mean_a - 0.5, math.sqrt(max(var, 1e-9)))
        return excess / total


def _poisson_binomial(probabilities: list[float]) -> list[float]:
    dist = [1.0]
    for p in probabilities:
        nxt = [0.0] * (len(dist) + 1)
        for k, value in enumerate(dist):
            nxt[k] += value * (1 - p)
            nxt[k + 1] += value * p
        dist = nxt
    return dist


def _exact_excess(free: int, agents: list[float], waiting: int, lines: list[float]) -> float:
    x = _poisson_binomial(lines)
    a = _poisson_binomial(agents)
    total = 0.0
    for i, px in enumerate(x):
        if px < 1e-12:
            continue
        for j, pa in enumerate(a):
            short = waiting + i - free - j
            if short > 0:
                total += px * pa * short
    return total


def _normal_excess(mean: float, sd: float) -> float:
    """E[(D)+] for D ~ Normal(mean, sd)."""
    z = mean / sd
    pdf = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * math.erfc(-z / math.sqrt(2))
    return sd * pdf + mean * cdf
