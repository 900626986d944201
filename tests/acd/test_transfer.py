"""Blind and attended transfers end to end: Acd + CallServer + Switch over loopback ESL against the simulator."""

from __future__ import annotations

import pytest
import pytest_twisted

from acd.events import TRANSFER_CANCELLED, TRANSFER_COMPLETED, TRANSFER_FAILED, TRANSFER_STARTED
from acd.exceptions import NotOnCall, TargetUnavailable
from acd.transfer import TRANSFER_PRIORITY_BUMP
from sim_rig import make_rig, stop_rig, wait_for


@pytest.fixture
def rig(tmp_path):
    r = make_rig(tmp_path)
    yield r
    stop_rig(r)


@pytest_twisted.ensureDeferred
async def test_blind_transfer_to_queue_reenters_with_original_entry_time_and_bumped_priority(rig):
    rig.queue("sales")
    rig.queue("billing")
    rig.agent(1)
    caller = rig.call()
    first_leg = await rig.on_call(caller, 1)
    waiting = rig.acd.callers[caller.channel.uuid]
    entered, priority = waiting.entered_at, waiting.priority
    await rig.acd.transfer_blind(1, "queue:billing")
    await wait_for(lambda: rig.state(1) == "wrap_up", what="agent 1 to wrap up")
    await wait_for(lambda: caller.channel.uuid in rig.acd.queues["billing"], what="re-entry in billing")
    assert waiting.entered_at == entered and waiting.priority == priority + TRANSFER_PRIORITY_BUMP
    assert not rig.sim.channels.get(first_leg) or not rig.sim.channels[first_leg].up
    assert caller.channel.up
    first = rig.cdr.records[caller.channel.uuid]
    assert first["disposition"] == "transferred" and first["agent_id"] == 1
    # an agent of billing takes it: a second CDR row for the new segment, then served
    rig.agent(2, queues=("billing",), talk_seconds=0.3)
    await wait_for(lambda: caller.channel.uuid in rig.outcomes, what="the transferred call to be served")
    outcome = rig.outcomes[caller.channel.uuid]
    assert outcome.kind == "served" and outcome.agent_id == 2 and outcome.queue == "billing"
    second = [r for r in rig.cdr.records.values() if r.get("parent_uuid") == caller.channel.uuid]
    assert len(second) == 1 and second[0]["leg"] == "transfer" and second[0]["disposition"] == "answered"
    assert second[0]["agent_id"] == 2
    assert rig.cdr.records[caller.channel.uuid]["disposition"] == "transferred"
    assert TRANSFER_STARTED in rig.topics("acd.transfer") and TRANSFER_COMPLETED in rig.topics("acd.transfer")
    await wait_for(lambda: rig.state(1) == "available", what="wrap-up to end")


@pytest_twisted.ensureDeferred
async def test_blind_transfer_to_extension_uses_uuid_transfer_and_frees_agent(rig):
    rig.sim.set_target("5000", "answer();playback(silence_stream://-1)")
    rig.queue()
    rig.agent(1)
    caller = rig.call()
    await rig.on_call(caller, 1)
    await rig.acd.transfer_blind(1, "5000")
    await wait_for(lambda: caller.channel.uuid in rig.outcomes, what="the transfer outcome")
    assert rig.outcomes[caller.channel.uuid].kind == "transferred"
    assert rig.state(1) == "wrap_up"
    assert rig.cdr.records[caller.channel.uuid]["disposition"] == "transferred"
    await wait_for(lambda: caller.channel.profile["Destination-Number"] == "5000", what="the caller in 5000")

    def apps_after_the_bridge() -> list:
        events = [(e["event"], e.get("app")) for e in caller.transcript]
        return events[events.index(("unbridge", None)):]

    # the caller runs extension 5000 (its apps start one media frame apart)
    await wait_for(lambda: ("app", "playback") in apps_after_the_bridge(), what="extension 5000's playback")
    assert ("app", "answer") in apps_after_the_bridge()
    assert not [ch for ch in rig.sim.channels.values() if "1001" in ch.name and ch.up]


@pytest_twisted.ensureDeferred
async def test_transfer_of_an_agent_without_a_call_is_refused_with_a_stable_id(rig):
    rig.queue()
    rig.agent(1)
    with pytest.raises(NotOnCall) as err:
        await rig.acd.transfer_blind(1, "queue:sales")
    assert err.value.error_id == "acd-agent-not-on-call"


