"""Blind and attended transfer of an agent's live call.

The first connection stays the caller's own ``bridge`` (acd/connect.py); a
transfer ends that bridge *on purpose* and registers a takeover
(``CallerLifecycle.takeovers``) so the ACD does not read the bridge's end as "served":

* **blind to a queue** (``queue:<name>``): ``uuid_kill`` of the agent leg; the
  caller's bridge returns, the outbound socket keeps the caller, and it
  re-enters the ACD with its original entry time and sequence, priority
  raised by :data:`TRANSFER_PRIORITY_BUMP`;
* **blind to an extension/number**: ``uuid_transfer <caller> <dest> XML <context>``;
  the agent leg is hung up by the switch; the caller leaves our control;
* **attended** (:class:`Consultation`): ``originate user/<target> &park()``
  while the agent and customer keep talking; on answer ``uuid_bridge <agent leg>
  <consult leg>`` (the caller's bridge returns: hold music on the caller);
  ``complete()`` = ``uuid_bridge <caller> <consult leg>`` + ``uuid_kill`` of the
  first agent; ``cancel()`` = ``uuid_bridge <caller> <agent leg>`` (the consult
  leg, left alone, is hung up by the switch). The first agent leg carries
  ``park_after_bridge=true`` during the consultation so the consulted party
  hanging up parks it instead of killing it; the ACD then reconnects the
  customer. After a completed or cancelled consultation the customer is in a
  ``uuid_bridge``: when either side hangs up the other is hung up too.

The first leg's CDR row is closed with disposition ``transferred``; the next
segment gets its own row (``leg="transfer"``, ``parent_uuid`` = caller uuid).
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from typing import Any, Callable

from twisted.internet import defer

from acd import connect, events
from acd.agents import Agent, AgentBoard, AgentState
from acd.estimator import Estimator
from acd.exceptions import ConsultationState, SwitchCommandFailed, TargetUnavailable, TransferInProgress
from acd.lifecycle import CallerLifecycle
from acd.queues import WaitingCaller
from acd.records import History
from acd.stats import QueueStats

log = logging.getLogger(__name__)
S = AgentState

#: Priority added to a caller transferred into another queue (it already waited once).
TRANSFER_PRIORITY_BUMP = 5
#: Seconds to wait for the switch to release a caller transferred out before closing its record anyway.
LEAVE_TIMEOUT = 5.0


class Transfers:
    """Blind transfers and consultations of the ACD's live calls."""

    def __init__(self, lifecycle: CallerLifecycle, board: AgentBoard, bus: events.EventBus, clock: Any,
                 stats: QueueStats, estimator: Estimator, history: History,
                 switch: Callable[[], Any] = lambda: None) -> None:
        self.lifecycle = lifecycle
        self.board = board
        self.bus = bus
        self.clock = clock
        self.stats = stats
        self.estimator = estimator
        self.history = history
        self._switch = switch  # the inbound-ESL Switch (else the caller leg's own)
        self.consultations: dict[str, Consultation] = {}  # caller uuid -> running consultation

    # -- preconditions ------------------------------------------------------------------

    def live_call(self, agent_id: int) -> tuple[Agent, WaitingCaller]:
        """The agent and its answered caller; NotOnCall otherwise."""
        return self.lifecycle.live_call(agent_id)

    def switch(self, caller: WaitingCaller) -> Any:
        switch = self._switch() or getattr(caller.leg, "switch", None)
        if switch is None:
            raise SwitchCommandFailed("no switch to send the transfer to", call_uuid=caller.uuid)
        return switch

    # -- blind -----------------------------------------------------------------------------

    def blind(self, agent_id: int, target: str, context: str = "default") -> defer.Deferred:
        """``queue:<name>`` or an extension/number; fires once the switch accepted the command."""
        try:
            agent, caller = self.live_call(agent_id)
            if caller.uuid in self.lifecycle.takeovers or caller.uuid in self.consultations:
                raise TransferInProgress(f"call {caller.uuid} is already being transferred", call_uuid=caller.uuid)
            switch = self.switch(caller)
            queue = target[len("queue:"):] if target.startswith("queue:") else None
            if queue is not None:
                self.lifecycle.queue(queue)
        except Exception:
            return defer.fail()
        kind = "blind_queue" if queue is not None else "blind_extension"
        payload = {"kind": kind, "agent_id": agent.id, "call_uuid": caller.uuid, "target": target}
        self.bus.publish(events.TRANSFER_STARTED, payload)
        log.info("call %s: agent %s blind transfer to %s", caller.uuid, agent.id, target)
        takeovers = self.lifecycle.takeovers
        if queue is not None:
            takeovers[caller.uuid] = lambda result: self._requeue(caller, agent, queue, result, payload)
            d = switch.uuid_kill(agent.agent_leg_uuid, "NORMAL_CLEARING")
        else:
            takeovers[caller.uuid] = lambda result: self._left(caller, agent, result, payload)
            d = switch.uuid_transfer(caller.uuid, target, "XML", context)

        def refused(failure: Any) -> None:
            takeovers.pop(caller.uuid, None)
            self.bus.publish(events.TRANSFER_FAILED, {**payload, "error": failure.getErrorMessage()})
            raise SwitchCommandFailed(f"transfer of {caller.uuid} refused: {failure.getErrorMessage()}",
                                      call_uuid=caller.uuid, error=failure.getErrorMessage())

        return d.addCallbacks(lambda _r: None, refused)

    def end_first_leg(self, caller: WaitingCaller, agent: Agent, cause: str, target: Any) -> None:
        """Wrap the first agent up and close the first leg's CDR row as ``transferred``."""
        now = self.clock.seconds()
        talk = now - (caller.answered_at or now)
        config = self.lifecycle.queues[caller.queue].config
        self.stats.handled(caller.queue, now, talk + config.wrapup_seconds)
        self.estimator.observe(caller.queue, talk + config.wrapup_seconds, config.default_aht)
        if agent.state is S.ON_CALL and agent.call_uuid == caller.uuid:
            self.lifecycle.start_wrap_up(agent, caller)
        caller.decisions.append({"at": now, "call_uuid": caller.uuid, "queue": caller.queue, "agent_id": agent.id,
                                 "strategy": "transfer", "reason": f"transferred by agent {agent.id} to {target}",
                                 "candidates": 0, "retry_at": None})
        self.lifecycle.report(caller, "ended", disposition="transferred", hangup_cause=cause, ended_at=now,
                              agent_id=agent.id, decisions=list(caller.decisions))

    def _requeue(self, caller: WaitingCaller, agent: Agent, queue: str, result: connect.ConnectResult,
                 payload: dict[str, Any]) -> None:
        if caller.leg.gone:  # the caller hung up as the transfer went out: an ordinary end of the call
            self.conversation_over(caller, agent, result.cause)
            return
        self.end_first_leg(caller, agent, result.cause or "NORMAL_CLEARING", f"queue {queue}")
        self.lifecycle.requeue(caller, queue, priority_bump=TRANSFER_PRIORITY_BUMP)
        self.bus.publish(events.TRANSFER_COMPLETED, payload)

    def _left(self, caller: WaitingCaller, agent: Agent, result: connect.ConnectResult,
              payload: dict[str, Any]) -> None:
        """uuid_transfer done: the caller left the engine; the first agent wraps up."""
        now = self.clock.seconds()
        talk = now - (caller.answered_at or now)
        if agent.state is S.ON_CALL and agent.call_uuid == caller.uuid:
            self.lifecycle.start_wrap_up(agent, caller)
        self.stats.handled(caller.queue, now, talk + self.lifecycle.queues[caller.queue].config.wrapup_seconds)
        self.bus.publish(events.TRANSFER_COMPLETED, payload)

        def finish(_cause: object = None) -> None:
            if timer.active():
                timer.cancel()
            self.lifecycle.finish(caller, "transferred", agent_id=agent.id, talk=talk, cause=result.cause,
                                  disposition="transferred")

        # the outcome waits until the switch has let go of the outbound socket (the transfer ends the
        # socket app): a handler that hangs up "its" call on the outcome must not kill the transferred caller
        timer = self.clock.callLater(LEAVE_TIMEOUT, finish)
        caller.leg.when_gone().addCallback(finish)

    def conversation_over(self, caller: WaitingCaller, agent: Agent | None, cause: str | None) -> None:
        """The customer's (transferred or reconnected) conversation ended: wrap up, close the record."""
        if caller.done:
            return
        now = self.clock.seconds()
        talk = now - (caller.answered_at or now)
        config = self.lifecycle.queues[caller.queue].config
        if agent is not None:
            self.stats.handled(caller.queue, now, talk + config.wrapup_seconds)
            if agent.state is S.ON_CALL and agent.call_uuid == caller.uuid:
                self.lifecycle.start_wrap_up(agent, caller)
            if hasattr(self.history, "remember"):
                self.history.remember(caller.customer_id, caller.ani, agent.id, now)
        self.lifecycle.finish(caller, "served" if agent is not None else "transferred",
                              agent_id=agent.id if agent else None, talk=talk, cause=cause,
                              disposition="answered" if agent is not None else "transferred")

    # -- attended ------------------------------------------------------------------------------

    def consult(self, agent_id: int, target: "int | str") -> "Consultation":
        """Ring ``target`` (an agent id or an extension); see :class:`Consultation`."""
        agent, caller = self.live_call(agent_id)
        if caller.uuid in self.lifecycle.takeovers or caller.uuid in self.consultations:
            raise TransferInProgress(f"call {caller.uuid} is already being transferred", call_uuid=caller.uuid)
        switch = self.switch(caller)
        target_agent = None
        if isinstance(target, int):
            target_agent = self.board.get(target)
            if target_agent.state is not S.AVAILABLE:
                raise TargetUnavailable(f"agent {target} is {target_agent.state.value}", target=target,
                                        cause=target_agent.state.value)
            extension = target_agent.extension
        else:
            extension = str(target)
        consultation = Consultation(self, agent, caller, switch, extension, target_agent)
        self.consultations[caller.uuid] = consultation
        consultation.start()
        return consultation


