"""Deterministic harness for the ACD core: a task.Clock and a scripted CallerLeg.

``ScriptedLeg`` implements the ACD's own port (:class:`acd.connect.CallerLeg`),
not the freeswitch ``Call``: the ESL path (``BridgeLeg`` on a real Call) is
covered by ``test_integration_sim.py`` over loopback with the simulator.
"""

from __future__ import annotations

import itertools
from typing import Any

from twisted.internet import defer
from twisted.internet.task import Clock

from acd import Acd, QueueConfig
from acd.connect import COMPLETED, ConnectResult
from acd.events import SCREEN_POP

_ids = itertools.count(1)


class Ring:
    """One connect() the ACD asked for; the test decides how it ends."""

    def __init__(self, leg: "ScriptedLeg", extension: str, variables: dict, timeout: float, on_answer: Any) -> None:
        self.leg, self.extension, self.variables, self.timeout = leg, extension, variables, timeout
        self.on_answer = on_answer
        self.deferred: defer.Deferred = defer.Deferred()
        self.agent_leg = f"agent-leg-{next(_ids)}"
        self.answered = False

    def answer(self) -> None:
        self.answered = True
        self.on_answer(self.agent_leg)

    def end(self, cause: str = "NORMAL_CLEARING") -> None:
        self.deferred.callback(ConnectResult(COMPLETED, self.agent_leg, cause))

    def fail(self, kind: str, cause: str = "") -> None:
        self.deferred.callback(ConnectResult(kind, self.agent_leg, cause or kind.upper()))


class ScriptedLeg:
    """A waiting caller whose hold, announcements and rings are recorded and settled by the test."""

    def __init__(self, uuid: str | None = None, ani: str = "+8613800000000", dnis: str = "4008001234") -> None:
        self.uuid = uuid or f"call-{next(_ids)}"
        self.ani, self.dnis, self.caller_name = ani, dnis, "Caller"
        self.gone = False
        self._gone_d: defer.Deferred = defer.Deferred()
        self.holds: list[str] = []
        self.holding = False
        self.announcements: list[list[str]] = []
        self.rings: list[Ring] = []
        self.cancelled = 0
        self.places: list[dict] = []  # what keep_place wrote on the "channel", in order

    def when_gone(self) -> defer.Deferred:
        d: defer.Deferred = defer.Deferred()
        self._gone_d.addCallback(lambda cause: (d.callback(cause), cause)[1])
        return d

    def hang_up(self, cause: str = "NORMAL_CLEARING") -> None:
        self.gone = True
        self._gone_d.callback(cause)

    def start_hold(self, music: str) -> None:
        self.holding = True
        self.holds.append(music)

    def announce(self, files: Any) -> None:
        self.announcements.append(list(files))

    def stop_hold(self) -> defer.Deferred:
        self.holding = False
        return defer.succeed(None)

    def keep_place(self, variables: Any) -> None:
        self.places.append(dict(variables))

    def let_go(self) -> defer.Deferred:
        self.holding = False
        self.let_go_calls = getattr(self, "let_go_calls", 0) + 1
        return defer.succeed(None)

    def connect(self, extension: str, variables: Any, ring_timeout: float, on_answer: Any) -> defer.Deferred:
        self.holding = False
        ring = Ring(self, extension, dict(variables), ring_timeout, on_answer)
        self.rings.append(ring)
        return ring.deferred

    def cancel_connect(self) -> defer.Deferred:
        self.cancelled += 1
        ring = self.rings[-1]
        if not ring.deferred.called:
            ring.fail("failed", "ORIGINATOR_CANCEL")
        return defer.succeed(True)

    @property
    def ring(self) -> Ring:
        return self.rings[-1]


class Harness:
    """An Acd on a Clock with screen pops collected."""

    def __init__(self, **kw: Any) -> None:
        self.clock = Clock()
        self.clock.advance(1_800_000_000)  # a realistic epoch: day boundaries behave
        self.acd = Acd(self.clock, **kw)
        self.pops: list[dict] = []
        self.acd.bus.subscribe(SCREEN_POP, lambda _t, p: self.pops.append(p))

    def queue(self, name: str = "sales", **kw: Any) -> QueueConfig:
        kw.setdefault("announce_every", None)
        config = QueueConfig(name, **kw)
        self.acd.configure_queue(config)
        return config

    def agent(self, agent_id: int, queues: tuple[str, ...] = ("sales",), skills: dict | None = None,
              login: bool = True) -> Any:
        agent = self.acd.add_agent(agent_id, str(1000 + agent_id), f"Agent {agent_id}", skills or {})
        if login:
            self.acd.login(agent_id, queues)
        return agent

    def call(self, queue: str = "sales", **kw: Any) -> tuple[ScriptedLeg, list]:
        leg = ScriptedLeg(ani=kw.pop("ani", "+8613800000000"))
        results: list = []
        self.acd.enqueue(leg, queue, **kw).addCallback(results.append)
        return leg, results

    def state(self, agent_id: int) -> str:
        return self.acd.board.get(agent_id).state.value
