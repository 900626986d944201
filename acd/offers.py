"""Routing and offers: when something changes, match waiting callers with agents, ring them, settle the ring.

:class:`Offers` runs the router over a queue (``route``), rings the chosen
agent through the caller's :class:`~acd.connect.CallerLeg` and turns how the
ring ended into the caller's next step on the :class:`~acd.lifecycle.CallerLifecycle`:
connected (the agent's phone answered), then served when the conversation is
over; back to the head of its line when the agent did not answer (the agent
goes not ready); abandoned when the caller hung up meanwhile. A transfer or
consultation that ended the bridge on purpose settles the call itself
(``lifecycle.takeovers``).
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from twisted.internet import defer
from twisted.python.failure import Failure

from acd import connect, events
from acd.agents import NO_ANSWER, PHONE_BUSY, PHONE_FAILED, PHONE_UNREGISTERED, Agent, AgentBoard, AgentState
from acd.estimator import Estimator
from acd.lifecycle import CallerLifecycle
from acd.queues import WaitingCaller
from acd.records import History
from acd.routing import Router
from acd.routing.router import Decision
from acd.stats import QueueStats

log = logging.getLogger("acd.engine")
S = AgentState

_AGENT_AFTER_FAILURE = {
    connect.NO_ANSWER: NO_ANSWER, connect.BUSY: PHONE_BUSY,
    connect.UNREGISTERED: PHONE_UNREGISTERED, connect.FAILED: PHONE_FAILED,
}


class Offers:
    """Routing decisions and the rings that follow them."""

    def __init__(self, clock: Any, lifecycle: CallerLifecycle, board: AgentBoard, router: Router,
                 bus: events.EventBus, stats: QueueStats, estimator: Estimator, history: History,
                 customer_failed: Callable[[WaitingCaller, connect.ConnectResult], Any]) -> None:
        self.clock = clock
        self.lifecycle = lifecycle
        self.board = board
        self.router = router
        self.bus = bus
        self.stats = stats
        self.estimator = estimator
        self.history = history
        self.customer_failed = customer_failed  # a callback's customer (not the agent) did not answer
        lifecycle.on_route(self.route)
        board.on_available(self.agent_available)

    # -- routing ---------------------------------------------------------------------------------

    def route(self, queue: str) -> list[Decision]:
        """Match waiting callers of ``queue`` with available agents and ring them."""
        cq = self.lifecycle.queues.get(queue)
        if cq is None:
            return []
        now = self.clock.seconds()
        decisions = []
        for caller, decision in self.router.match(cq, now):
            decisions.append(decision)
            self.bus.publish(events.ROUTE_DECISION, decision.as_dict())
            if decision.agent_id is not None:
                self.offer(caller, self.board.get(decision.agent_id), decision)
            elif decision.retry_at is not None:
                caller.cancel_timer("retry")
                caller.timers["retry"] = self.clock.callLater(max(0.0, decision.retry_at - now), self.route, queue)
        return decisions

    def agent_available(self, agent: Agent) -> None:
        """An agent became available: serve the queue whose next caller has waited longest (priority first)."""
        queues = self.lifecycle.queues

        def head_key(name: str) -> tuple:
            cq = queues.get(name)
            head = next((c for c in cq.iter_unsafe() if c.offering is None and c.answered_at is None), None) \
                if cq else None
            return (1,) if head is None else (0, -head.priority, head.entered_at)

        names = sorted(agent.queues, key=head_key) if len(agent.queues) > 1 else list(agent.queues)
        for name in names:
            if agent.state is not S.AVAILABLE:
                break
            self.route(name)

    # -- offers ----------------------------------------------------------------------------------

    def offer(self, caller: WaitingCaller, agent: Agent, decision: Decision) -> None:
        """Reserve ``agent`` for ``caller``, pop the screen, ring the agent's phone from the caller's channel."""
        config = self.lifecycle.queues[caller.queue].config
        self.lifecycle.offering(caller, agent)
        self.bus.publish(events.SCREEN_POP, self.screen_pop(caller, agent, decision))
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
                                   lambda other: self.lifecycle.connected(caller, agent, other))
        except Exception:
            d = defer.fail()
        d.addCallback(self.ended, caller, agent)
        d.addErrback(self.crashed, caller, agent)

    def screen_pop(self, caller: WaitingCaller, agent: Agent, decision: Decision) -> dict[str, Any]:
        return {"agent_id": agent.id, "extension": agent.extension, "call_uuid": caller.uuid, "queue": caller.queue,
                "ani": caller.ani, "dnis": caller.dnis, "customer": dict(caller.customer),
                "customer_id": caller.customer_id, "ivr_path": caller.ivr_path,
                "waited": self.clock.seconds() - caller.entered_at, "reason": decision.reason}

    def ended(self, result: connect.ConnectResult, caller: WaitingCaller, agent: Agent) -> None:
        """How the ring (and, if answered, the conversation) ended: the caller's next step."""
        lifecycle = self.lifecycle
        now = self.clock.seconds()
        config = lifecycle.queues[caller.queue].config
        caller.offering = None
        takeover = lifecycle.takeovers.pop(caller.uuid, None)
        if takeover is not None:  # a transfer or consultation ended the bridge on purpose: it settles the call
            takeover(result)
            return
        if result.kind == connect.COMPLETED:
            if caller.answered_at is None:  # bridged without our seeing CHANNEL_BRIDGE
                lifecycle.connected(caller, agent, result.agent_leg_uuid or "")
            talk = now - (caller.answered_at or now)
            self.estimator.observe(caller.queue, talk + config.wrapup_seconds, config.default_aht)
            self.stats.handled(caller.queue, now, talk + config.wrapup_seconds)
            if hasattr(self.history, "remember"):
                self.history.remember(caller.customer_id, caller.ani, agent.id, now)
            if agent.state is S.ON_CALL and agent.call_uuid == caller.uuid:
                lifecycle.start_wrap_up(agent, caller)
            # the bridge returned with the caller still there: the agent ended the conversation
            lifecycle.served(caller, agent.id, talk, result.cause, side="caller" if caller.leg.gone else "agent")
            return
        # not connected: settle the caller first, so freeing the agent cannot re-offer a gone caller
        agent_ours = agent.state is S.RINGING and agent.call_uuid == caller.uuid
        if result.kind in connect.CUSTOMER_FAILURES:  # a callback's customer failed, not the agent
            log.info("call %s: callback customer %s (%s); agent %s freed", caller.uuid, result.kind, result.cause,
                     agent.id)
            self.customer_failed(caller, result)
            if agent_ours:
                self.board.after_offer(agent.id, S.AVAILABLE)
            return
        caller_gone = result.kind == connect.CALLER_GONE or caller.leg.gone
        if caller_gone:
            lifecycle.abandon(caller, result.cause or "ORIGINATOR_CANCEL")
        else:
            log.info("call %s: agent %s %s (%s); back to the head of %s", caller.uuid, agent.id, result.kind,
                     result.cause, caller.queue)
            lifecycle.back_to_head(caller, agent.id, f"offer failed: {result.kind} ({result.cause})")
        if agent_ours:
            if caller_gone or caller.cancelled_offer:
                self.board.after_offer(agent.id, S.AVAILABLE)
            else:
                self.board.after_offer(agent.id, S.NOT_READY, _AGENT_AFTER_FAILURE.get(result.kind, PHONE_FAILED))
        if not caller_gone:
            self.route(caller.queue)

    def crashed(self, failure: Failure, caller: WaitingCaller, agent: Agent) -> None:
        """Fail safe: log with the call uuid, free the agent, and hand the call back to the IVR."""
        log.error("call %s: offer to agent %s failed: %s", caller.uuid, agent.id, failure.getTraceback())
        caller.offering = None
        if agent.state in (S.RINGING, S.ON_CALL) and agent.call_uuid == caller.uuid:
            self.board.force(agent.id, S.NOT_READY, PHONE_FAILED)
        if not caller.done:
            self.lifecycle.finish(caller, "failed", disposition="acd_error")

    def cancel(self, agent: Agent) -> None:
        """Stop ringing ``agent`` (it logs out, or its reservation is taken back)."""
        caller = self.lifecycle.callers.get(agent.call_uuid or "")
        if caller is not None and caller.offering == agent.id:
            caller.cancelled_offer = True
            caller.leg.cancel_connect().addErrback(lambda _f: None)
