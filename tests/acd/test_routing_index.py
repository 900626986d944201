"""The routing index (lines by requirement signature) decides exactly as a scan of the whole line.

Seeded random property tests: random agents, skills, levels, priorities and
strategies; random sequences of enqueue, offer, answer, failed offer (caller
back to the head), hang-up, in-place skill widening, re-entry with a new
priority, previous-agent assignment, lookup pending, agent skill changes and
logins. After every step the index must mirror the line
(``CallQueue.index_problems``); at random points a random set of agents is
made available *without* routing and ``Router.plan`` (the index) must equal
``Router.plan_scan`` (the reference scan), then the ACD routes for real.
"""

from __future__ import annotations

import copy
import random

import pytest

from acd import connect
from acd.agents import AgentState
from acd_helpers import Harness

SKILLS = ["zh", "en", "yue", "returns", "vip", "tv"]
STRATEGIES = ["longest_idle", "skills_based", "fewest_calls", "round_robin", "previous_agent"]


def _skills(rnd: random.Random, most: int, low: int = 0) -> dict[str, int]:
    return {s: rnd.randint(low, 5) for s in rnd.sample(SKILLS, rnd.randint(0, most))}


def _plan_view(plan, previous: bool):
    rows = [(c.uuid, ch.agent.id if ch.agent else None, ch.reason, ch.strategy, n) for c, ch, n in plan]
    if previous:  # the index skips callers without candidates (their "wait"/"nobody" decisions); agents must match
        rows = [(u, a) for u, a, *_ in rows if a is not None]
    return rows


def _compare(h: Harness, rnd: random.Random) -> int:
    """Make a random set of resting agents available without routing; index plan == scan plan."""
    acd, cq = h.acd, h.acd.queues["q"]
    resting = [a for a in acd.board.all() if a.state in (AgentState.NOT_READY, AgentState.BREAK) and a.queues]
    for agent in rnd.sample(resting, rnd.randint(0, len(resting))):
        h.clock.advance(rnd.choice([0, 0.5, 3]))
        acd.board.restore(agent.id, AgentState.AVAILABLE, None, agent.queues)
    now = h.clock.seconds()
    memory = acd.router._memory.setdefault("q", {})
    indexed = acd.router.plan(cq, now, memory=copy.deepcopy(memory))
    scanned = acd.router.plan_scan(cq, now, memory=copy.deepcopy(memory))
    previous = cq.config.strategy == "previous_agent"
    assert _plan_view(indexed, previous) == _plan_view(scanned, previous)
    return sum(1 for _c, ch, _n in indexed if ch.agent is not None)


def _step(h: Harness, rnd: random.Random, legs: list) -> None:
    acd, cq = h.acd, h.acd.queues["q"]
    waiting = [c for c in cq if not c.done]
    ringing = [leg for leg in legs if leg.rings and not leg.ring.deferred.called and not leg.gone]
    op = rnd.randrange(12)
    if op == 0 or not waiting:
        leg, _ = h.call("q", skills=_skills(rnd, 2, low=1 if rnd.random() < 0.8 else 0),
                        priority=rnd.choice([0, 0, 0, 10, 20]))
        legs.append(leg)
    elif op == 1 and ringing:  # answered, talked, hung up
        leg = rnd.choice(ringing)
        leg.ring.answer()
        leg.ring.end()
    elif op == 2 and ringing:  # the agent did not answer: the caller goes back to the head of its band
        rnd.choice(ringing).ring.fail(rnd.choice([connect.NO_ANSWER, connect.BUSY]))
    elif op == 3:  # the caller hangs up (waiting or ringing)
        caller = rnd.choice(waiting)
        if not caller.leg.gone:
            caller.leg.hang_up()
    elif op == 4:  # widen in place, as overflow "widen" does
        caller = rnd.choice(waiting)
        if caller.skills and rnd.random() < 0.5:
            caller.skills.pop(rnd.choice(list(caller.skills)))
        else:
            caller.skills[rnd.choice(SKILLS)] = rnd.randint(0, 3)
    elif op == 5:  # another priority: re-entry (as a blind transfer to a queue does) or in place
        caller = rnd.choice(waiting)
        if caller.offering is None and caller.answered_at is None:
            if rnd.random() < 0.5:
                cq.remove(caller)
                caller.priority += rnd.choice([5, -5, 10])
                cq.add(caller)
            else:
                caller.priority += rnd.choice([5, -5, 10])
    elif op == 6:
        rnd.choice(waiting).previous_agent_id = rnd.choice([None, *range(1, 13)])
    elif op == 7:
        caller = rnd.choice(waiting)
        caller.lookup_pending = not caller.lookup_pending
    elif op == 8:  # an agent's skills change (admin edit) while resting or working
        agent = rnd.choice(list(acd.board.all()))
        acd.add_agent(agent.id, agent.extension, skills=_skills(rnd, 4, low=1))
    elif op == 9:  # agents come and go
        agent = rnd.choice(list(acd.board.all()))
        if agent.state is AgentState.LOGGED_OUT:
            acd.login(agent.id, ["q"], AgentState.NOT_READY)
        elif agent.state in (AgentState.NOT_READY, AgentState.AVAILABLE, AgentState.BREAK):
            acd.set_state(agent.id, rnd.choice([s for s in ("not_ready", "break", "logged_out")
                                                if s != agent.state.value]))
    else:  # a decision point: index == scan, then route for real
        _compare(h, rnd)
        acd.route("q")
    assert cq.index_problems() == []


