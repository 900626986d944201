"""The simulator's eavesdrop / three_way apps (mod_dptools semantics), driven over real ESL."""

from __future__ import annotations

import pytest_twisted
from twisted.internet import reactor, task
from twisted.internet.endpoints import TCP4ClientEndpoint

from freeswitch.sim.simulator import Simulator
from freeswitch.switch import Switch


async def wait_for(predicate, timeout: float = 5.0, what: str = "condition"):
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await task.deferLater(reactor, 0.02, lambda: None)
    raise AssertionError(f"timed out waiting for {what}")


@pytest_twisted.ensureDeferred
async def test_eavesdrop_keys_switch_modes_star_ends_and_media_bug_events_fire(tmp_path):
    sim = Simulator(reactor, port=0, sounds_dir=tmp_path, recordings_dir=tmp_path, idle_timeout=0)
    sim.start()
    sim.set_target("4000", "answer();bridge(user/1001)")
    sim.directory.register("1001", answer_after=0.05)
    sim.directory.register("2001", answer_after=0.05)
    switch = Switch(TCP4ClientEndpoint(reactor, "127.0.0.1", sim.port), "ClueCon", clock=reactor)
    switch.start()
    bugs = []
    try:
        await switch.when_connected()
        switch.subscribe("MEDIA_BUG_START", lambda e: bugs.append(("start", e.get("Media-Bug-Function"))))
        switch.subscribe("MEDIA_BUG_STOP", lambda e: bugs.append(("stop", e.get("Media-Bug-Function"))))
        caller = sim.place_call("13800000000", "4000", "wait_hangup")
        await wait_for(lambda: caller.channel.bridged_to is not None, what="the bridge")
        agent = caller.channel.bridged_to
        sup_uuid = await switch.originate("user/2001", f"&eavesdrop({agent.uuid})")
        sup = sim.channels[sup_uuid]
        await wait_for(lambda: getattr(sup, "eavesdrop_modes", None), what="eavesdrop")
        for key in "213":
            await switch.api(f"uuid_recv_dtmf {sup_uuid} {key}")
        await wait_for(lambda: len(sup.eavesdrop_modes) == 4, what="three mode changes")
        assert [m for _t, m in sup.eavesdrop_modes] == ["listen", "whisper", "talk_to_partner", "barge"]
        heard = [(e["mode"], e["hears_supervisor"]) for e in caller.transcript if e["event"] == "eavesdrop"]
        assert heard == [("listen", False), ("whisper", False), ("talk_to_partner", True), ("barge", True)]
        await switch.api(f"uuid_recv_dtmf {sup_uuid} *")
        await wait_for(lambda: not sup.up, what="the eavesdropper to hang up after *")
        await wait_for(lambda: ("stop", "eavesdrop") in bugs, what="MEDIA_BUG_STOP")
        assert ("start", "eavesdrop") in bugs and agent.up and caller.channel.up
    finally:
        await switch.stop()
        sim.stop()
