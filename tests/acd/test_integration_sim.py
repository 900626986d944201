"""The ACD end to end over loopback TCP: CallServer + Switch (real ESL code) against the switch simulator.

Simulated callers dial the hotline; the CallServer hands each Call to the ACD
through ``BridgeLeg``; simulated agent phones (``user/NNNN``) ring, answer,
refuse, are busy, unregistered or never answer. Time is the real reactor, so
durations are short and every wait is a bounded poll.
"""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import defer, reactor, task
from twisted.internet.endpoints import TCP4ClientEndpoint

from acd import Acd, BridgeLeg, QueueConfig
from acd.events import AGENT_STATE, SCREEN_POP
from acd.reconcile import Reconciler
from freeswitch.callserver import CallServer
from freeswitch.sim.simulator import Simulator
from freeswitch.switch import Switch


async def wait_for(predicate, timeout: float = 5.0, what: str = "condition"):
    """Poll ``predicate`` every 20 ms for at most ``timeout`` seconds."""
    for _ in range(int(timeout / 0.02)):
        value = predicate()
        if value:
            return value
        await task.deferLater(reactor, 0.02, lambda: None)
    raise AssertionError(f"timed out waiting for {what}")


class Rig:
    def __init__(self, tmp_path) -> None:
        self.acd = Acd(reactor)
        self.outcomes: dict[str, object] = {}
        self.pops: list[dict] = []
        self.states: list[tuple[int, str, str | None]] = []
        self.acd.bus.subscribe(SCREEN_POP, lambda _t, p: self.pops.append(p))
        self.acd.bus.subscribe(AGENT_STATE, lambda _t, p: self.states.append((p["agent_id"], p["state"], p["reason"])))
        self.server = CallServer(self.handle, reactor)
        self.server.start(reactor, "127.0.0.1", 0)
        self.sim = Simulator(reactor, port=0, socket_port=self.server.listening_port, sounds_dir=tmp_path,
                             recordings_dir=tmp_path, idle_timeout=0)
        self.sim.start()
        self.switch = Switch(TCP4ClientEndpoint(reactor, "127.0.0.1", self.sim.port), "ClueCon", clock=reactor)
        self.customer = {"id": 7, "name": "Wang Li", "member_level": "gold"}

    async def handle(self, call) -> None:
        await call.answer()
        outcome = await self.acd.enqueue(BridgeLeg(call, reactor, self.switch, retry_delay=0.2), "sales",
                                         customer=self.customer)
        self.outcomes[call.uuid] = outcome

    def queue(self, **kw) -> None:
        kw = {"music_on_hold": "silence_stream://-1", "ring_timeout": 1, "wrapup_seconds": 0.2,
              "announce_every": None, **kw}
        self.acd.configure_queue(QueueConfig("sales", **kw))

    def agent(self, agent_id: int, **phone) -> None:
        ext = str(1000 + agent_id)
        self.sim.directory.register(ext, **{"answer_after": 0.2, **phone})
        self.acd.add_agent(agent_id, ext, f"Agent {agent_id}")
        self.acd.login(agent_id, ["sales"])

    def call(self, script: str = "wait_hangup"):
        return self.sim.place_call("+8613912345678", "4008001234", script)

    def state(self, agent_id: int) -> tuple[str, str | None]:
        agent = self.acd.board.get(agent_id)
        return agent.state.value, agent.reason

    async def stop(self) -> None:
        await self.switch.stop()
        self.sim.stop()
        await self.server.stop_listening()


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path)
    r.switch.start()
    pytest_twisted.blockon(r.switch.when_connected())
    yield r
    pytest_twisted.blockon(defer.ensureDeferred(r.stop()))


@pytest_twisted.ensureDeferred
async def test_sim_agent_answers_caller_is_bridged_with_customer_data_and_agent_wraps_up(rig):
    rig.queue()
    rig.agent(1, talk_seconds=0.4)
    leg_vars = {}

    def on_state(_t, p):
        if p["state"] == "on_call" and p["call_uuid"]:
            agent = rig.acd.board.get(p["agent_id"])
            ch = rig.sim.channels.get(agent.agent_leg_uuid or "")
            if ch is not None:
                leg_vars.update(ch.variables)

    rig.acd.bus.subscribe(AGENT_STATE, on_state)
    caller = rig.call()
    await wait_for(lambda: caller.channel.uuid in rig.outcomes, what="the call to be served")
    outcome = rig.outcomes[caller.channel.uuid]
    assert outcome.kind == "served" and outcome.agent_id == 1
    assert rig.pops[0]["customer"]["name"] == "Wang Li"
    assert leg_vars.get("hotline_customer_name") == "Wang Li" and leg_vars.get("hotline_queue") == "sales"
    assert [s for a, s, _r in rig.states if a == 1][-3:] == ["ringing", "on_call", "wrap_up"]
    await wait_for(lambda: rig.state(1)[0] == "available", what="wrap-up to end")