@pytest_twisted.ensureDeferred
async def test_consult_then_complete_bridges_customer_to_second_agent_and_first_wraps_up(rig):
    rig.queue()
    rig.agent(1)
    rig.agent(2, queues=())
    rig.acd.login(2, ["sales"])
    rig.acd.set_state(2, "not_ready", "x")
    rig.acd.set_state(2, "available")
    caller = rig.call()
    first_leg = await rig.on_call(caller, 1)
    consultation = rig.acd.consult(1, 2)
    assert rig.state(2) == "ringing"
    await consultation.ready
    assert consultation.state == "talking" and rig.state(2) == "on_call"
    # agent 1 talks to agent 2; the customer is on hold with music
    assert rig.sim.channels[first_leg].bridged_to.uuid == consultation.leg_uuid
    await wait_for(lambda: caller.channel.current_app and caller.channel.current_app[0] == "playback",
                   what="hold music on the customer")
    await consultation.complete()
    await wait_for(lambda: rig.state(1) == "wrap_up", what="agent 1 to wrap up")
    await wait_for(lambda: not rig.sim.channels.get(first_leg) or not rig.sim.channels[first_leg].up,
                   what="the first agent leg to hang up")
    assert caller.channel.bridged_to.uuid == consultation.leg_uuid
    rows = await rig.channels()
    assert consultation.leg_uuid in rows and caller.channel.uuid in rows
    assert rig.cdr.records[caller.channel.uuid]["disposition"] == "transferred"
    # the customer hangs up: agent 2 wraps up, the new segment is answered by agent 2
    caller.channel.hangup("NORMAL_CLEARING")
    await wait_for(lambda: caller.channel.uuid in rig.outcomes, what="the outcome")
    assert rig.outcomes[caller.channel.uuid].kind == "served" and rig.outcomes[caller.channel.uuid].agent_id == 2
    assert rig.state(2) == "wrap_up"
    second = [r for r in rig.cdr.records.values() if r.get("parent_uuid") == caller.channel.uuid]
    assert second and second[0]["agent_id"] == 2 and second[0]["disposition"] == "answered"
    assert rig.topics("acd.transfer") == [TRANSFER_STARTED, TRANSFER_COMPLETED]


@pytest_twisted.ensureDeferred
async def test_consult_then_cancel_reconnects_customer_to_first_agent(rig):
    rig.queue()
    rig.agent(1)
    sup = "2001"
    rig.sim.directory.register(sup, answer_after=0.2)
    caller = rig.call()
    first_leg = await rig.on_call(caller, 1)
    consultation = rig.acd.consult(1, sup)
    await consultation.ready
    await wait_for(lambda: caller.channel.current_app and caller.channel.current_app[0] == "playback",
                   what="hold music on the customer")
    await consultation.cancel()
    await wait_for(lambda: caller.channel.bridged_to is not None and caller.channel.bridged_to.uuid == first_leg,
                   what="the customer back with agent 1")
    await wait_for(lambda: not rig.sim.channels.get(consultation.leg_uuid)
                   or not rig.sim.channels[consultation.leg_uuid].up, what="the consult leg to hang up")
    assert rig.state(1) == "on_call"
    assert TRANSFER_CANCELLED in rig.topics("acd.transfer")
    rig.sim.channels[first_leg].hangup("NORMAL_CLEARING")  # agent hangs up: the uuid_bridge partner goes too
    await wait_for(lambda: caller.channel.uuid in rig.outcomes, what="the outcome")
    assert rig.outcomes[caller.channel.uuid].kind == "served" and rig.outcomes[caller.channel.uuid].agent_id == 1
    assert rig.state(1) == "wrap_up"
    assert rig.cdr.records[caller.channel.uuid]["disposition"] == "answered"


@pytest_twisted.ensureDeferred
async def test_consult_target_does_not_answer_leaves_call_untouched(rig):
    rig.queue(ring_timeout=1)
    rig.agent(1)
    rig.sim.directory.register("2001", answer_after=None)
    caller = rig.call()
    first_leg = await rig.on_call(caller, 1)
    consultation = rig.acd.consult(1, "2001")
    with pytest.raises(TargetUnavailable) as err:
        await consultation.ready
    assert err.value.error_id == "acd-target-unavailable" and "NO_ANSWER" in err.value.details["cause"]
    assert consultation.state == "failed" and rig.state(1) == "on_call"
    assert caller.channel.bridged_to is not None and caller.channel.bridged_to.uuid == first_leg
    assert TRANSFER_FAILED in rig.topics("acd.transfer")


@pytest_twisted.ensureDeferred
async def test_consulted_party_hangs_up_during_consultation_customer_goes_back_to_agent(rig):
    rig.queue()
    rig.agent(1)
    rig.sim.directory.register("2001", answer_after=0.2)
    caller = rig.call()
    first_leg = await rig.on_call(caller, 1)
    consultation = rig.acd.consult(1, "2001")
    await consultation.ready
    rig.sim.channels[consultation.leg_uuid].hangup("NORMAL_CLEARING")
    await wait_for(lambda: caller.channel.bridged_to is not None and caller.channel.bridged_to.uuid == first_leg,
                   what="the customer back with agent 1")
    assert rig.sim.channels[first_leg].up and rig.state(1) == "on_call"
