"""The waiting caller's life in the ACD, as one small public interface.

::

    enter ──► queued ──► offered ──► connected ──► served ─┐
               │  ▲          │                              ├─► finish (outcome, CDR end, out of memory)
               │  └─ back to the head (the offer failed)    │
               ├─► abandoned (hung up) ─────────────────────┤
               ├─► overflowed (max wait / full: another queue, wider skills, voicemail, callback)
               └─► called back (virtual hold: the caller hangs up, a virtual entry keeps the place)

:class:`CallerLifecycle` owns the lines (``queues``) and the callers in them
(``callers``) and is the only place a caller changes step. Its collaborators
-- routing and offers, the waiting timers, callbacks, transfers, supervision,
restart recovery, reconciliation -- call these public methods; none touches
another's internals. Each step is reported for the call's record (the
``cdr`` port: the engine's call recorder, which owns the CDR), published on
the bus and, while waiting, written on the
caller's channel (:mod:`acd.place`) so it outlives the engine.

Two hooks connect it to its neighbours without imports going both ways:
``on_route(fn)`` -- somebody (the router) must look at a queue again -- and
``on_line(fn)`` -- a caller (re)entered a line under a queue's settings (the
waiting timers arm then).
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from typing import Any, Callable

from acd import events
from acd.agents import Agent, AgentBoard, AgentState
from acd.exceptions import NotOnCall, UnknownQueue
from acd.place import QueuePlace, left_line
from acd.queues import CallQueue, Overflow, QueueConfig, QueueOutcome, WaitingCaller, next_seq
from acd.records import CdrEvent, CdrSink
from acd.stats import QueueStats

log = logging.getLogger("acd.engine")
S = AgentState

RouteHook = Callable[[str], Any]
LineHook = Callable[[WaitingCaller, QueueConfig], Any]


def work_reason(caller: WaitingCaller) -> str | None:
    """The reason an agent's busy states carry for ``caller``'s call: None for inbound work, else its kind."""
    return None if caller.kind == "inbound" else caller.kind


class CallerLifecycle:
    """Every waiting caller's steps, the lines they wait in, and their records."""

    def __init__(self, clock: Any, board: AgentBoard, bus: events.EventBus, stats: QueueStats, cdr: CdrSink) -> None:
        self.clock = clock
        self.board = board
        self.bus = bus
        self.stats = stats
        self.cdr = cdr
        self.queues: dict[str, CallQueue] = {}
        self.callers: dict[str, WaitingCaller] = {}
        #: caller uuid -> handler of the end of its ``bridge`` when a transfer/consultation has taken it over
        self.takeovers: dict[str, Callable[..., Any]] = {}
        #: caller uuid -> CDR key of its current segment (a transferred caller's next leg has its own row)
        self.cdr_keys: dict[str, str] = {}
        #: agent id -> CDR key its running wrap-up belongs to
        self.wrapup_cdr: dict[int, str] = {}
        self._route_hooks: list[RouteHook] = []
        self._line_hooks: list[LineHook] = []

    # -- hooks ---------------------------------------------------------------------------------

    def on_route(self, hook: RouteHook) -> None:
        """Call ``hook(queue)`` when a queue's callers or agents changed so that routing should look again."""
        self._route_hooks.append(hook)

    def on_line(self, hook: LineHook) -> None:
        """Call ``hook(caller, config)`` when a caller enters (or re-enters) a line under ``config``."""
        self._line_hooks.append(hook)

    def route(self, queue: str) -> None:
        """Ask routing to look at ``queue`` again."""
        for hook in list(self._route_hooks):
            hook(queue)

    def _lined_up(self, caller: WaitingCaller, config: QueueConfig) -> None:
        for hook in list(self._line_hooks):
            try:
                hook(caller, config)
            except Exception:
                log.exception("call %s: line hook failed", caller.uuid)

    # -- queues ---------------------------------------------------------------------------------

    def queue(self, name: str) -> CallQueue:
        """The line of queue ``name`` (UnknownQueue if there is none)."""
        try:
            return self.queues[name]
        except KeyError:
            raise UnknownQueue(f"no queue {name!r}", queue=name) from None

    def configure(self, config: QueueConfig) -> CallQueue:
        """Add a queue or reload its settings; waiting callers stay (their timers follow the new settings)."""
        cq = self.queues.get(config.name)
        if cq is None:
            cq = self.queues[config.name] = CallQueue(config)
            return cq
        cq.config = config
        for caller in list(cq):
            if caller.answered_at is None and not caller.overflowed:
                self._lined_up(caller, config)
        self.bus.publish(events.QUEUE_CHANGED, {"queue": config.name, "reloaded": True})
        self.route(config.name)
        return cq

    def waiting(self, queue: str) -> dict[str, Any]:
        cq = self.queues.get(queue)
        return {"queue": queue, "waiting": cq.waiting_count() if cq else 0}

    # -- queued -----------------------------------------------------------------------------------

    def enter(self, caller: WaitingCaller, *, record: bool = True) -> QueueOutcome | None:
        """Queue a new (or returning) caller in ``caller.queue``; routing is asked to look.

        ``record`` is False for a caller back after a restart (it was offered and
        queued before). A full queue overflows (or ends ``full``) at once.
        """
        cq = self.queue(caller.queue)
        config = cq.config
        now = self.clock.seconds()
        if record:
            self.stats.offered(caller.queue, now)
            self.report(caller, "queued", queue=caller.queue, queue_id=config.db_id, ani=caller.ani,
                        dnis=caller.dnis, customer_id=caller.customer_id, entered_at=now)
        self.callers[caller.uuid] = caller
        if config.max_length is not None and cq.waiting_count() >= config.max_length:
            log.info("call %s: queue %s full (%d)", caller.uuid, caller.queue, config.max_length)
            if config.overflow is not None and config.overflow.kind != "widen":
                self.overflow(caller, "queue full", entering=True)
            else:
                self.finish(caller, "full", disposition="queue_full")
            return None
        cq.add(caller)
        self.keep_place(caller)
        self._lined_up(caller, config)
        self.watch_gone(caller)
        caller.leg.start_hold(config.music_on_hold)
        self.bus.publish(events.QUEUE_CHANGED, self.waiting(caller.queue))
        return None

    def enter_virtual(self, caller: WaitingCaller, original_call: str) -> WaitingCaller:
        """Put a callback's virtual entry in line (no music, no announcements, its own outbound record)."""
        cq = self.queue(caller.queue)
        self.report(caller, "queued", queue=caller.queue, queue_id=cq.config.db_id, ani=caller.ani,
                    customer_id=caller.customer_id, direction="outbound", entered_at=caller.entered_at,
                    leg="callback", parent_uuid=original_call)
        self.callers[caller.uuid] = caller
        cq.add(caller)
        self.watch_gone(caller)
        self.bus.publish(events.QUEUE_CHANGED, self.waiting(caller.queue))
        self.route(caller.queue)
        return caller

    def watch_gone(self, caller: WaitingCaller) -> None:
        """A caller hanging up while it waits is abandoned (an offer or a conversation settles it otherwise)."""
        leg = caller.leg
        leg.when_gone().addCallback(lambda cause: self._gone(caller, cause, leg))

    def _gone(self, caller: WaitingCaller, cause: Any, leg: Any) -> None:
        if caller.leg is not leg:
            return
        if caller.done or caller.offering is not None or caller.answered_at is not None:
            return
        self.abandon(caller, str(cause or "NORMAL_CLEARING"))

    def back_to_head(self, caller: WaitingCaller, agent_id: int, why: str) -> None:
        """An offer failed through no fault of the caller's: first of its priority again, music again."""
        now = self.clock.seconds()
        caller.decisions.append({"at": now, "call_uuid": caller.uuid, "queue": caller.queue, "agent_id": agent_id,
                                 "strategy": "offer", "reason": why, "candidates": 0, "retry_at": None})
        cq = self.queues[caller.queue]
        if caller.uuid in cq:
            cq.to_front(caller)
        caller.leg.start_hold(cq.config.music_on_hold)

    # -- offered / connected ------------------------------------------------------------------------

    def offering(self, caller: WaitingCaller, agent: Agent) -> None:
        """An agent was chosen for the caller: the agent rings (reserved) while the caller hears ringback."""
        self.board.transition(agent.id, S.RINGING, work_reason(caller), call_uuid=caller.uuid)
        caller.offering = agent.id
        caller.cancelled_offer = False
        caller.cancel_timer("retry")

    def connected(self, caller: WaitingCaller, agent: Agent, agent_leg_uuid: str) -> None:
        """The agent answered: the caller leaves the line; wait and service level are counted."""
        now = self.clock.seconds()
        if caller.answered_at is not None:
            return
        caller.answered_at, caller.agent_id = now, agent.id
        agent.agent_leg_uuid = agent_leg_uuid  # before the state change: its listeners read it
        caller.cancel_timers()
        cq = self.queues.get(caller.queue)
        if cq is not None:
            cq.remove(caller)
        self.keep_place(caller, agent_id=agent.id)
        if agent.state is S.RINGING and agent.call_uuid == caller.uuid:
            self.board.transition(agent.id, S.ON_CALL, work_reason(caller), call_uuid=caller.uuid)
        else:
            log.warning("call %s: agent %s answered while %s; forcing on_call", caller.uuid, agent.id,
                        agent.state.value)
            self.board.force(agent.id, S.ON_CALL, "answered", caller.uuid)
        agent.agent_leg_uuid = agent_leg_uuid
        waited = now - caller.entered_at
        self.stats.answered(caller.queue, now, waited, self.queues[caller.queue].config.sl_seconds)
        self.report(caller, "answered", agent_id=agent.id, agent_leg_uuid=agent_leg_uuid, answered_at=now,
                    wait_seconds=waited, decisions=list(caller.decisions))
        self.bus.publish(events.QUEUE_CHANGED, self.waiting(caller.queue))

    def live_call(self, agent_id: int) -> tuple[Agent, WaitingCaller]:
        """The agent and its answered caller; NotOnCall otherwise."""
        agent = self.board.get(agent_id)
        caller = self.callers.get(agent.call_uuid or "")
        if agent.state is not S.ON_CALL or caller is None or caller.answered_at is None or caller.done \
                or caller.leg.gone or not agent.agent_leg_uuid:
            raise NotOnCall(f"agent {agent_id} has no live call", agent_id=agent_id, state=agent.state.value)
        return agent, caller

    def start_wrap_up(self, agent: Agent, caller: WaitingCaller) -> None:
        """The agent's part of ``caller``'s call is over: wrap up (the CDR row of the current segment)."""
        self.wrapup_cdr[agent.id] = self.cdr_keys.get(caller.uuid, caller.uuid)
        self.board.start_wrap_up(agent.id, self.queues[caller.queue].config.wrapup_seconds, caller.uuid,
                                 reason=work_reason(caller))

    def wrap_up_ended(self, agent: Agent, call_uuid: str) -> None:
        """The agent left wrap-up: the record of the segment it wrapped up says when."""
        key = self.wrapup_cdr.pop(agent.id, call_uuid)
        self.report_key(key, "wrapup_ended", agent_id=agent.id)

    # -- moving between lines -------------------------------------------------------------------------

    def requeue(self, caller: WaitingCaller, queue: str, *, priority_bump: int = 0) -> CallQueue:
        """An answered caller goes back in line in ``queue`` (a transfer into the ACD): original entry time and
        place, priority raised by ``priority_bump``, a new record segment; an unknown queue keeps its own."""
        now = self.clock.seconds()
        try:
            target = self.queue(queue)
        except UnknownQueue:
            target = self.queue(caller.queue)
        old = self.queues.get(caller.queue)
        if old is not None:
            old.remove(caller)
        caller.queue, caller.queued_at = target.config.name, now
        caller.priority += priority_bump
        caller.answered_at = caller.agent_id = caller.offering = None
        caller.overflowed = False
        self.new_segment(caller, queue=caller.queue, queue_id=target.config.db_id)
        self.stats.offered(caller.queue, now)
        target.add(caller)
        self._lined_up(caller, target.config)
        caller.leg.start_hold(target.config.music_on_hold)
        self.bus.publish(events.QUEUE_CHANGED, self.waiting(caller.queue))
        self.route(caller.queue)
        return target

    def overflow(self, caller: WaitingCaller, why: str, *, entering: bool = False) -> None:
        """The queue's overflow action: widen the skills, move to another queue, or leave for voicemail/callback."""
        config = self.queues[caller.queue].config
        action = config.overflow
        assert action is not None
        now = self.clock.seconds()
        self.stats.overflowed(caller.queue, now)
        caller.decisions.append({"at": now, "call_uuid": caller.uuid, "queue": caller.queue, "agent_id": None,
                                 "strategy": "overflow", "reason": f"{why}: {action.kind} {action.target or ''}".strip(),
                                 "candidates": 0, "retry_at": None})
        log.info("call %s: %s in %s -> overflow %s %s", caller.uuid, why, caller.queue, action.kind,
                 action.target or action.widen or "")
        if action.kind == "widen":
            caller.overflowed = True
            for skill, level in action.widen.items():
                if level <= 0:
                    caller.skills.pop(skill, None)
                else:
                    caller.skills[skill] = min(level, caller.skills.get(skill, level))
            self.route(caller.queue)
            return
        if action.kind == "queue":
            target = self.queue(action.target or "")
            if not entering:
                self.queues[caller.queue].remove(caller)
            caller.queue, caller.queued_at = target.config.name, now
            self.stats.offered(caller.queue, now)
            self.report(caller, "queued", queue=caller.queue, queue_id=target.config.db_id,
                        overflow_from=config.name)
            if config.max_length is not None and target.config.max_length is not None \
                    and target.waiting_count() >= target.config.max_length:
                self.finish(caller, "full", disposition="queue_full")
                return
            target.add(caller)
            self.keep_place(caller)
            if entering:  # it never reached the first line: watch it and start its music here
                self.watch_gone(caller)
                caller.leg.start_hold(target.config.music_on_hold)
            self._lined_up(caller, target.config)
            self.route(caller.queue)
            return
        self.finish(caller, "overflow", overflow=action, disposition=f"overflow_{action.kind}")

    # -- leaving ---------------------------------------------------------------------------------------

    def served(self, caller: WaitingCaller, agent_id: int, talk: float, cause: str | None,
               side: str | None = None) -> None:
        """The conversation with the agent is over."""
        self.finish(caller, "served", agent_id=agent_id, talk=talk, cause=cause, disposition="answered", side=side)

    def abandon(self, caller: WaitingCaller, cause: str) -> None:
        """The caller hung up before an agent answered."""
        if caller.done:
            return
        now = self.clock.seconds()
        self.stats.abandoned(caller.queue, now)
        log.info("call %s: abandoned in %s after %.0fs (%s)", caller.uuid, caller.queue, now - caller.entered_at,
                 cause)
        self.finish(caller, "abandoned", cause=cause, disposition="abandoned", side="caller")

    def call_back(self, caller: WaitingCaller, expected_wait: float | None) -> None:
        """The caller chose a callback (its virtual entry keeps the place): confirm and let it go."""
        self.finish(caller, "callback", disposition="callback_requested", expected_wait=expected_wait)

    def finish(self, caller: WaitingCaller, kind: str, *, agent_id: int | None = None, talk: float = 0.0,
               cause: str | None = None, overflow: Overflow | None = None, disposition: str = "",
               expected_wait: float | None = None, side: str | None = None) -> None:
        """The caller's stay in the ACD is over: outcome fired, record closed, out of memory (once)."""
        if caller.done:
            return
        cq = self.forget(caller)
        now = self.clock.seconds()
        if kind != "served":
            caller.leg.stop_hold().addErrback(lambda _f: None)
            if kind != "abandoned":
                self.keep_place(caller, left=True)
        fields: dict[str, Any] = {"disposition": disposition, "hangup_cause": cause, "ended_at": now,
                                  "agent_id": agent_id, "decisions": list(caller.decisions)}
        if side:
            fields["hangup_side"] = side
        self.report(caller, "ended", **fields)
        self.cdr_keys.pop(caller.uuid, None)
        outcome = QueueOutcome(kind, caller.queue, agent_id, (caller.answered_at or now) - caller.entered_at, talk,
                               overflow, cause, tuple(caller.decisions), expected_wait)
        self.bus.publish(events.QUEUE_CHANGED, {"queue": caller.queue,
                                                "waiting": cq.waiting_count() if cq else 0})
        caller.outcome.callback(outcome)

    def forget(self, caller: WaitingCaller) -> CallQueue | None:
        """Take a caller out of memory (done, no timers, out of its line) without an outcome; its line, if any."""
        caller.done = True
        caller.cancel_timers()
        cq = self.queues.get(caller.queue)
        if cq is not None:
            cq.remove(caller)
        self.callers.pop(caller.uuid, None)
        self.takeovers.pop(caller.uuid, None)
        return cq

    # -- the record ------------------------------------------------------------------------------------

    def report(self, caller: WaitingCaller, kind: str, /, **fields: Any) -> None:
        """One step of ``caller`` for its call's record (the row of its current segment)."""
        self.report_key(self.cdr_keys.get(caller.uuid, caller.uuid), kind, **fields)

    def report_key(self, key: str, kind: str, /, **fields: Any) -> None:
        """One step for the record row ``key`` (a call uuid or a segment's uuid), told to the call recorder."""
        try:
            self.cdr.report(CdrEvent(kind, key, self.clock.seconds(), fields))
        except Exception:
            log.exception("call %s: CDR %s not reported", key, kind)

    def new_segment(self, caller: WaitingCaller, **fields: Any) -> str:
        """Start the caller's next record row (``leg="transfer"``, ``parent_uuid`` = the caller)."""
        key = str(uuidlib.uuid4())
        self.cdr_keys[caller.uuid] = key
        self.report(caller, "queued", leg="transfer", parent_uuid=caller.uuid, ani=caller.ani, dnis=caller.dnis,
                    customer_id=caller.customer_id, entered_at=caller.entered_at, **fields)
        return key

    def keep_place(self, caller: WaitingCaller, agent_id: int | None = None, left: bool = False) -> None:
        """Write the caller's place on its channel (or that it left the line) so it outlives this engine."""
        if caller.leg.gone:
            return
        if left or agent_id is not None:
            variables = left_line(agent_id)
        else:
            variables = QueuePlace(caller.queue, caller.entered_at, caller.priority, dict(caller.skills),
                                   caller.customer_id, caller.ivr_path, caller.language,
                                   caller.callback_offered).variables()
        try:
            caller.leg.keep_place(variables)
        except Exception:
            log.exception("call %s: queue place not written on the channel", caller.uuid)


__all__ = ["CallerLifecycle", "next_seq"]
