"""Supervisor listen / whisper / barge / three-way on a live agent call, end to end against the simulator."""

from __future__ import annotations

import pytest
import pytest_twisted

from acd.events import SUPERVISION_ENDED, SUPERVISION_MODE, SUPERVISION_STARTED
from acd.exceptions import NotOnCall, TargetUnavailable, UnknownSupervisionMode
from sim_rig import make_rig, stop_rig, wait_for


@pytest.fixture
def rig(tmp_path):
    r = make_rig(tmp_path)
    yield r
    stop_rig(r)


def eavesdrop_entries(caller):
    return [(e["mode"], e["hears_supervisor"]) for e in caller.transcript if e["event"] == "eavesdrop"]


@pytest_twisted.ensureDeferred
async def test_supervisor_listens_then_whispers_then_barges_and_ends_with_the_call(rig):
    rig.queue()
    rig.agent(1)
    rig.sim.directory.register("2001", answer_after=0.1)
    caller = rig.call()
    agent_leg = await rig.on_call(caller, 1)
    sup = await rig.acd.supervise("2001", 1, "listen")
    leg = rig.sim.channels[sup.uuid]
    await wait_for(lambda: getattr(leg, "eavesdrop_modes", None), what="the eavesdrop to start")
    assert leg.current_app[0] == "eavesdrop" and leg.current_app[1] == agent_leg
    assert f"eavesdrop:{sup.uuid}" in rig.sim.channels[agent_leg].media_bugs
    await sup.set_mode("whisper")
    await wait_for(lambda: len(leg.eavesdrop_modes) == 2, what="whisper")
    await sup.set_mode("barge")
    await wait_for(lambda: len(leg.eavesdrop_modes) == 3, what="barge")
    assert [m for _t, m in leg.eavesdrop_modes] == ["listen", "whisper", "barge"]
    # the customer (the agent leg's partner) hears the supervisor only when barging
    assert eavesdrop_entries(caller) == [("listen", False), ("whisper", False), ("barge", True)]
    rows = await rig.channels()
    assert sup.uuid in rows
    caller.channel.hangup("NORMAL_CLEARING")  # the call ends: the eavesdrop returns, the supervisor leg hangs up
    cause = await sup.ended
    assert cause == "NORMAL_CLEARING" and not leg.up
    topics = rig.topics("acd.supervision")
    assert topics == [SUPERVISION_STARTED, SUPERVISION_MODE, SUPERVISION_MODE, SUPERVISION_ENDED]


@pytest_twisted.ensureDeferred
async def test_supervisor_starts_in_whisper_mode_from_originate_variables(rig):
    rig.queue()
    rig.agent(1)
    rig.sim.directory.register("2001", answer_after=0.1)
    caller = rig.call()
    await rig.on_call(caller, 1)
    sup = await rig.acd.supervise("2001", 1, "whisper")
    leg = rig.sim.channels[sup.uuid]
    assert leg.variables.get("eavesdrop_whisper_bleg") == "true"
    await wait_for(lambda: getattr(leg, "eavesdrop_modes", None), what="the eavesdrop to start")
    assert leg.eavesdrop_modes[0][1] == "whisper"
    await sup.stop()
    await sup.ended
    assert caller.channel.up and rig.state(1) == "on_call"


@pytest_twisted.ensureDeferred
async def test_conference_rings_supervisor_into_a_three_way(rig):
    rig.queue()
    rig.agent(1)
    rig.sim.directory.register("2001", answer_after=0.1)
    caller = rig.call()
    agent_leg = await rig.on_call(caller, 1)
    sup = await rig.acd.supervise("2001", 1, "conference")
    leg = rig.sim.channels[sup.uuid]
    await wait_for(lambda: leg.current_app and leg.current_app[0] == "three_way", what="three_way")
    assert leg.current_app[1] == agent_leg
    assert eavesdrop_entries(caller) == [("barge", True)]
    rig.sim.channels[agent_leg].hangup("NORMAL_CLEARING")
    await sup.ended
    assert not leg.up


@pytest_twisted.ensureDeferred
async def test_supervision_errors_have_stable_ids(rig):
    rig.queue()
    rig.agent(1)
    rig.sim.directory.register("2001", registered=False)
    with pytest.raises(NotOnCall):
        await rig.acd.supervise("2001", 1, "listen")
    caller = rig.call()
    await rig.on_call(caller, 1)
    with pytest.raises(UnknownSupervisionMode) as err:
        await rig.acd.supervise("2001", 1, "spy")
    assert err.value.error_id == "acd-unknown-supervision-mode"
    with pytest.raises(TargetUnavailable) as err:
        await rig.acd.supervise("2001", 1, "listen")
    assert "USER_NOT_REGISTERED" in err.value.details["cause"]