@pytest_twisted.ensureDeferred
async def test_sim_agent_does_not_answer_goes_not_ready_and_next_agent_takes_the_caller(rig):
    rig.queue()
    rig.agent(1, answer_after=None)
    rig.acd.board.get(1).idle_since -= 100  # ring agent 1 first
    rig.agent(2, talk_seconds=0.3)
    caller = rig.call()
    await wait_for(lambda: caller.channel.uuid in rig.outcomes, timeout=8, what="the call to be served")
    assert rig.state(1) == ("not_ready", "no answer")
    assert rig.outcomes[caller.channel.uuid].agent_id == 2
    reasons = [d["reason"] for d in rig.outcomes[caller.channel.uuid].decisions]
    assert any("no_answer" in r for r in reasons)


@pytest_twisted.ensureDeferred
async def test_sim_busy_and_unregistered_phones_set_agents_not_ready(rig):
    rig.queue()
    rig.agent(1, busy=True)
    rig.agent(2)
    rig.sim.directory.unregister("1002")
    rig.agent(3, talk_seconds=0.3)
    rig.acd.board.get(1).idle_since -= 200
    rig.acd.board.get(2).idle_since -= 100
    caller = rig.call()
    await wait_for(lambda: caller.channel.uuid in rig.outcomes, timeout=8, what="the call to be served")
    assert rig.state(1) == ("not_ready", "phone busy")
    assert rig.state(2) == ("not_ready", "phone unregistered")
    assert rig.outcomes[caller.channel.uuid].agent_id == 3


@pytest_twisted.ensureDeferred
async def test_sim_caller_hangs_up_while_agent_phone_rings_cancels_agent_leg_and_frees_agent(rig):
    rig.queue(ring_timeout=10)
    rig.agent(1, answer_after=None)
    caller = rig.call("wait 0.5; hangup")
    await wait_for(lambda: caller.channel.uuid in rig.outcomes, what="the abandonment")
    outcome = rig.outcomes[caller.channel.uuid]
    assert outcome.kind == "abandoned"
    assert rig.state(1) == ("available", None)
    await wait_for(lambda: not [ch for ch in rig.sim.channels.values() if "1001" in ch.name and ch.up],
                   what="the agent leg to be cancelled")
    assert rig.acd.snapshot("sales").abandoned == 1


@pytest_twisted.ensureDeferred
async def test_sim_agent_logs_in_during_position_announcements_and_is_bridged(rig):
    rig.queue(announce_every=0.2)
    caller = rig.call()
    await wait_for(lambda: caller.channel.uuid in rig.acd.callers, what="the caller to queue")
    await task.deferLater(reactor, 0.7, lambda: None)  # a few announcements interrupt the music
    rig.agent(1, talk_seconds=0.3)
    await wait_for(lambda: caller.channel.uuid in rig.outcomes, what="the call to be served")
    assert rig.outcomes[caller.channel.uuid].kind == "served"


@pytest_twisted.ensureDeferred
async def test_sim_reconciler_sees_live_waiting_caller_and_repairs_a_vanished_one(rig):
    rig.queue()
    caller = rig.call()
    await wait_for(lambda: caller.channel.uuid in rig.acd.callers, what="the caller to queue")
    reconciler = Reconciler(rig.acd, rig.switch.show_channels, reactor, interval=60, grace=0)
    repairs = await reconciler.run()
    assert not repairs and caller.channel.uuid in rig.acd.callers
    # lose the hang-up: the ACD's when_gone waiter never hears it, then the channel dies behind its back
    waiting = rig.acd.callers[caller.channel.uuid]
    waiting.leg.call._hangup_waiters.clear()
    await rig.switch.uuid_kill(caller.channel.uuid)
    await wait_for(lambda: not caller.channel.up, what="the channel to hang up")
    repairs = await reconciler.run()
    assert repairs.callers == [caller.channel.uuid]
    assert rig.outcomes.get(caller.channel.uuid) is None or rig.outcomes[caller.channel.uuid].kind == "abandoned"
