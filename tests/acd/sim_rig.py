"""A real Acd + CallServer + Switch (ESL over loopback) against the simulator, for transfer/supervision tests."""

from __future__ import annotations

from twisted.internet import defer, reactor, task
from twisted.internet.endpoints import TCP4ClientEndpoint

from acd import Acd, BridgeLeg, QueueConfig
from acd.records import MemoryCdr
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
        self.cdr = MemoryCdr()
        self.server = CallServer(self.handle, reactor)
        self.server.start(reactor, "127.0.0.1", 0)
        self.sim = Simulator(reactor, port=0, socket_port=self.server.listening_port, sounds_dir=tmp_path,
                             recordings_dir=tmp_path, idle_timeout=0)
        self.sim.start()
        self.switch = Switch(TCP4ClientEndpoint(reactor, "127.0.0.1", self.sim.port), "ClueCon", clock=reactor)
        self.acd = Acd(reactor, cdr=self.cdr, switch=self.switch)
        self.outcomes: dict[str, object] = {}
        self.published: list[tuple[str, dict]] = []
        self.acd.bus.subscribe("*", lambda t, p: self.published.append((t, p)))

    async def handle(self, call) -> None:
        await call.answer()
        outcome = await self.acd.enqueue(BridgeLeg(call, reactor, self.switch, retry_delay=0.2), "sales",
                                         customer={"id": 7, "name": "Wang Li"})
        self.outcomes[call.uuid] = outcome

    def queue(self, name: str = "sales", **kw) -> None:
        kw = {"music_on_hold": "silence_stream://-1", "ring_timeout": 2, "wrapup_seconds": 0.3,
              "announce_every": None, **kw}
        self.acd.configure_queue(QueueConfig(name, **kw))

    def agent(self, agent_id: int, queues=("sales",), **phone) -> str:
        ext = str(1000 + agent_id)
        self.sim.directory.register(ext, **{"answer_after": 0.2, **phone})
        self.acd.add_agent(agent_id, ext, f"Agent {agent_id}")
        if queues:
            self.acd.login(agent_id, list(queues))
        return ext

    def call(self, script: str = "wait_hangup"):
        return self.sim.place_call("+8613912345678", "4008001234", script)

    def state(self, agent_id: int) -> str:
        return self.acd.board.get(agent_id).state.value

    def topics(self, prefix: str) -> list[str]:
        return [t for t, _p in self.published if t.startswith(prefix)]

    async def channels(self) -> dict[str, object]:
        rows = await self.switch.show_channels()
        return {row.uuid: row for row in rows}

    async def on_call(self, caller, agent_id: int, timeout: float = 5.0):
        await wait_for(lambda: self.state(agent_id) == "on_call" and self.acd.board.get(agent_id).call_uuid
                       == caller.channel.uuid, timeout, f"agent {agent_id} on the call")
        return self.acd.board.get(agent_id).agent_leg_uuid

    async def stop(self) -> None:
        for ch in list(self.sim.channels.values()):
            if ch.up:
                ch.hangup("NORMAL_CLEARING")
        await task.deferLater(reactor, 0.05, lambda: None)
        await self.switch.stop()
        self.sim.stop()
        await self.server.stop_listening()


def make_rig(tmp_path):
    import pytest_twisted

    r = Rig(tmp_path)
    r.switch.start()
    pytest_twisted.blockon(r.switch.when_connected())
    return r


def stop_rig(r) -> None:
    import pytest_twisted

    pytest_twisted.blockon(defer.ensureDeferred(r.stop()))
