"""The ACD: the one object the rest of the engine holds, built from parts that each own one job.

Handler -> manager -> action: the IVR (handler) calls :meth:`Acd.enqueue`;
the parts decide (manager) and act through the caller's
:class:`~acd.connect.CallerLeg` (ESL), the state log and the call record (DB)
and the event bus. Everything runs on the reactor thread, driven by events
and clock timers -- there is no polling loop.

The parts, and who talks to whom (through public methods only):

* :class:`~acd.lifecycle.CallerLifecycle` -- every waiting caller's steps and
  the lines they wait in (queued, offered, connected, served, abandoned,
  overflowed, called back) and their record;
* :class:`~acd.agents.AgentBoard` -- agents, their states and queues;
* :class:`~acd.offers.Offers` -- routing and the rings that follow;
* :class:`~acd.waiting.WaitingTimers` -- max-wait overflow and announcements;
* :class:`~acd.callbacks.CallbackManager`, :class:`~acd.transfer.Transfers`,
  :class:`~acd.supervision.Supervisors`, :class:`~acd.resume.Resumer`.

This module only builds them, wires their hooks and offers the API the IVR
hand-off, the agent desk and phone feature codes use.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable, Mapping

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure

from acd import connect, events
from acd.agents import Agent, AgentBoard, AgentState, StateLog
from acd.callbacks import CallbackManager
from acd.estimator import Estimator, round_for_announcement
from acd.exceptions import AlreadyQueued
from acd.lifecycle import CallerLifecycle
from acd.offers import Offers
from acd.queues import CallQueue, QueueConfig, WaitingCaller, next_seq
from acd.records import CdrSink, History, MemoryCdr, MemoryHistory
from acd.resume import Resumer
from acd.routing import Router
from acd.routing.router import Decision
from acd.staffing import Staffing
from acd.stats import QueueSnapshot, QueueStats
from acd.supervision import Supervisors
from acd.transfer import Transfers
from acd.waiting import Announcer, WaitingTimers

log = logging.getLogger(__name__)

S = AgentState


def default_announcer(caller: WaitingCaller, position: int, expected_wait: float | None) -> list[str]:
    """FreeSWITCH stock sounds: "you are caller number N", "estimated hold time M minutes"."""
    files = ["ivr/ivr-you_are_number.wav", f"digits/{position}.wav"]
    minutes = round_for_announcement(expected_wait)
    if minutes is not None:
        files += ["ivr/ivr-estimated_hold_time.wav", f"digits/{minutes}.wav", "time/minutes.wav"]
    return files


class Acd:
    """Automatic call distribution for every queue of the engine."""

    def __init__(self, clock: IReactorTime, *, state_log: StateLog | None = None, cdr: CdrSink | None = None,
                 history: History | None = None, bus: events.EventBus | None = None,
                 announcer: Announcer | None = default_announcer, lookup_timeout: float = 2.0,
                 utc_offset: float = 0.0, callback_store: Any = None, callback_policy: Any = None,
                 switch: Any = None) -> None:
        self.clock = clock
        self.bus = bus or events.EventBus()
        self.board = AgentBoard(clock, state_log, self.bus,
                                day_seconds=lambda t: int((t + utc_offset) // 86400))
        self.history = history or MemoryHistory()
        self.lookup_timeout = lookup_timeout
        self.router = Router(self.board)
        self.estimator = Estimator()
        self.stats = QueueStats(utc_offset)
        #: the inbound-ESL Switch for transfers and supervision (else the caller leg's own ``switch``)
        self.switch = switch
        self.lifecycle = CallerLifecycle(clock, self.board, self.bus, self.stats, cdr or MemoryCdr())
        self.staffing = Staffing(self.board, self.estimator, lambda name: self.lifecycle.queue(name).config)
        self.waiting = WaitingTimers(clock, self.lifecycle, self.staffing, announcer)
        self.callbacks = CallbackManager(self.lifecycle, self.staffing, clock, callback_store, policy=callback_policy)
        self.offers = Offers(clock, self.lifecycle, self.board, self.router, self.bus, self.stats, self.estimator,
                             self.history, self.callbacks.customer_failed)
        self.transfers = Transfers(self.lifecycle, self.board, self.bus, clock, self.stats, self.estimator,
                                   self.history, lambda: self.switch)
        self.supervisors = Supervisors(self.lifecycle, self.bus, self.transfers.switch)
        self.resumer = Resumer(self.lifecycle, self.board, self.callbacks, self.enqueue)
        self.subscribe()

    def subscribe(self) -> None:
        """Every event binding of the ACD, in one place (routing binds itself to the board and the lifecycle)."""
        self.board.on_wrap_up_end(self._wrap_up_ended)
        self.waiting.on_tick(self.callbacks.consider)

    def _wrap_up_ended(self, agent: Agent, call_uuid: str) -> None:
        try:
            self.lifecycle.wrap_up_ended(agent, call_uuid)
        except Exception:
            log.exception("call %s: CDR wrap-up write failed", call_uuid)

    # -- what the rest of the engine reads --------------------------------------------------------

    @property
    def queues(self) -> dict[str, CallQueue]:
        """Lines by queue name (read-only use)."""
        return self.lifecycle.queues

    @property
    def callers(self) -> dict[str, WaitingCaller]:
        """Callers the ACD has now, by call uuid (read-only use)."""
        return self.lifecycle.callers

    @property
    def cdr(self) -> CdrSink:
        return self.lifecycle.cdr

    @cdr.setter
    def cdr(self, sink: CdrSink) -> None:
        self.lifecycle.cdr = sink

    @property
    def announcer(self) -> Announcer | None:
        return self.waiting.announcer

    @announcer.setter
    def announcer(self, announcer: Announcer | None) -> None:
        self.waiting.announcer = announcer

    # -- configuration ------------------------------------------------------------

    def configure_queue(self, config: QueueConfig) -> CallQueue:
        """Add a queue or reload its settings; waiting callers and logged-in agents stay."""
        return self.lifecycle.configure(config)

    def queue(self, name: str) -> CallQueue:
        return self.lifecycle.queue(name)

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
            self.offers.cancel(agent)
            if agent.state is S.LOGGED_OUT:
                return agent
        return self.board.logout(agent_id, queues)

    def set_state(self, agent_id: int, state: AgentState | str, reason: str | None = None) -> bool:
        """The agent asks for available / not_ready / break / logged_out; False when it waits for the call's end."""
        state = AgentState(state)
        agent = self.board.get(agent_id)
        if state is S.LOGGED_OUT and agent.state is S.RINGING:
            agent.pending = (S.LOGGED_OUT, reason)
            self.offers.cancel(agent)
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
                seq: int | None = None, callback_offered: bool = False) -> defer.Deferred:
        """Put a caller in line; Deferred of :class:`QueueOutcome` when the ACD is done with the call.

        ``leg`` is a :class:`~acd.connect.CallerLeg` (``BridgeLeg(call, clock)``
        for a live call); ``skills`` adds minimum levels to the queue's own;
        ``customer`` is the screen-pop data (``id``, ``name``, ``member_level``...).
        ``entered_at``, ``seq`` and ``callback_offered`` keep the place (and the
        callback already offered) of a caller coming back after an engine
        restart (:mod:`acd.resume`).
        """
        config = self.queue(queue).config
        if leg.uuid in self.lifecycle.callers:
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
            dnis=leg.dnis, ivr_path=ivr_path, queued_at=entered, language=language,
            callback_offered=callback_offered)
        self.lifecycle.enter(caller, record=not resumed)  # a caller back after a restart was queued before
        if caller.done:  # the queue was full
            return caller.outcome
        if config.strategy.replace("-", "_") in ("previous_agent", "previous") and (caller.customer_id or caller.ani):
            self._lookup_previous(caller, config)
        self.route(queue)
        self.callbacks.consider(caller)
        return caller.outcome

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

    def route(self, queue: str) -> list[Decision]:
        """Match waiting callers of ``queue`` with available agents and ring them."""
        return self.offers.route(queue)

    # -- statistics -------------------------------------------------------------------------------

    def staffing_of(self, queue: str) -> dict[str, int]:
        """Agents logged into ``queue`` by state."""
        return self.staffing.counts(queue)

    def expected_wait(self, queue: str, position: int) -> float | None:
        """Expected wait of the caller at ``position`` from live AHT and staffing."""
        return self.staffing.expected_wait(queue, position)

    def snapshot(self, queue: str) -> QueueSnapshot:
        """Live statistics of one queue."""
        cq = self.queue(queue)
        now = self.clock.seconds()
        c = self.stats.today(queue, now)
        sl, asa, abandon, aht = self.stats.ratios(queue, now)
        waiting = cq.waiting_count()
        return QueueSnapshot(queue, waiting, cq.longest_wait(now), self.staffing.counts(queue), c.offered,
                             c.answered, c.abandoned, c.overflowed, sl, cq.config.sl_percent, cq.config.sl_seconds,
                             asa, abandon, aht, self.expected_wait(queue, waiting + 1),
                             {"aht_ewma": self.estimator.aht(queue, cq.config.default_aht)})

    def snapshots(self) -> list[QueueSnapshot]:
        return [self.snapshot(name) for name in sorted(self.queues)]


__all__ = ["Acd", "default_announcer"]