class Consultation:
    """One attended transfer: ``ready`` fires when the consulted party talks to the agent (customer on hold).

    States: ``ringing`` → ``talking`` → ``completed`` | ``cancelled``; ``failed``
    when the target did not answer (``ready`` errbacks with TargetUnavailable;
    the agent and the customer were never separated).
    """

    def __init__(self, transfers: Transfers, agent: Agent, caller: WaitingCaller, switch: Any,
                 extension: str, target_agent: Agent | None) -> None:
        self.transfers, self.lifecycle = transfers, transfers.lifecycle
        self.agent, self.caller, self.switch = agent, caller, switch
        self.extension, self.target_agent = extension, target_agent
        self.leg_uuid = str(uuidlib.uuid4())
        self.state = "ringing"
        self.ready: defer.Deferred = defer.Deferred()
        self.ended: defer.Deferred = defer.Deferred()
        self.payload = {"kind": "consult", "agent_id": agent.id, "call_uuid": caller.uuid, "target": extension,
                        "target_agent_id": target_agent.id if target_agent else None, "consult_uuid": self.leg_uuid}
        self._unsubscribe: Any = None
        self._separated = False  # the agent leg has moved to the consult leg (customer on hold)

    # -- ringing ----------------------------------------------------------------------------------

    def start(self) -> None:
        transfers, caller = self.transfers, self.caller
        if self.target_agent is not None:
            transfers.board.transition(self.target_agent.id, S.RINGING, "consult", call_uuid=caller.uuid)
        transfers.bus.publish(events.TRANSFER_STARTED, self.payload)
        config = self.lifecycle.queues[caller.queue].config
        variables = {"origination_caller_id_number": caller.ani or "anonymous",
                     "origination_caller_id_name": f"Consult {caller.customer.get('name') or caller.ani}",
                     "hotline_call_uuid": caller.uuid, "hotline_consult_by": self.agent.id,
                     "hotline_queue": caller.queue}
        self._watch()
        d = self.switch.originate(f"user/{self.extension}", None, variables, max(1, int(config.ring_timeout)),
                                  self.leg_uuid)
        d.addCallbacks(self._answered, self._not_answered)

    def _watch(self) -> None:
        handler = self._on_hangup

        self.switch.subscribe("CHANNEL_HANGUP", handler)
        self._unsubscribe = lambda: self.switch.unsubscribe("CHANNEL_HANGUP", handler)
        self.caller.leg.when_gone().addCallback(self._caller_gone)

    def _not_answered(self, failure: Any) -> None:
        cause = failure.getErrorMessage().replace("-ERR", "").strip() or "NO_ANSWER"
        log.info("call %s: consult of %s failed: %s", self.caller.uuid, self.extension, cause)
        self.state = "failed"
        self._release_target(S.AVAILABLE)
        self._done(events.TRANSFER_FAILED, cause=cause)
        self.ready.errback(TargetUnavailable(f"{self.extension} did not take the consultation: {cause}",
                                             target=self.extension, cause=cause))

    async def _hold(self) -> None:
        """Consulted party answered: move the agent leg to it; the caller's bridge returns -> music."""
        caller = self.caller
        if self.target_agent is not None and self.target_agent.state is S.RINGING:
            self.transfers.board.transition(self.target_agent.id, S.ON_CALL, "consult", call_uuid=caller.uuid)
        self.lifecycle.takeovers[caller.uuid] = self._bridge_returned
        self._separated = True
        await self.switch.uuid_setvar(self.agent.agent_leg_uuid, "park_after_bridge", "true")
        await self.switch.uuid_bridge(self.agent.agent_leg_uuid, self.leg_uuid)
        self.state = "talking"

    def _answered(self, _uuid: str) -> None:
        if self.state != "ringing":  # cancelled while ringing
            self.switch.uuid_kill(self.leg_uuid).addErrback(lambda _f: None)
            return
        if self.caller.leg.gone:
            self.switch.uuid_kill(self.leg_uuid).addErrback(lambda _f: None)
            return
        d = defer.Deferred.fromCoroutine(self._hold())

        def ok(_r: object) -> None:
            self.ready.callback(self)

        def failed(failure: Any) -> None:
            log.error("call %s: consult bridge failed: %s", self.caller.uuid, failure.getErrorMessage())
            self.lifecycle.takeovers.pop(self.caller.uuid, None)
            self.state = "failed"
            self.switch.uuid_kill(self.leg_uuid).addErrback(lambda _f: None)
            self._release_target(S.AVAILABLE)
            self._done(events.TRANSFER_FAILED, cause=failure.getErrorMessage())
            self.ready.errback(SwitchCommandFailed(failure.getErrorMessage(), call_uuid=self.caller.uuid))

        d.addCallbacks(ok, failed)

    def _bridge_returned(self, result: connect.ConnectResult) -> None:
        """The caller's bridge ended because its agent leg moved to the consult leg: hold music."""
        if self.caller.leg.gone:
            return
        self.caller.leg.start_hold(self.lifecycle.queues[self.caller.queue].config.music_on_hold)

    # -- ending ------------------------------------------------------------------------------------

    def complete(self) -> defer.Deferred:
        """Bridge the customer to the consulted party; the first agent is hung up and wraps up."""
        if self.state != "talking":
            return defer.fail(ConsultationState(f"consultation is {self.state}", state=self.state))
        return defer.Deferred.fromCoroutine(self._complete())

    async def _complete(self) -> "Consultation":
        lifecycle, caller, agent = self.lifecycle, self.caller, self.agent
        self.state = "completed"
        await caller.leg.stop_hold()
        await self.switch.uuid_bridge(caller.uuid, self.leg_uuid)
        self.transfers.end_first_leg(caller, agent, "NORMAL_CLEARING", self.extension)
        self.switch.uuid_kill(agent.agent_leg_uuid, "NORMAL_CLEARING").addErrback(lambda _f: None)
        now = self.transfers.clock.seconds()
        caller.answered_at, caller.agent_id = now, self.target_agent.id if self.target_agent else None
        lifecycle.new_segment(caller, queue=caller.queue, queue_id=lifecycle.queues[caller.queue].config.db_id)
        if self.target_agent is not None:
            self.target_agent.agent_leg_uuid = self.leg_uuid
            lifecycle.report(caller, "answered", agent_id=self.target_agent.id, agent_leg_uuid=self.leg_uuid,
                             answered_at=now, wait_seconds=0)
        self._done(events.TRANSFER_COMPLETED)
        return self

    def cancel(self) -> defer.Deferred:
        """Back to the customer: ringing → the consult leg is cancelled; talking → the customer is reconnected."""
        if self.state == "ringing":
            self.state = "cancelled"
            self._release_target(S.AVAILABLE)
            self._done(events.TRANSFER_CANCELLED)
            return self.switch.uuid_kill(self.leg_uuid, "ORIGINATOR_CANCEL").addCallbacks(
                lambda _r: self, lambda _f: self)
        if self.state != "talking":
            return defer.fail(ConsultationState(f"consultation is {self.state}", state=self.state))
        return defer.Deferred.fromCoroutine(self._reconnect(events.TRANSFER_CANCELLED))

    async def _reconnect(self, topic: str) -> "Consultation":
        caller, agent = self.caller, self.agent
        self.state = "cancelled"
        await caller.leg.stop_hold()
        await self.switch.uuid_setvar(agent.agent_leg_uuid, "park_after_bridge")  # no value: unset
        await self.switch.uuid_bridge(caller.uuid, agent.agent_leg_uuid)  # the consult leg is left alone: hung up
        self._release_target(S.AVAILABLE)
        self._done(topic)
        return self

    def _release_target(self, state: AgentState) -> None:
        target = self.target_agent
        if target is not None and target.state in (S.RINGING, S.ON_CALL) and target.call_uuid == self.caller.uuid:
            self.transfers.board.after_offer(target.id, state)

    def _done(self, topic: str, **extra: Any) -> None:
        if self.transfers.consultations.get(self.caller.uuid) is self:
            del self.transfers.consultations[self.caller.uuid]
        self.transfers.bus.publish(topic, {**self.payload, "state": self.state, **extra})
        if topic != events.TRANSFER_COMPLETED and self._unsubscribe is not None and self.state == "failed":
            self._unsubscribe()
            self._unsubscribe = None
        if not self.ended.called:
            self.ended.callback(self.state)

    # -- the switch tells us ----------------------------------------------------------------------

    def _on_hangup(self, event: Any) -> None:
        uuid = event.get("Unique-ID")
        if uuid == self.leg_uuid and self.state == "talking":
            # the consulted party hung up during the consultation: the agent leg parked; reconnect
            log.info("call %s: consulted party hung up; reconnecting agent %s", self.caller.uuid, self.agent.id)
            if self.caller.leg.gone:
                self.switch.uuid_kill(self.agent.agent_leg_uuid).addErrback(lambda _f: None)
                self._release_target(S.AVAILABLE)
                return
            d = defer.Deferred.fromCoroutine(self._reconnect(events.TRANSFER_CANCELLED))
            d.addErrback(lambda f: log.error("call %s: reconnect failed: %s", self.caller.uuid, f.getErrorMessage()))
        elif uuid == self.agent.agent_leg_uuid and self.state == "talking":
            # the first agent left during the consultation: the consulted party takes the customer
            log.info("call %s: agent %s hung up during the consultation; completing", self.caller.uuid,
                     self.agent.id)
            d = self.complete()
            d.addErrback(lambda f: log.error("call %s: auto-complete failed: %s", self.caller.uuid,
                                             f.getErrorMessage()))

    def _caller_gone(self, cause: Any) -> None:
        """The customer hung up: close the call's record; agents still talking wrap up when done."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        caller = self.caller
        cause = str(cause or "NORMAL_CLEARING")
        if not self._separated:  # still the caller's own bridge: the ACD settles the call as usual
            if self.state == "ringing":
                self.state = "cancelled"
                self.switch.uuid_kill(self.leg_uuid, "ORIGINATOR_CANCEL").addErrback(lambda _f: None)
                self._release_target(S.AVAILABLE)
                self._done(events.TRANSFER_CANCELLED, cause=cause)
            return
        if caller.done:
            return
        if self.state == "completed":
            if self.target_agent is not None:
                self.transfers.conversation_over(caller, self.target_agent, cause)
            else:
                self.lifecycle.finish(caller, "transferred", talk=0.0, cause=cause, disposition="transferred")
            return
        if self.state == "talking":  # customer hung up on hold: the consultation ends with it
            self.state = "cancelled"
            self.switch.uuid_kill(self.leg_uuid).addErrback(lambda _f: None)
            self.switch.uuid_kill(self.agent.agent_leg_uuid).addErrback(lambda _f: None)
            self._release_target(S.AVAILABLE)
            self._done(events.TRANSFER_CANCELLED, cause=cause)
        self.transfers.conversation_over(caller, self.agent, cause)