@pytest.mark.parametrize("seed", range(60))
def test_index_decides_as_the_scan_through_random_histories(seed):
    rnd = random.Random(seed)
    h = Harness()
    h.queue("q", strategy=STRATEGIES[seed % len(STRATEGIES)], fallback_strategy=rnd.choice(STRATEGIES[:4]),
            wrapup_seconds=0, required_skills=_skills(rnd, 1, low=1) if rnd.random() < 0.3 else {})
    for agent_id in range(1, 13):
        h.agent(agent_id, queues=("q",), skills=_skills(rnd, 4, low=rnd.choice([0, 1])), login=False)
        h.acd.login(agent_id, ["q"], AgentState.NOT_READY)
    legs: list = []
    for _ in range(rnd.randint(5, 40)):
        leg, _ = h.call("q", skills=_skills(rnd, 2, low=1), priority=rnd.choice([0, 0, 10]))
        legs.append(leg)
    for _ in range(150):
        _step(h, rnd, legs)


def test_index_matches_scan_on_large_random_snapshots():
    """Many callers and free agents at once (the greedy multi-agent case)."""
    for seed in range(20):
        rnd = random.Random(1000 + seed)
        h = Harness()
        h.queue("q", strategy=rnd.choice(STRATEGIES[:4]))
        for agent_id in range(1, 81):
            h.agent(agent_id, queues=("q",), skills=_skills(rnd, 3, low=1), login=False)
            h.acd.login(agent_id, ["q"], AgentState.NOT_READY)
        for _ in range(300):
            h.call("q", skills=_skills(rnd, 2, low=1), priority=rnd.choice([0, 0, 10, 20]))
        assert _compare(h, rnd) >= 0
        assert h.acd.queues["q"].index_problems() == []


def test_freed_agent_only_looks_at_lines_it_qualifies_for():
    h = Harness()
    h.queue("q", strategy="skills_based")
    h.agent(1, queues=("q",), skills={"en": 3}, login=False)
    h.acd.login(1, ["q"], AgentState.NOT_READY)
    for i in range(200):
        h.call("q", skills={f"x{i % 50}": 1})
    en, _ = h.call("q", skills={"en": 2})
    cq = h.acd.queues["q"]
    assert len(cq.eligible_lines(h.acd.board.get(1))) == 1
    h.acd.set_state(1, "available")
    assert en.ring.extension == "1001"


def test_widened_skills_refile_the_caller_and_route():
    h = Harness()
    h.queue("q", strategy="longest_idle", max_wait=30, overflow=__import__("acd").Overflow("widen", widen={"ko": 0}))
    h.agent(1, queues=("q",), skills={"zh": 1})
    leg, _ = h.call("q", skills={"ko": 1, "zh": 1})
    assert leg.rings == []
    h.clock.advance(30)
    assert leg.ring.extension == "1001"
    assert h.acd.queues["q"].index_problems() == []


def test_priority_changed_in_place_moves_the_caller_in_line_and_index():
    h = Harness()
    h.queue("q", strategy="longest_idle")
    first, _ = h.call("q")
    second, _ = h.call("q")
    cq = h.acd.queues["q"]
    h.acd.callers[second.uuid].priority = 10  # no remove/add: the caller re-files itself
    assert [c.uuid for c in cq] == [second.uuid, first.uuid]
    assert cq.position(h.acd.callers[second.uuid]) == 1 and cq.index_problems() == []
    h.agent(1, queues=("q",))
    assert second.ring.extension == "1001" and first.rings == []
