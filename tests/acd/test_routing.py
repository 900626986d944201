"""Routing strategies through the ACD, with a task.Clock: each strategy, previous agent wait-then-fallback."""

from __future__ import annotations

import pytest

from acd.exceptions import UnknownStrategy
from acd.routing import get_strategy, strategy_names


def test_longest_idle_strategy_picks_the_agent_available_longest(h):
    h.queue(strategy="longest_idle")
    h.agent(1)
    h.clock.advance(10)
    h.agent(2)
    h.agent(3)
    leg, _ = h.call()
    assert leg.ring.extension == "1001"
    assert "longest idle" in h.pops[0]["reason"]


def test_round_robin_strategy_rotates_through_agents(h):
    h.queue(strategy="round_robin", wrapup_seconds=0)
    for i in (1, 2, 3):
        h.agent(i)
    picked = []
    for _ in range(4):
        leg, _r = h.call()
        picked.append(leg.ring.extension)
        leg.ring.answer()
        leg.ring.end()
    assert picked == ["1001", "1002", "1003", "1001"]


def test_fewest_calls_strategy_picks_the_agent_with_fewest_calls_today(h):
    h.queue(strategy="fewest_calls", wrapup_seconds=0)
    h.agent(1)
    h.agent(2, login=False)
    for _ in range(2):  # agent 1 takes two calls while agent 2 is away
        leg, _r = h.call()
        leg.ring.answer()
        leg.ring.end()
    h.acd.login(2, ["sales"])
    h.clock.advance(1)
    h.acd.set_state(1, "break")
    h.acd.set_state(1, "available")  # agent 1 is now the most recently idle but has more calls
    leg, _ = h.call()
    assert leg.ring.extension == "1002"


def test_skills_based_strategy_picks_best_skill_match_then_longest_idle(h):
    h.queue(strategy="skills_based")
    h.agent(1, skills={"mandarin": 3, "returns": 3})
    h.agent(2, skills={"mandarin": 9, "returns": 5})
    h.agent(3, skills={"mandarin": 9, "returns": 5})
    leg, _ = h.call(skills={"mandarin": 2, "returns": 1})
    assert leg.ring.extension == "1002"  # ties with 3 on skill; 2 idle longer


def test_agent_below_a_required_minimum_level_is_never_offered(h):
    h.queue(strategy="longest_idle", required_skills={"cantonese": 5})
    h.agent(1, skills={"cantonese": 4})
    leg, _ = h.call()
    assert leg.rings == []
    h.agent(2, skills={"cantonese": 5})
    assert leg.ring.extension == "1002"


def test_caller_needing_a_missing_skill_does_not_block_the_next_caller(h):
    h.queue(strategy="longest_idle")
    h.agent(1, skills={"english": 5})
    first, _ = h.call(skills={"korean": 1})
    second, _ = h.call(skills={"english": 1})
    assert first.rings == [] and second.ring.extension == "1001"


def test_previous_agent_available_gets_the_returning_customer(h):
    h.queue(strategy="previous_agent", fallback_strategy="longest_idle")
    h.agent(1)
    h.agent(2)
    h.acd.history.remember(77, "", 2, h.clock.seconds() - 3 * 86400)
    leg, _ = h.call(customer={"id": 77, "name": "Wang"})
    assert leg.ring.extension == "1002"
    assert "previous agent 2 available" in h.pops[0]["reason"]


def test_queue_given_previous_agent_busy_then_waits_then_falls_back(h):
    h.queue(strategy="previous_agent", fallback_strategy="longest_idle", previous_agent_wait=20)
    h.agent(1)
    h.agent(2)
    busy, _ = h.call(ani="+861111")
    busy.ring.answer()  # someone is talking to agent 1 (longest idle)
    assert h.state(1) == "on_call"
    h.acd.history.remember(77, "", 1, h.clock.seconds() - 86400)
    leg, results = h.call(customer={"id": 77})
    assert leg.rings == []  # agent 2 is free, but we wait for agent 1
    h.clock.advance(19.9)
    assert leg.rings == []
    h.clock.advance(0.1)
    assert leg.ring.extension == "1002"
    reasons = [d["reason"] for d in h.acd.callers[leg.uuid].decisions]
    assert any("waiting for previous agent 1" in r for r in reasons)
    assert any("waited 20s for previous agent 1; fallback longest_idle" in r for r in reasons)


def test_previous_agent_freed_during_the_wait_gets_the_customer(h):
    h.queue(strategy="previous_agent", fallback_strategy="longest_idle", previous_agent_wait=60, wrapup_seconds=5)
    h.agent(1)
    h.agent(2)
    other, _ = h.call(ani="+861111")
    other.ring.answer()
    h.acd.history.remember(None, "+862222", 1, h.clock.seconds() - 60)
    leg, _ = h.call(ani="+862222")
    h.clock.advance(10)
    other.ring.end()  # agent 1 wraps up for 5 s
    h.clock.advance(5)
    assert leg.ring.extension == "1001"


def test_previous_agent_older_than_the_lookback_is_ignored(h):
    h.queue(strategy="previous_agent", fallback_strategy="longest_idle", previous_agent_days=30)
    h.agent(1)
    h.agent(2)
    h.acd.history.remember(77, "", 2, h.clock.seconds() - 31 * 86400)
    leg, _ = h.call(customer={"id": 77})
    assert leg.ring.extension == "1001"
    assert "no previous agent" in h.pops[0]["reason"]


def test_previous_agent_logged_out_means_immediate_fallback(h):
    h.queue(strategy="previous_agent", fallback_strategy="skills_based")
    h.agent(1)
    h.agent(2, login=False)
    h.acd.history.remember(77, "", 2, h.clock.seconds())
    leg, _ = h.call(customer={"id": 77})
    assert leg.ring.extension == "1001"
    assert "previous agent 2 logged_out; fallback skills_based" in h.pops[0]["reason"]


def test_router_runs_when_an_agent_logs_in_not_by_polling(h):
    h.queue()
    leg, _ = h.call()
    assert leg.rings == [] and not h.clock.getDelayedCalls()
    h.agent(1)
    assert leg.ring.extension == "1001"


def test_every_decision_has_a_reason_in_the_outcome(h):
    h.queue()
    h.agent(1)
    leg, results = h.call()
    leg.ring.answer()
    leg.ring.end()
    (outcome,) = results
    assert outcome.kind == "served" and outcome.decisions[0]["agent_id"] == 1
    assert outcome.decisions[0]["strategy"] == "longest_idle" and outcome.decisions[0]["reason"]


def test_unknown_strategy_raises_typed_error():
    with pytest.raises(UnknownStrategy):
        get_strategy("telepathy")
    assert {"longest_idle", "round_robin", "fewest_calls", "skills_based", "previous_agent"} <= set(strategy_names())
