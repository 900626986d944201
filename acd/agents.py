"""Agents: the state machine, queue membership, wrap-up timers and the state log.

States: logged_out, available, ringing (an offer is ringing the phone),
on_call, wrap_up, not_ready (with a reason code) and break. Only the
transitions in :data:`TRANSITIONS` are legal; anything else raises
:class:`~acd.exceptions.IllegalTransition`. A desk or phone request that
cannot happen now (break while on a call) is kept as the agent's *pending*
state and applied when the call or wrap-up ends. Every change goes to the
:class:`StateLog` (the record, for occupancy and restart recovery) and to the
event bus; listeners (the router) hear about agents that became available.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol

from twisted.internet.interfaces import IDelayedCall, IReactorTime

from acd import events
from acd.exceptions import IllegalTransition, NotAMember, NotLoggedIn, UnknownAgent

log = logging.getLogger(__name__)


class AgentState(str, enum.Enum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    NOT_READY = "not_ready"
    BREAK = "break"

    def __str__(self) -> str:
        return self.value


S = AgentState
#: Legal transitions; ringing/on_call only end through the ACD (offer result, hang-up, reconciliation).
TRANSITIONS: dict[AgentState, frozenset[AgentState]] = {
    S.LOGGED_OUT: frozenset({S.AVAILABLE, S.NOT_READY, S.BREAK}),
    S.AVAILABLE: frozenset({S.RINGING, S.ON_CALL, S.NOT_READY, S.BREAK, S.LOGGED_OUT}),
    S.RINGING: frozenset({S.ON_CALL, S.AVAILABLE, S.NOT_READY, S.BREAK, S.LOGGED_OUT}),
    S.ON_CALL: frozenset({S.WRAP_UP, S.AVAILABLE, S.NOT_READY, S.BREAK, S.LOGGED_OUT}),
    S.WRAP_UP: frozenset({S.AVAILABLE, S.NOT_READY, S.BREAK, S.LOGGED_OUT}),
    S.NOT_READY: frozenset({S.AVAILABLE, S.NOT_READY, S.BREAK, S.LOGGED_OUT}),
    S.BREAK: frozenset({S.AVAILABLE, S.NOT_READY, S.LOGGED_OUT}),
}
#: States an agent may ask for from the desk or a phone feature code.
REQUESTABLE = frozenset({S.AVAILABLE, S.NOT_READY, S.BREAK, S.LOGGED_OUT})
#: States only the ACD itself sets.
BUSY = frozenset({S.RINGING, S.ON_CALL})
#: Reason codes the ACD uses itself.
NO_ANSWER = "no answer"
PHONE_BUSY = "phone busy"
PHONE_UNREGISTERED = "phone unregistered"
PHONE_FAILED = "phone failed"


@dataclass(frozen=True, slots=True)
class StateChange:
    """One row of the agent state log."""

    agent_id: int
    state: AgentState
    reason: str | None
    call_uuid: str | None
    at: float  # clock seconds (epoch in production)
    queues: tuple[str, ...] = ()


class StateLog(Protocol):
    """Where agent state changes are written (the DB writer is :class:`acd.store.DbStateLog`)."""

    def record(self, change: StateChange) -> Any: ...


class MemoryStateLog:
    """A StateLog that keeps changes in a list (standalone use, and the demo without a DB)."""

    def __init__(self) -> None:
        self.changes: list[StateChange] = []

    def record(self, change: StateChange) -> None:
        self.changes.append(change)


@dataclass(eq=False)
class Agent:
    """An agent as the ACD sees it now."""

    id: int
    extension: str
    name: str = ""
    skills: dict[str, int] = field(default_factory=dict)
    state: AgentState = S.LOGGED_OUT
    reason: str | None = None
    since: float = 0.0
    idle_since: float = 0.0  # when the agent last became available (longest idle)
    queues: set[str] = field(default_factory=set)
    call_uuid: str | None = None  # the caller being offered or talked to
    agent_leg_uuid: str | None = None
    calls_today: int = 0
    calls_day: int = -1
    pending: tuple[AgentState, str | None] | None = None
    wrapup_timer: IDelayedCall | None = None

    def skill_level(self, skill: str) -> int:
        return self.skills.get(skill, 0)

    def qualifies(self, required: dict[str, int]) -> bool:
        """True when every required skill is held at least at its minimum level."""
        return all(self.skills.get(name, 0) >= level for name, level in required.items())

    def view(self) -> dict[str, Any]:
        return {"agent_id": self.id, "extension": self.extension, "name": self.name, "state": self.state.value,
                "reason": self.reason, "since": self.since, "queues": sorted(self.queues),
                "call_uuid": self.call_uuid, "pending": self.pending[0].value if self.pending else None}


AvailableListener = Callable[[Agent], Any]


class AgentBoard:
    """All agents, their states and queue membership; the one place agent state changes."""

    def __init__(self, clock: IReactorTime, state_log: StateLog | None = None,
                 bus: events.EventBus | None = None, day_seconds: Callable[[float], int] | None = None) -> None:
        self.clock = clock
        self.state_log = state_log or MemoryStateLog()
        self.bus = bus or events.EventBus()
        self._agents: dict[int, Agent] = {}
        self.available_ids: set[int] = set()  # index for the router: agents available now
        self._members: dict[str, set[int]] = {}
        self._available_listeners: list[AvailableListener] = []
        self._wrap_up_listeners: list[Callable[[Agent, str], Any]] = []
        self._day = day_seconds or (lambda t: int(t // 86400))

    # -- directory -------------------------------------------------------------

    def add(self, agent_id: int, extension: str, name: str = "", skills: dict[str, int] | None = None) -> Agent:
        """Add (or update the extension, name and skills of) an agent; state is kept."""
        agent = self._agents.get(agent_id)
        if agent is None:
            agent = self._agents[agent_id] = Agent(agent_id, extension, name, dict(skills or {}),
                                                   since=self.clock.seconds())
        else:
            agent.extension, agent.name, agent.skills = extension, name or agent.name, dict(skills or agent.skills)
        return agent

    def get(self, agent_id: int) -> Agent:
        try:
            return self._agents[agent_id]
        except KeyError:
            raise UnknownAgent(f"no agent {agent_id}", agent_id=agent_id) from None

    def all(self) -> Iterable[Agent]:
        return self._agents.values()

    def members(self, queue: str) -> set[int]:
        """Ids of the agents logged into ``queue`` (a live set: do not mutate)."""
        return self._members.get(queue, set())

    def on_available(self, listener: AvailableListener) -> None:
        """Call ``listener(agent)`` whenever an agent becomes available (router trigger)."""
        self._available_listeners.append(listener)

    def on_wrap_up_end(self, listener: Callable[[Agent, str], Any]) -> None:
        """Call ``listener(agent, call_uuid)`` when an agent leaves wrap-up (the CDR's wrap-up end)."""
        self._wrap_up_listeners.append(listener)

    # -- membership ----------------------------------------------------------------

    def login(self, agent_id: int, queues: Iterable[str], state: AgentState = S.AVAILABLE,
              reason: str | None = None) -> Agent:
        """Log the agent into ``queues`` (adding to any it is already in); logged-out agents become ``state``."""
        agent = self.get(agent_id)
        for queue in queues:
            agent.queues.add(queue)
            self._members.setdefault(queue, set()).add(agent.id)
        if agent.state is S.LOGGED_OUT:
            self._set(agent, state, reason)
        else:
            self._log(agent)  # membership changed: the record carries the queue list
            if agent.state is S.AVAILABLE:
                self._notify_available(agent)
        return agent

    def logout(self, agent_id: int, queues: Iterable[str] | None = None) -> Agent:
        """Leave ``queues`` (all when None); leaving the last queue logs the agent out (after a call ends)."""
        agent = self.get(agent_id)
        if agent.state is S.LOGGED_OUT:
            raise NotLoggedIn(f"agent {agent_id} is not logged in", agent_id=agent_id)
        leaving = set(agent.queues) if queues is None else set(queues)
        if not leaving <= agent.queues:
            raise NotAMember(f"agent {agent_id} is not in {sorted(leaving - agent.queues)}", agent_id=agent_id)
        for queue in leaving:
            agent.queues.discard(queue)
            self._members.get(queue, set()).discard(agent.id)
        if agent.queues:
            self._log(agent)
        else:
            self.request(agent_id, S.LOGGED_OUT)
        return agent

    # -- state changes -------------------------------------------------------------

    def request(self, agent_id: int, state: AgentState, reason: str | None = None) -> bool:
        """A state change asked for by the agent; True if done now, False if pending until the call ends."""
        agent = self.get(agent_id)
        state = AgentState(state)
        if state not in REQUESTABLE:
            raise IllegalTransition(f"agents cannot ask for {state.value}", agent_id=agent_id, state=state.value)
        if agent.state is S.LOGGED_OUT and state is not S.LOGGED_OUT and not agent.queues:
            raise NotLoggedIn(f"agent {agent_id} must log into a queue first", agent_id=agent_id)
        if agent.state in BUSY:
            agent.pending = (state, reason)
            log.info("agent %s: %s requested while %s; pending", agent.id, state.value, agent.state.value)
            self.bus.publish(events.AGENT_STATE, agent.view())
            return False
        if state is S.LOGGED_OUT:
            for queue in list(agent.queues):
                self._members.get(queue, set()).discard(agent.id)
            agent.queues.clear()
        self.transition(agent_id, state, reason)
        return True

    def transition(self, agent_id: int, state: AgentState, reason: str | None = None,
                   call_uuid: str | None = None) -> Agent:
        """Move the agent to ``state`` if legal (IllegalTransition otherwise); logged and published."""
        agent = self.get(agent_id)
        state = AgentState(state)
        if state not in TRANSITIONS[agent.state] and not (state is agent.state is S.NOT_READY):
            raise IllegalTransition(f"agent {agent_id}: {agent.state.value} -> {state.value} is not allowed",
                                    agent_id=agent_id, current=agent.state.value, wanted=state.value)
        self._set(agent, state, reason, call_uuid)
        return agent

    def force(self, agent_id: int, state: AgentState, reason: str | None = None,
              call_uuid: str | None = None) -> Agent:
        """Set ``state`` whatever the current one (the switch says so: an agent answered a ring the ACD had
        given up on, or a phone failed mid-offer); logged and published like any change."""
        agent = self.get(agent_id)
        self._set(agent, AgentState(state), reason, call_uuid)
        return agent

    def start_wrap_up(self, agent_id: int, seconds: float, call_uuid: str | None = None,
                      reason: str | None = None) -> Agent:
        """The call ended: wrap up for ``seconds`` (0: straight to the next state), then apply pending or go available;
        ``reason`` says what work it was (``campaign``; None for inbound)."""
        agent = self.get(agent_id)
        self._count_call(agent)
        if seconds > 0:
            self.transition(agent_id, S.WRAP_UP, reason, call_uuid)
            agent.wrapup_timer = self.clock.callLater(seconds, self._wrap_up_ended, agent.id)
        else:
            self._after_work(agent)
        return agent

    def end_wrap_up(self, agent_id: int) -> None:
        """The agent pressed "ready" (or the timer fired): leave wrap-up now."""
        agent = self.get(agent_id)
        if agent.state is S.WRAP_UP:
            self._after_work(agent)

    def after_offer(self, agent_id: int, state: AgentState, reason: str | None = None) -> Agent:
        """An offer ended without a call: a pending request wins over ``state`` unless the agent is to blame."""
        agent = self.get(agent_id)
        if agent.pending is not None and state is S.AVAILABLE:
            state, reason = agent.pending
            agent.pending = None
            if state is S.LOGGED_OUT:
                agent.queues.clear()
                for members in self._members.values():
                    members.discard(agent.id)
        self.transition(agent_id, state, reason)
        return agent

    def _wrap_up_ended(self, agent_id: int) -> None:
        agent = self._agents.get(agent_id)
        if agent is not None:
            agent.wrapup_timer = None
            if agent.state is S.WRAP_UP:
                self._after_work(agent)

    def _after_work(self, agent: Agent) -> None:
        state, reason = agent.pending or (S.AVAILABLE, None)
        agent.pending = None
        if state is S.LOGGED_OUT:
            for queue in list(agent.queues):
                self._members.get(queue, set()).discard(agent.id)
            agent.queues.clear()
        self.transition(agent.id, state, reason)

    def _count_call(self, agent: Agent) -> None:
        day = self._day(self.clock.seconds())
        if agent.calls_day != day:
            agent.calls_day, agent.calls_today = day, 0
        agent.calls_today += 1

    def calls_today(self, agent: Agent) -> int:
        return agent.calls_today if agent.calls_day == self._day(self.clock.seconds()) else 0

    def _set(self, agent: Agent, state: AgentState, reason: str | None, call_uuid: str | None = None) -> None:
        now = self.clock.seconds()
        if agent.wrapup_timer is not None and state is not S.WRAP_UP:
            if agent.wrapup_timer.active():
                agent.wrapup_timer.cancel()
            agent.wrapup_timer = None
        previous, previous_call = agent.state, agent.call_uuid
        agent.state, agent.reason, agent.since = state, reason, now
        if state in (S.RINGING, S.ON_CALL, S.WRAP_UP):
            agent.call_uuid = call_uuid or agent.call_uuid
        else:
            agent.call_uuid = agent.agent_leg_uuid = None
        if state is S.AVAILABLE:
            agent.idle_since = now
            self.available_ids.add(agent.id)
        else:
            self.available_ids.discard(agent.id)
        log.info("agent %s: %s -> %s%s", agent.id, previous.value, state.value, f" ({reason})" if reason else "",
                 extra={"agent_id": agent.id, "state": state.value, "reason": reason, "call_uuid": agent.call_uuid})
        self._log(agent)
        if previous is S.WRAP_UP and state is not S.WRAP_UP and previous_call:
            for listener in list(self._wrap_up_listeners):
                try:
                    listener(agent, previous_call)
                except Exception:
                    log.exception("wrap-up listener failed for agent %s", agent.id)
        if state is S.AVAILABLE:
            self._notify_available(agent)

    def _log(self, agent: Agent) -> None:
        change = StateChange(agent.id, agent.state, agent.reason, agent.call_uuid, self.clock.seconds(),
                             tuple(sorted(agent.queues)))
        try:
            result = self.state_log.record(change)
            if hasattr(result, "addErrback"):
                result.addErrback(lambda f: log.error("agent %s: state log write failed: %s",
                                                      agent.id, f.getErrorMessage()))
        except Exception:
            log.exception("agent %s: state log write failed", agent.id)
        self.bus.publish(events.AGENT_STATE, agent.view())

    def _notify_available(self, agent: Agent) -> None:
        for listener in list(self._available_listeners):
            try:
                listener(agent)
            except Exception:
                log.exception("available listener failed for agent %s", agent.id)

    def restore(self, agent_id: int, state: AgentState, reason: str | None, queues: Iterable[str],
                call_uuid: str | None = None, since: float | None = None) -> Agent:
        """Set an agent's state without the state machine (restart recovery only); not logged."""
        agent = self.get(agent_id)
        agent.state, agent.reason = AgentState(state), reason
        agent.since = agent.idle_since = self.clock.seconds() if since is None else since
        agent.call_uuid = call_uuid
        if agent.state is S.AVAILABLE:
            self.available_ids.add(agent.id)
        else:
            self.available_ids.discard(agent.id)
        agent.queues = set(queues) if agent.state is not S.LOGGED_OUT else set()
        for queue in agent.queues:
            self._members.setdefault(queue, set()).add(agent.id)
        return agent
