"""The ACD: queues of waiting callers, agents, routing, offers, overflow, statistics -- one object.

Handler -> manager -> action: the IVR (handler) calls :meth:`Acd.enqueue`;
this module checks preconditions and decides (manager); actions go out
through the :class:`~acd.connect.CallerLeg` (ESL), the state log and CDR
sinks (DB) and the event bus. Everything runs on the reactor thread and is
driven by events and clock timers -- there is no polling loop.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterable, Mapping, Sequence

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure

from acd import connect, events
from acd.agents import NO_ANSWER, PHONE_BUSY, PHONE_FAILED, PHONE_UNREGISTERED, Agent, AgentBoard, AgentState, StateLog
from acd.callbacks import CallbackManager
from acd.estimator import Estimator, round_for_announcement
from acd.exceptions import AlreadyQueued, UnknownQueue
from acd.queues import CallQueue, Overflow, QueueConfig, QueueOutcome, WaitingCaller, next_seq
from acd.records import CdrEvent, CdrSink, History, MemoryCdr, MemoryHistory
from acd.routing import Router
from acd.routing.router import Decision
from acd.stats import QueueSnapshot, QueueStats
from acd.waiting import WaitingLine

log = logging.getLogger(__name__)

S = AgentState
Announcer = Callable[[int, "float | None"], Sequence[str]]

_AGENT_AFTER_FAILURE = {
    connect.NO_ANSWER: NO_ANSWER, connect.BUSY: PHONE_BUSY,
    connect.UNREGISTERED: PHONE_UNREGISTERED, connect.FAILED: PHONE_FAILED,
}


def default_announcer(position: int, expected_wait: float | None) -> list[str]:
    """FreeSWITCH stock sounds: "you are caller number N", "estimated hold time M minutes"."""
    files = ["ivr/ivr-you_are_number.wav", f"digits/{position}.wav"]
    minutes = round_for_announcement(expected_wait)
    if minutes is not None:
        files += ["ivr/ivr-estimated_hold_time.wav", f"digits/{minutes}.wav", "time/minutes.wav"]
    return files


class Acd(WaitingLine):
    """Automatic call distribution for every queue of the engine."""

    def __init__(self, clock: IReactorTime, *, state_log: StateLog | None = None, cdr: CdrSink | None = None,
                 history: History | None = None, bus: events.EventBus | None = None,
                 announcer: Announcer = default_announcer, lookup_timeout: float = 2.0,
                 utc_offset: float = 0.0, callback_store: Any = None, callback_policy: Any = None,
                 switch: Any = None) -> None:
        self.clock = clock
        self.bus = bus or events.EventBus()
        self.board = AgentBoard(clock, state_log, self.bus,
                                day_seconds=lambda t: int((t + utc_offset) // 86400))
        self.cdr = cdr or MemoryCdr()
        self.history = history or MemoryHistory()
        self.announcer = announcer
        self.lookup_timeout = lookup_timeout
        self.router = Router(self.board)
        self.estimator = Estimator()
        self.stats = QueueStats(utc_offset)
        self.queues: dict[str, CallQueue] = {}
        self.callers: dict[str, WaitingCaller] = {}
        self.callbacks = CallbackManager(self, callback_store, policy=callback_policy)
        from acd.resume import Resumer

        self.resumer = Resumer(self)  # callers and callbacks back in line after a restart
        #: the inbound-ESL Switch for transfers and supervision (else the caller leg's own ``switch``)
        self.switch = switch
        #: caller uuid -> handler of the end of its ``bridge`` when a transfer/consultation has taken it over
        self.takeovers: dict[str, Callable[[connect.ConnectResult], Any]] = {}
        #: caller uuid -> CDR key of its current segment (a transferred caller's next leg has its own row)
        self.cdr_keys: dict[str, str] = {}
        #: agent id -> CDR key its running wrap-up belongs to
        self.wrapup_cdr: dict[int, str] = {}
        from acd.supervision import Supervisors
        from acd.transfer import Transfers
        self.transfers = Transfers(self)
        self.supervisors = Supervisors(self)
        self.subscribe()

    def subscribe(self) -> None:
        """Every event binding of the ACD, in one place."""
        self.board.on_available(self._agent_available)
        self.board.on_wrap_up_end(self._wrap_up_ended)

    def _wrap_up_ended(self, agent: Agent, call_uuid: str) -> None:
        try:
            key = self.wrapup_cdr.pop(agent.id, call_uuid)
            self.cdr.write(CdrEvent("wrapup_ended", key, self.clock.seconds(), {"agent_id": agent.id}))
        except Exception:
            log.exception("call %s: CDR wrap-up write failed", call_uuid)

    # -- configuration ------------------------------------------------------------

    def configure_queue(self, config: QueueConfig) -> CallQueue:
        """Add a queue or reload its settings; waiting callers and logged-in agents stay."""
        queue = self.queues.get(config.name)
        if queue is None:
            queue = self.queues[config.name] = CallQueue(config)
            return queue
        queue.config = config
        for caller in list(queue):
            if caller.answered_at is None and not caller.overflowed:
                self._arm_max_wait(caller, config)
                self._arm_announcements(caller, config)
        self.bus.publish(events.QUEUE_CHANGED, {"queue": config.name, "reloaded": True})
        self.route(config.name)
        return queue

    def queue(self, name: str) -> CallQueue:
        try:
            return self.queues[name]
        except KeyError:
            raise UnknownQueue(f"no queue {name!r}", queue=name) from None

    # -- agents (the desk and phone feature codes come through here) ------------------

    def add_agent(self, agent_id: int, extension: str, name: str = "", skills: dict[str, int] | None = None) -> Agent:
        return self.board.add(agent_id, extension, name, skills)

    def login(self, agent_id: int, queues: Iterable[str], state: AgentState = S.AVAILABLE) -> Agent:
        """Log an agent into queues (unknown queues raise UnknownQueue)."""
        queues = list(queues)
        for name in queues:
            self.queue(name)
        return self.board.login(agent_id, queues, state)

    def logout(self, agent_id: int, queues: Iterable[str] | None = None) -> Agent:
        """Leave queues (all by default); an agent being rung has the ring cancelled first."""
        agent = self.board.get(agent_id)
        if agent.state is S.RINGING and (queues is None or set(queues) >= agent.queues):
            agent.pending = (S.LOGGED_OUT, None)
            self._cancel_offer(agent)
            if agent.state is S.LOGGED_OUT:
                return agent
        return self.board.logout(agent_id, queues)

    def set_state(self, agent_id: int, state: AgentState | str, reason: str | None = None) -> bool:
        """The agent asks for available / not_ready / break / logged_out; False when it waits for the call's end."""
        state = AgentState(state)
        agent = self.board.get(agent_id)
        if state is S.LOGGED_OUT and agent.state is S.RINGING:
            agent.pending = (S.LOGGED_OUT, reason)
            self._cancel_offer(agent)
            if agent.state is S.LOGGED_OUT:
                return True
        return self.board.request(agent_id, state, reason)

    def ready(self, agent_id: int) -> None:
        """The agent ends wrap-up early."""
        self.board.end_wrap_up(agent_id)

    # -- transfers and supervision (acd/transfer.py, acd/supervision.py) ----------------------

    def transfer_blind(self, agent_id: int, target: str, context: str = "default") -> defer.Deferred:
        """Send the agent's customer to ``queue:<name>`` (re-enters the ACD) or a dialplan extension/number."""
        return self.transfers.blind(agent_id, target, context)

    def consult(self, agent_id: int, target: "int | str") -> Any:
        """Attended transfer: ring ``target`` (agent id or extension); a :class:`acd.transfer.Consultation`."""
        return self.transfers.consult(agent_id, target)

    def supervise(self, supervisor_ext: str, agent_id: int, mode: str = "listen") -> defer.Deferred:
        """Ring ``supervisor_ext`` into the agent's call: listen, whisper, barge or conference."""
        return self.supervisors.supervise(supervisor_ext, agent_id, mode)

    # -- callers ----------------------------------------------------------------------

    def enqueue(self, leg: connect.CallerLeg, queue: str, skills: Mapping[str, int] | None = None,
                customer: Mapping[str, Any] | None = None, priority: int = 0,
                ivr_path: str | None = None, language: str = "zh", *, entered_at: float | None = None,
                seq: int | None = None) -> defer.Deferred:
        """Put a caller in line; Deferred of :class:`QueueOutcome` when the ACD is done with the call.

        ``leg`` is a :class:`~acd.connect.CallerLeg` (``BridgeLeg(call, clock)``
        for a live call); ``skills`` adds minimum levels to the queue's own;
        ``customer`` is the screen-pop data (``id``, ``name``, ``member_level``...).
        ``entered_at`` and ``seq`` keep the place of a caller coming back after
        an engine restart (:mod:`acd.resume`).
        """
        cq = self.queue(queue)
        config = cq.config
        if leg.uuid in self.callers:
            return defer.fail(AlreadyQueued(f"call {leg.uuid} is already queued", call_uuid=leg.uuid))
        now = self.clock.seconds()
        resumed = entered_at is not None
        entered = now if entered_at is None else min(entered_at, now)
        required = dict(config.required_skills)
        for name, level in (skills or {}).items():
            required[name] = max(level, required.get(name, 0))
        customer = dict(customer or {})
        caller = WaitingCaller(
            uuid=leg.uuid, leg=leg, queue=queue, skills=required, priority=priority, entered_at=entered,
            seq=next_seq() if seq is None else seq, customer_id=customer.get("id"), customer=customer, ani=leg.ani,
            dnis=leg.dnis, ivr_path=ivr_path, queued_at=entered, language=language)
        if not resumed:  # a caller back after a restart was offered (and its CDR queued) before it
            self.stats.offered(queue, now)
            self._cdr(caller, "queued", queue=queue, queue_id=config.db_id, ani=caller.ani, dnis=caller.dnis,
                      customer_id=caller.customer_id, ivr_path=ivr_path, entered_at=now)
        if config.max_length is not None and cq.waiting_count() >= config.max_length:
            log.info("call %s: queue %s full (%d)", caller.uuid, queue, config.max_length)
            if config.overflow is not None and config.overflow.kind != "widen":
                self.callers[caller.uuid] = caller
                self._overflow(caller, "queue full", add_first=True)
                return caller.outcome
            self._finish(caller, "full", disposition="queue_full")
            return caller.outcome
        self.callers[caller.uuid] = caller
        cq.add(caller)
        self._keep_place(caller)
        self._arm_max_wait(caller, config)
        self._arm_announcements(caller, config)
        leg.when_gone().addCallback(lambda cause: self._caller_gone(caller, cause, leg))
        leg.start_hold(config.music_on_hold)
        self.bus.publish(events.QUEUE_CHANGED, {"queue": queue, "waiting": cq.waiting_count()})
        if config.strategy.replace("-", "_") in ("previous_agent", "previous") and (caller.customer_id or caller.ani):
            self._lookup_previous(caller, config)
        self.route(queue)
        self.callbacks.consider(caller)
        return caller.outcome

    def _keep_place(self, caller: WaitingCaller, agent_id: int | None = None, left: bool = False) -> None:
        """Write the caller's place on its channel (or that it left the line) so it outlives this engine."""
        from acd.resume import QueuePlace, left_line

        if caller.leg.gone:
            return
        if left or agent_id is not None:
            variables = left_line(agent_id)
        else:
            variables = QueuePlace(caller.queue, caller.entered_at, caller.priority, dict(caller.skills),
                                   caller.customer_id, caller.ivr_path, caller.language).variables()
        try:
            caller.leg.keep_place(variables)
        except Exception:
            log.exception("call %s: queue place not written on the channel", caller.uuid)

    def enqueue_virtual(self, leg: connect.CallerLeg, queue: str, *, entry: Any, entered_at: float,
                        seq: int | None, priority: int) -> WaitingCaller:
        """Put a callback's virtual entry in line (same entry time; same ``seq`` keeps the place)."""
        cq = self.queue(queue)
        now = self.clock.seconds()
        caller = WaitingCaller(
            uuid=leg.uuid, leg=leg, queue=queue, skills=dict(entry.skills), priority=priority,
            entered_at=entered_at, seq=seq if seq is not None else next_seq(),
            customer_id=entry.customer.get("id"), customer=dict(entry.customer), ani=entry.number,
            queued_at=now, callback=entry, callback_offered=True)
        self._cdr(caller, "queued", queue=queue, queue_id=cq.config.db_id, ani=entry.number,
                  customer_id=caller.customer_id, direction="outbound", entered_at=entered_at,
                  ivr_path=f"callback:{entry.original_call}")
        self.callers[caller.uuid] = caller
        cq.add(caller)
        leg.when_gone().addCallback(lambda cause: self._caller_gone(caller, cause, leg))
        self.bus.publish(events.QUEUE_CHANGED, {"queue": queue, "waiting": cq.waiting_count()})
        self.route(queue)
        return caller

    def _lookup_previous(self, caller: WaitingCaller, config: QueueConfig) -> None:
        caller.lookup_pending = True
        since = self.clock.seconds() - config.previous_agent_days * 86400

        def done(agent_id: int | None) -> None:
            caller.cancel_timer("lookup")
            if not caller.lookup_pending:
                return
            caller.lookup_pending = False
            caller.previous_agent_id = agent_id
            if not caller.done:
                self.route(caller.queue)

        def failed(failure: Failure) -> None:
            log.warning("call %s: previous-agent lookup failed: %s", caller.uuid, failure.getErrorMessage())
            done(None)

        caller.timers["lookup"] = self.clock.callLater(self.lookup_timeout, lambda: done(None))
        d = defer.maybeDeferred(self.history.previous_agent, caller.customer_id, caller.ani, since)
        d.addCallbacks(done, failed)

    # -- routing -------------------------------------------------------------------------

    def route(self, queue: str) -> list[Decision]:
        """Match waiting callers of ``queue`` with available agents and ring them."""
        cq = self.queues.get(queue)
        if cq is None:
            return []
        now = self.clock.seconds()
        decisions = []
        for caller, decision in self.router.match(cq, now):
            decisions.append(decision)
            self.bus.publish(events.ROUTE_DECISION, decision.as_dict())
            if decision.agent_id is not None:
                self._offer(caller, self.board.get(decision.agent_id), decision)
            elif decision.retry_at is not None:
                caller.cancel_timer("retry")
                caller.timers["retry"] = self.clock.callLater(max(0.0, decision.retry_at - now), self.route, queue)
        return decisions

    def _agent_available(self, agent: Agent) -> None:
        """An agent became available: serve the queue whose next caller has waited longest (priority first)."""
        def head_key(name: str) -> tuple:
            cq = self.queues.get(name)
            head = next((c for c in cq.iter_unsafe() if c.offering is None and c.answered_at is None), None) \
                if cq else None
            return (1,) if head is None else (0, -head.priority, head.entered_at)

        names = sorted(agent.queues, key=head_key) if len(agent.queues) > 1 else list(agent.queues)
        for name in names:
            if agent.state is not S.AVAILABLE:
                break
            self.route(name)

    # -- offers ------------------------------------------------------------------------------

    def _offer(self, caller: WaitingCaller, agent: Agent, decision: Decision) -> None:
        config = self.queues[caller.queue].config
        self.board.transition(agent.id, S.RINGING, call_uuid=caller.uuid)
        caller.offering = agent.id
        caller.cancelled_offer = False
        caller.cancel_timer("retry")
        self.bus.publish(events.SCREEN_POP, self._screen_pop(caller, agent, decision))
        variables = {
            "origination_caller_id_number": caller.ani or "anonymous",
            "origination_caller_id_name": str(caller.customer.get("name") or caller.leg.caller_name or caller.ani),
            "hotline_call_uuid": caller.uuid, "hotline_queue": caller.queue, "hotline_agent_id": agent.id,
            "hotline_wait_seconds": int(self.clock.seconds() - caller.entered_at),
        }
        for key in ("id", "name", "member_level", "phone"):
            if caller.customer.get(key) not in (None, ""):
                variables[f"hotline_customer_{key}"] = str(caller.customer[key])
        if caller.ivr_path:
            variables["hotline_ivr_path"] = caller.ivr_path
        log.info("call %s: ringing agent %s (user/%s)", caller.uuid, agent.id, agent.extension)
        try:
            d = caller.leg.connect(agent.extension, variables, config.ring_timeout,
                                   lambda other: self._answered(caller, agent, other))
        except Exception:
            d = defer.fail()
        d.addCallback(self._offer_ended, caller, agent)
        d.addErrback(self._offer_crashed, caller, agent)

    def _screen_pop(self, caller: WaitingCaller, agent: Agent, decision: Decision) -> dict[str, Any]:
        return {"agent_id": agent.id, "extension": agent.extension, "call_uuid": caller.uuid, "queue": caller.queue,
                "ani": caller.ani, "dnis": caller.dnis, "customer": dict(caller.customer),
                "customer_id": caller.customer_id, "ivr_path": caller.ivr_path,
                "waited": self.clock.seconds() - caller.entered_at, "reason": decision.reason}

    def _answered(self, caller: WaitingCaller, agent: Agent, agent_leg_uuid: str) -> None:
        now = self.clock.seconds()
        if caller.answered_at is not None:
            return
        caller.answered_at, caller.agent_id = now, agent.id
        agent.agent_leg_uuid = agent_leg_uuid
        caller.cancel_timers()
        cq = self.queues.get(caller.queue)
        if cq is not None:
            cq.remove(caller)
        self._keep_place(caller, agent_id=agent.id)
        if agent.state is S.RINGING and agent.call_uuid == caller.uuid:
            self.board.transition(agent.id, S.ON_CALL, call_uuid=caller.uuid)
            agent.agent_leg_uuid = agent_leg_uuid
        else:
            log.warning("call %s: agent %s answered while %s; forcing on_call", caller.uuid, agent.id,
                        agent.state.value)
            self.board._set(agent, S.ON_CALL, "answered", caller.uuid)
        waited = now - caller.entered_at
        config = self.queues[caller.queue].config
        self.stats.answered(caller.queue, now, waited, config.sl_seconds)
        self._cdr(caller, "answered", agent_id=agent.id, agent_leg_uuid=agent_leg_uuid, answered_at=now,
                  wait_seconds=waited)
        self.bus.publish(events.QUEUE_CHANGED, {"queue": caller.queue, "waiting": cq.waiting_count() if cq else 0})

    def _offer_ended(self, result: connect.ConnectResult, caller: WaitingCaller, agent: Agent) -> None:
        now = self.clock.seconds()
        config = self.queues[caller.queue].config
        caller.offering = None
        takeover = self.takeovers.pop(caller.uuid, None)
        if takeover is not None:  # a transfer or consultation ended the bridge on purpose: it settles the call
            takeover(result)
            return
        if result.kind == connect.COMPLETED:
            if caller.answered_at is None:  # bridged without our seeing CHANNEL_BRIDGE
                self._answered(caller, agent, result.agent_leg_uuid or "")
            talk = now - (caller.answered_at or now)
            self.estimator.observe(caller.queue, talk + config.wrapup_seconds, config.default_aht)
            self.stats.handled(caller.queue, now, talk + config.wrapup_seconds)
            self.history.remember(caller.customer_id, caller.ani, agent.id, now) \
                if hasattr(self.history, "remember") else None
            if agent.state is S.ON_CALL and agent.call_uuid == caller.uuid:
                self.start_wrap_up(agent, caller)
            self._finish(caller, "served", agent_id=agent.id, talk=talk, cause=result.cause, disposition="answered")
            return
        # not connected: settle the caller first, so freeing the agent cannot re-offer a gone caller
        agent_ours = agent.state is S.RINGING and agent.call_uuid == caller.uuid
        if result.kind in connect.CUSTOMER_FAILURES:  # a callback's customer failed, not the agent
            log.info("call %s: callback customer %s (%s); agent %s freed", caller.uuid, result.kind, result.cause,
                     agent.id)
            self.callbacks.customer_failed(caller, result)
            if agent_ours:
                self.board.after_offer(agent.id, S.AVAILABLE)
            return
        caller_gone = result.kind == connect.CALLER_GONE or caller.leg.gone
        if caller_gone:
            self._abandon(caller, result.cause or "ORIGINATOR_CANCEL")
        else:
            log.info("call %s: agent %s %s (%s); back to the head of %s", caller.uuid, agent.id, result.kind,
                     result.cause, caller.queue)
            caller.decisions.append({"at": now, "call_uuid": caller.uuid, "queue": caller.queue,
                                     "agent_id": agent.id, "strategy": "offer",
                                     "reason": f"offer failed: {result.kind} ({result.cause})",
                                     "candidates": 0, "retry_at": None})
            cq = self.queues[caller.queue]
            if caller.uuid in cq:
                cq.to_front(caller)
            caller.leg.start_hold(config.music_on_hold)
        if agent_ours:
            if caller_gone or caller.cancelled_offer:
                self.board.after_offer(agent.id, S.AVAILABLE)
            else:
                self.board.after_offer(agent.id, S.NOT_READY, _AGENT_AFTER_FAILURE.get(result.kind, PHONE_FAILED))
        if not caller_gone:
            self.route(caller.queue)

    def start_wrap_up(self, agent: Agent, caller: WaitingCaller) -> None:
        """The agent's part of ``caller``'s call is over: wrap up (the CDR row of the current segment)."""
        self.wrapup_cdr[agent.id] = self.cdr_keys.get(caller.uuid, caller.uuid)
        self.board.start_wrap_up(agent.id, self.queues[caller.queue].config.wrapup_seconds, caller.uuid)

    def _offer_crashed(self, failure: Failure, caller: WaitingCaller, agent: Agent) -> None:
        """Fail safe: log with the call uuid, free the agent, and hand the call back to the IVR."""
        log.error("call %s: offer to agent %s failed: %s", caller.uuid, agent.id, failure.getTraceback())
        caller.offering = None
        if agent.state in (S.RINGING, S.ON_CALL) and agent.call_uuid == caller.uuid:
            self.board._set(agent, S.NOT_READY, PHONE_FAILED)
        if not caller.done:
            self._finish(caller, "failed", disposition="acd_error")

    def _cancel_offer(self, agent: Agent) -> None:
        caller = self.callers.get(agent.call_uuid or "")
        if caller is not None and caller.offering == agent.id:
            caller.cancelled_offer = True
            caller.leg.cancel_connect().addErrback(lambda _f: None)

    # -- leaving the queue ------------------------------------------------------------------------

    def _caller_gone(self, caller: WaitingCaller, cause: Any, leg: Any = None) -> None:
        if leg is not None and caller.leg is not leg:
            return
        if caller.done or caller.offering is not None or caller.answered_at is not None:
            return  # the offer's result (or the end of the conversation) settles it
        self._abandon(caller, str(cause or "NORMAL_CLEARING"))

    def _abandon(self, caller: WaitingCaller, cause: str) -> None:
        if caller.done:
            return
        now = self.clock.seconds()
        self.stats.abandoned(caller.queue, now)
        log.info("call %s: abandoned in %s after %.0fs (%s)", caller.uuid, caller.queue, now - caller.entered_at,
                 cause)
        self._finish(caller, "abandoned", cause=cause, disposition="abandoned")

    def _finish(self, caller: WaitingCaller, kind: str, *, agent_id: int | None = None, talk: float = 0.0,
                cause: str | None = None, overflow: Overflow | None = None, disposition: str = "",
                expected_wait: float | None = None) -> None:
        if caller.done:
            return
        cq = self.forget(caller)
        now = self.clock.seconds()
        if kind != "served":
            caller.leg.stop_hold().addErrback(lambda _f: None)
            if kind != "abandoned":
                self._keep_place(caller, left=True)
        self._cdr(caller, "ended", disposition=disposition, hangup_cause=cause, ended_at=now,
                  agent_id=agent_id, decisions=list(caller.decisions))
        self.cdr_keys.pop(caller.uuid, None)
        outcome = QueueOutcome(kind, caller.queue, agent_id,
                               (caller.answered_at or now) - caller.entered_at, talk, overflow, cause,
                               tuple(caller.decisions), expected_wait)
        self.bus.publish(events.QUEUE_CHANGED, {"queue": caller.queue,
                                                "waiting": cq.waiting_count() if cq else 0})
        caller.outcome.callback(outcome)

    def forget(self, caller: WaitingCaller) -> CallQueue | None:
        """Take a caller out of the ACD's memory (done, no timers, out of its line); its line, if any."""
        caller.done = True
        caller.cancel_timers()
        cq = self.queues.get(caller.queue)
        if cq is not None:
            cq.remove(caller)
        self.callers.pop(caller.uuid, None)
        self.takeovers.pop(caller.uuid, None)
        return cq

    def _cdr(self, caller: WaitingCaller, kind: str, **fields: Any) -> None:
        try:
            key = self.cdr_keys.get(caller.uuid, caller.uuid)
            result = self.cdr.write(CdrEvent(kind, key, self.clock.seconds(), fields))
            if hasattr(result, "addErrback"):
                result.addErrback(lambda f: log.error("call %s: CDR %s write failed: %s", caller.uuid, kind,
                                                      f.getErrorMessage()))
        except Exception:
            log.exception("call %s: CDR %s write failed", caller.uuid, kind)

    # -- statistics -------------------------------------------------------------------------------

    def staffing(self, queue: str) -> dict[str, int]:
        """Agents logged into ``queue`` by state."""
        counts = {s.value: 0 for s in AgentState if s is not S.LOGGED_OUT}
        for agent_id in self.board.members(queue):
            counts[self.board.get(agent_id).state.value] += 1
        return counts

    def expected_wait(self, queue: str, position: int) -> float | None:
        """Expected wait of the caller at ``position`` from live AHT and staffing."""
        config = self.queue(queue).config
        counts = self.staffing(queue)
        staffed = sum(counts[s] for s in ("available", "ringing", "on_call", "wrap_up"))
        return self.estimator.expected_wait(queue, position, staffed, counts["available"], config.default_aht)

    def snapshot(self, queue: str) -> QueueSnapshot:
        """Live statistics of one queue."""
        cq = self.queue(queue)
        now = self.clock.seconds()
        c = self.stats.today(queue, now)
        sl, asa, abandon, aht = self.stats.ratios(queue, now)
        waiting = cq.waiting_count()
        return QueueSnapshot(queue, waiting, cq.longest_wait(now), self.staffing(queue), c.offered, c.answered,
                             c.abandoned, c.overflowed, sl, cq.config.sl_percent, cq.config.sl_seconds, asa,
                             abandon, aht, self.expected_wait(queue, waiting + 1),
                             {"aht_ewma": self.estimator.aht(queue, cq.config.default_aht)})

    def snapshots(self) -> list[QueueSnapshot]:
        return [self.snapshot(name) for name in sorted(self.queues)]
