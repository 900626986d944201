"""The ACD's campaign agents: who counts as free for a campaign under each blend rule (deterministic: task.Clock).

A campaign's agents are those logged into its queue; inbound keeps priority:
``service_level`` lends blended agents only while every queue of theirs meets
its service level, ``no_inbound_waiting`` only while nobody waits in them,
``dedicated`` whenever they are available.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from acd.campaign_agents import AcdCampaignAgents
from acd.exceptions import IllegalTransition
from acd_helpers import Harness

CAMPAIGN = 7


def rig(rule: str) -> tuple[Harness, AcdCampaignAgents]:
    h = Harness()
    h.queue("outbound", db_id=11, sl_seconds=20, sl_percent=80)
    h.queue("service", db_id=12, sl_seconds=20, sl_percent=80)
    h.agent(1, ("outbound", "service"))  # blended: campaign queue and an inbound queue
    h.agent(2, ("outbound",))
    h.agent(3, ("service",))  # not a campaign agent
    settings = SimpleNamespace(queue_id=11, blend_rule=rule)
    agents = AcdCampaignAgents(h.acd, h.clock, settings=lambda c: settings if c == CAMPAIGN else None)
    return h, agents


def test_campaign_agents_are_the_agents_logged_into_its_queue():
    h, agents = rig("dedicated")
    assert [a.id for a in agents.members(CAMPAIGN)] == [1, 2]
    assert agents.view(CAMPAIGN).free == 2 and agents.view(99).free == 0
    assert agents.works_on(1, CAMPAIGN) and not agents.works_on(3, CAMPAIGN)
    h.acd.set_state(2, "break")
    assert agents.view(CAMPAIGN).free == 1


def test_service_level_rule_blocks_blended_agents_while_an_inbound_queue_misses_its_service_level():
    h, agents = rig("service_level")
    h.acd.logout(3)
    assert [a.id for a in agents.free_agents(CAMPAIGN)] == [1, 2]
    h.acd.set_state(1, "break")  # nobody takes "service" callers now
    leg, results = h.call("service")
    h.clock.advance(10)
    assert agents.blend_allows(h.acd.board.get(1), "service_level")  # waiting, but within the 20-s target
    h.clock.advance(15)
    assert not agents.blend_allows(h.acd.board.get(1), "service_level")  # past the target right now
    assert agents.blend_allows(h.acd.board.get(2), "service_level")  # agent 2 has no inbound queue
    leg.hang_up()  # abandoned after 25 s: today's service level of "service" is 0 %
    assert results[0].kind == "abandoned"
    h.acd.set_state(1, "available")
    assert h.state(1) == "available" and h.acd.snapshot("service").waiting == 0
    assert [a.id for a in agents.free_agents(CAMPAIGN)] == [2]  # the blended agent stays with inbound
    assert agents.view(CAMPAIGN).free == 1
    _h, dedicated = rig("dedicated")
    assert dedicated.blend_allows(h.acd.board.get(1), "dedicated")
    served, _ = h.call("service")  # an answered call within the target: 1 of 2 in target, still under 80 %
    served.ring.answer()
    assert [a.id for a in agents.free_agents(CAMPAIGN)] == [2]


def test_no_inbound_waiting_rule_keeps_agents_for_waiting_callers():
    h, agents = rig("no_inbound_waiting")
    h.acd.set_state(1, "break")
    leg, _ = h.call("service", skills={"french": 5})  # nobody qualifies: it waits
    h.acd.set_state(1, "available")
    assert h.state(1) == "available" and h.acd.snapshot("service").waiting == 1
    assert [a.id for a in agents.free_agents(CAMPAIGN)] == [2]
    leg.hang_up()
    assert [a.id for a in agents.free_agents(CAMPAIGN)] == [1, 2]


def test_reserve_holds_an_available_agent_for_a_preview_call_and_release_frees_it():
    h, agents = rig("dedicated")
    agents.reserve(2, "call-x")
    agent = h.acd.board.get(2)
    assert (agent.state.value, agent.reason, agent.call_uuid) == ("ringing", "campaign", "call-x")
    assert agents.view(CAMPAIGN).free == 1
    with pytest.raises(IllegalTransition):
        agents.reserve(2, "call-y")
    agents.release("call-x")
    assert h.state(2) == "available"
    agents.release("call-x")  # twice: nothing
