"""Campaign calls for the ACD's agents: the ACD side of the dialer's :class:`~acd.dialer.agents.CampaignAgents`.

The ACD stays the one owner of agents. A campaign's agents are the agents
logged into the campaign's queue (``campaigns.queue_id``, an ACD queue by
its database id); a campaign without a queue has no agents (automated and
preview-only campaigns need none). Whether a *blended* agent -- one who
also takes inbound calls -- counts as free for the campaign is the
campaign's blend rule (:class:`crm_core.enums.BlendRule`):

* ``dedicated``: whenever available;
* ``service_level``: only while every queue the agent is logged into meets
  its service level (today's figure at or over the target, and nobody
  waiting longer than the target seconds right now);
* ``no_inbound_waiting``: only while no caller waits in any of its queues.

Inbound keeps priority under every rule: an agent becoming available is
offered to its queues' waiting callers at once (the router runs before the
dialer's next look), and the blended rules keep agents free for inbound.

An answered campaign call is offered through the ACD's own path: the agent
is reserved (ringing) and rung from the customer's channel with
``bridge`` through a :class:`~acd.connect.BridgeLeg`, goes on call when the
bridge is up, wraps up with the member queue's wrap-up time -- each of
these states carries the reason ``campaign``, so the state log, the agent
desk and the agent-state reports show campaign work -- and the call's
record gets its queue, agent, answer and end like an inbound call's (the
dialer opened it as an outbound call). While the agent talks the call is
one of the ACD's callers, so supervision and transfers work on it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure

from acd import connect, events
from acd.agents import NO_ANSWER, PHONE_BUSY, PHONE_FAILED, PHONE_UNREGISTERED, Agent, AgentState
from acd.dialer.agents import AgentsView, Connected
from acd.queues import WaitingCaller, next_seq
from crm_core.enums import BlendRule

log = logging.getLogger(__name__)
S = AgentState

#: The kind of work (and agent state reason) of an answered campaign call.
CAMPAIGN = "campaign"
_BUSY = (S.RINGING, S.ON_CALL, S.WRAP_UP)
_AGENT_AFTER_FAILURE = {
    connect.NO_ANSWER: NO_ANSWER, connect.BUSY: PHONE_BUSY,
    connect.UNREGISTERED: PHONE_UNREGISTERED, connect.FAILED: PHONE_FAILED,
}


class CampaignLeg(connect.BridgeLeg):
    """An answered campaign call as the ACD's caller leg.

    No hold music (it waits at most the 2-second connect deadline, and music
    would only delay the bridge) and no queue place written on the channel
    (after a restart the dialer, not the ACD, takes its legs back).
    """

    def start_hold(self, music: str) -> None:
        return None

    def keep_place(self, variables: Any) -> None:
        return None


@dataclass
class _Work:
    """A campaign call an agent has (or is being rung for)."""

    caller: WaitingCaller
    agent: Agent
    connected: Connected
    started: float
    gave_up: bool = False


class AcdCampaignAgents:
    """:class:`~acd.dialer.agents.CampaignAgents` on the ACD's agent board (see the module docstring).

    ``settings(campaign_id)`` gives the campaign's settings as the dialer
    holds them (``queue_id``, ``blend_rule``), or None for a campaign it does
    not know; ``switch()`` the inbound Switch (to cancel a ring that missed
    the deadline).
    """

    def __init__(self, acd: Any, clock: IReactorTime, switch: Callable[[], Any] = lambda: None,
                 settings: Callable[[int], Any] | None = None) -> None:
        self.acd = acd
        self.clock = clock
        self.switch = switch
        self.settings: Callable[[int], Any] = settings or (lambda _campaign_id: None)
        self._by_agent: dict[int, _Work] = {}
        self._reserved: dict[str, int] = {}  # call uuid -> agent id held for it (preview dialling)
        self._work_started: dict[int, float] = {}
        acd.board.on_wrap_up_end(self._wrap_up_ended)
        acd.bus.subscribe(events.AGENT_STATE, self._agent_state)

    # -- membership and the blend rule ---------------------------------------------------------------

    def queue_name(self, queue_id: int | None) -> str | None:
        """The ACD queue with database id ``queue_id``."""
        if queue_id is None:
            return None
        return next((name for name, cq in self.acd.queues.items() if cq.config.db_id == queue_id), None)

    def members(self, campaign_id: int) -> list[Agent]:
        """The campaign's agents: those logged into its queue."""
        settings = self.settings(campaign_id)
        name = self.queue_name(getattr(settings, "queue_id", None))
        if name is None:
            return []
        board = self.acd.board
        return [board.get(agent_id) for agent_id in sorted(board.members(name))]

    def works_on(self, agent_id: int, campaign_id: int) -> bool:
        """Whether the agent is one of the campaign's agents."""
        return any(a.id == agent_id for a in self.members(campaign_id))

    def campaigns_of(self, agent_id: int, campaign_ids: Iterable[int]) -> list[int]:
        """Which of ``campaign_ids`` the agent works on (is logged into the queue of)."""
        return [c for c in campaign_ids if self.works_on(agent_id, c)]

    # -- preview: an agent held for the call they chose to place ---------------------------------------

    def reserve(self, agent_id: int, call_uuid: str) -> None:
        """Hold an available agent (ringing, reason ``campaign``) for ``call_uuid``; the answered call goes to them.
        Raises :class:`acd.exceptions.IllegalTransition` when the agent is not available."""
        from acd.exceptions import IllegalTransition

        agent = self.acd.board.get(agent_id)
        if agent.state is not S.AVAILABLE or agent.id in self._by_agent:
            raise IllegalTransition(f"agent {agent_id} is {agent.state.value}, not available", agent_id=agent_id)
        self.acd.board.transition(agent_id, S.RINGING, CAMPAIGN, call_uuid=call_uuid)
        self._reserved[call_uuid] = agent_id

    def release(self, call_uuid: str) -> None:
        """The held call will not reach its agent: the agent is available again (nothing if it did)."""
        agent_id = self._reserved.pop(call_uuid, None)
        if agent_id is None:
            return
        agent = self.acd.board.get(agent_id)
        if agent.state is S.RINGING and agent.call_uuid == call_uuid and agent.id not in self._by_agent:
            self.acd.board.after_offer(agent_id, S.AVAILABLE)

    def blend_allows(self, agent: Agent, rule: str) -> bool:
        """Whether the blend rule lets this agent take a campaign call now (inbound first)."""
        if rule == BlendRule.DEDICATED:
            return True
        now = self.clock.seconds()
        for name in agent.queues:
            cq = self.acd.queues.get(name)
            if cq is None:
                continue
            if rule == BlendRule.NO_INBOUND_WAITING:
                if cq.waiting_count():
                    return False
                continue
            config = cq.config  # service_level
            if cq.waiting_count() and cq.longest_wait(now) >= config.sl_seconds:
                return False
            level = self.acd.stats.ratios(name, now)[0]
            if level is not None and level * 100.0 < config.sl_percent:
                return False
        return True

    def _free_for(self, agent: Agent, rule: str) -> bool:
        if agent.state is not S.AVAILABLE or agent.id in self._by_agent:
            return False
        phone_busy = getattr(self.acd.router, "phone_busy", None)
        if phone_busy is not None and phone_busy(agent):
            return False
        return self.blend_allows(agent, rule)

    def free_agents(self, campaign_id: int) -> list[Agent]:
        """The campaign's agents free for it now, longest idle first."""
        rule = getattr(self.settings(campaign_id), "blend_rule", BlendRule.DEDICATED)
        return sorted((a for a in self.members(campaign_id) if self._free_for(a, rule)),
                      key=lambda a: (a.idle_since, a.id))

    # -- CampaignAgents -------------------------------------------------------------------------------

    def view(self, campaign_id: int) -> AgentsView:
        """Free agents; elapsed handle times of the busy ones who will come back to the campaign (all of them
        for dedicated agents, those on campaign work for blended ones: inbound may take the others)."""
        settings = self.settings(campaign_id)
        if settings is None:
            return AgentsView(0)
        rule = settings.blend_rule
        now = self.clock.seconds()
        members = self.members(campaign_id)
        free = sum(1 for a in members if self._free_for(a, rule))
        busy = [now - self._work_started.get(a.id, a.since) for a in members if a.state in _BUSY
                and (rule == BlendRule.DEDICATED or a.id in self._by_agent)]
        return AgentsView(free, busy)

    def connect(self, call: Any, campaign_id: int, deadline: float) -> defer.Deferred:
        """Ring the longest-idle free agent from the answered call; fires with :class:`Connected` once the agent is
        bridged, or None (nobody free, the phone failed, or ``deadline`` passed: the ring is cancelled)."""
        settings = self.settings(campaign_id)
        reserved = self._reserved.pop(call.uuid, None)
        if reserved is not None:  # a preview call: the agent who chose to dial it is held for it
            held = self.acd.board.get(reserved)
            free = [held] if held.state is S.RINGING and held.call_uuid == call.uuid else []
        else:
            free = self.free_agents(campaign_id) if settings is not None else []
        queue = self.queue_name(getattr(settings, "queue_id", None))
        if not free or queue is None or getattr(call, "hung_up", False):
            if reserved is not None and free:
                self.acd.board.after_offer(reserved, S.AVAILABLE)
            return defer.succeed(None)
        agent = free[0]
        cq = self.acd.queues[queue]
        now = self.clock.seconds()
        variables = getattr(call, "variables", {}) or {}
        customer_id = _int(variables.get("hotline_customer_id"))
        number = variables.get("hotline_contact_number") or getattr(call, "dnis", "") or ""
        leg = CampaignLeg(call, self.clock, self.switch())
        caller = WaitingCaller(uuid=call.uuid, leg=leg, queue=queue, skills={}, priority=0, entered_at=now,
                               seq=next_seq(), customer_id=customer_id,
                               customer={"id": customer_id, "phone": number, "campaign_id": campaign_id},
                               ani=number, dnis=getattr(call, "ani", "") or "", queued_at=now, kind=CAMPAIGN)
        lifecycle = self.acd.lifecycle
        lifecycle.callers[caller.uuid] = caller
        lifecycle.report(caller, "queued", queue=queue, queue_id=cq.config.db_id, customer_id=customer_id,
                         direction="outbound", entered_at=now)
        work = _Work(caller, agent, Connected(agent.id), now)
        self._by_agent[agent.id] = work
        if reserved is None:
            lifecycle.offering(caller, agent)
        else:  # already ringing (held) for this call
            caller.offering = agent.id
        self.acd.bus.publish(events.SCREEN_POP, {
            "agent_id": agent.id, "extension": agent.extension, "call_uuid": caller.uuid, "queue": queue,
            "ani": number, "dnis": caller.dnis, "customer": {k: v for k, v in caller.customer.items() if v},
            "customer_id": customer_id, "ivr_path": None, "waited": 0.0, "reason": CAMPAIGN,
            "campaign_id": campaign_id, "kind": CAMPAIGN})
        result: defer.Deferred = defer.Deferred()

        def too_late() -> None:
            if not result.called:
                work.gave_up = True
                result.callback(None)
                leg.cancel_connect().addErrback(lambda _f: None)

        timer = self.clock.callLater(deadline, too_late)

        def answered(agent_leg: str) -> None:
            if timer.active():
                timer.cancel()
            self._connected(work, agent_leg)
            if not result.called:
                result.callback(work.connected)

        ring = {"origination_caller_id_number": number or "anonymous",
                "origination_caller_id_name": str(number or "campaign"), "hotline_call_uuid": caller.uuid,
                "hotline_queue": queue, "hotline_agent_id": agent.id, "hotline_campaign_id": campaign_id,
                "hotline_call_kind": CAMPAIGN}
        if customer_id is not None:
            ring["hotline_customer_id"] = str(customer_id)
        log.info("campaign %s call %s: ringing agent %s (user/%s)", campaign_id, caller.uuid, agent.id,
                 agent.extension)
        try:
            d = leg.connect(agent.extension, ring, max(1.0, deadline), answered)
        except Exception:
            d = defer.fail()

        def finished(outcome: Any) -> None:
            if timer.active():
                timer.cancel()
            if not result.called:
                result.callback(None)

        d.addCallback(self._ended, work)
        d.addErrback(self._crashed, work)
        d.addBoth(finished)
        return result

    # -- the call's steps -------------------------------------------------------------------------------

    def _connected(self, work: _Work, agent_leg: str) -> None:
        caller, agent = work.caller, work.agent
        if caller.answered_at is not None:
            return
        now = self.clock.seconds()
        caller.answered_at, caller.agent_id = now, agent.id
        agent.agent_leg_uuid = agent_leg
        board = self.acd.board
        if agent.state is S.RINGING and agent.call_uuid == caller.uuid:
            board.transition(agent.id, S.ON_CALL, CAMPAIGN, call_uuid=caller.uuid)
        else:  # the agent answered a ring given up on a moment ago: the switch says they talk
            board.force(agent.id, S.ON_CALL, CAMPAIGN, caller.uuid)
        agent.agent_leg_uuid = agent_leg
        self.acd.lifecycle.report(caller, "answered", agent_id=agent.id, agent_leg_uuid=agent_leg, answered_at=now,
                                  wait_seconds=now - caller.entered_at)

    def _ended(self, result: connect.ConnectResult, work: _Work) -> None:
        caller, agent = work.caller, work.agent
        lifecycle, board = self.acd.lifecycle, self.acd.board
        now = self.clock.seconds()
        takeover = lifecycle.takeovers.pop(caller.uuid, None)
        if takeover is not None:  # a transfer or consultation ended the bridge on purpose: it settles the call
            takeover(result)
            self._talk_over(work)
            return
        if result.kind == connect.COMPLETED or caller.answered_at is not None:
            if caller.answered_at is None:
                self._connected(work, result.agent_leg_uuid or "")
            talk = now - (caller.answered_at or now)
            history = self.acd.history
            if hasattr(history, "remember"):  # the customer calling back finds this agent first
                history.remember(caller.customer_id, caller.ani, agent.id, now)
            lifecycle.report(caller, "ended", disposition="answered", hangup_cause=result.cause or None,
                             ended_at=now, agent_id=agent.id, talk_seconds=talk,
                             hangup_side="caller" if caller.leg.gone else "agent")
            lifecycle.forget(caller)
            if agent.state is S.ON_CALL and agent.call_uuid == caller.uuid:
                board.start_wrap_up(agent.id, self._wrapup(caller), caller.uuid, reason=CAMPAIGN)
            self._talk_over(work)
            return
        lifecycle.forget(caller)
        self._by_agent.pop(agent.id, None)
        if agent.state is S.RINGING and agent.call_uuid == caller.uuid:
            if work.gave_up or result.kind == connect.CALLER_GONE or caller.leg.gone:
                board.after_offer(agent.id, S.AVAILABLE)
            else:
                board.after_offer(agent.id, S.NOT_READY, _AGENT_AFTER_FAILURE.get(result.kind, PHONE_FAILED))
        log.info("campaign call %s: agent %s not connected (%s %s)", caller.uuid, agent.id, result.kind,
                 result.cause)

    def _talk_over(self, work: _Work) -> None:
        if not work.connected.ended.called:
            work.connected.ended.callback(None)
        if work.agent.state is not S.WRAP_UP or work.agent.call_uuid != work.caller.uuid:
            self._done(work)  # no wrap-up (0 s), or the agent already moved on

    def _wrap_up_ended(self, agent: Agent, call_uuid: str) -> None:
        work = self._by_agent.get(agent.id)
        if work is not None and work.caller.uuid == call_uuid:
            self._done(work)

    def _done(self, work: _Work) -> None:
        if self._by_agent.get(work.agent.id) is work:
            del self._by_agent[work.agent.id]
        if not work.connected.done.called:
            work.connected.done.callback(self.clock.seconds() - work.started)

    def _crashed(self, failure: Failure, work: _Work) -> None:
        caller, agent = work.caller, work.agent
        log.error("campaign call %s: offer to agent %s failed: %s", caller.uuid, agent.id, failure.getTraceback())
        self.acd.lifecycle.forget(caller)
        if agent.state in (S.RINGING, S.ON_CALL) and agent.call_uuid == caller.uuid:
            self.acd.board.force(agent.id, S.NOT_READY, PHONE_FAILED)
        self._by_agent.pop(agent.id, None)
        if not work.connected.ended.called:
            work.connected.ended.callback(None)

    def _wrapup(self, caller: WaitingCaller) -> float:
        cq = self.acd.queues.get(caller.queue)
        return cq.config.wrapup_seconds if cq is not None else 0.0

    def _agent_state(self, _topic: str, view: dict[str, Any]) -> None:
        """When each agent's current piece of work began (ringing), for the pacing's handle-time model."""
        agent_id, state = view.get("agent_id"), view.get("state")
        if state in (S.RINGING.value, S.ON_CALL.value, S.WRAP_UP.value):
            self._work_started.setdefault(agent_id, self.clock.seconds())
        else:
            self._work_started.pop(agent_id, None)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
