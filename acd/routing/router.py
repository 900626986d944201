"""The router: pairs waiting callers with available agents when something changes (never by polling).

The ACD calls :meth:`Router.match` when a caller enters a queue, an agent
becomes available (login, end of wrap-up, back from break), a failed offer
puts a caller back, or a caller's timer asks for it (end of a previous-agent
wait). Callers are taken in line order; each one's strategy picks among the
agents that are available, logged into the queue and hold the required skills.
A caller whose strategy says "wait" (previous agent busy) does not block the
callers behind it. Every decision is logged with its reason and kept on the
caller for its CDR.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Iterable

from acd.agents import AgentState
from acd.exceptions import UnknownStrategy
from acd.routing.base import Choice, RouteContext, Strategy, get_strategy

if TYPE_CHECKING:
    from acd.agents import Agent, AgentBoard
    from acd.queues import CallQueue, WaitingCaller

log = logging.getLogger(__name__)

#: What a queue with an unknown strategy name routes by until an admin fixes it.
FALLBACK_STRATEGY = "longest_idle"


@dataclass(frozen=True, slots=True)
class Decision:
    """One routing decision, as logged and stored with the call."""

    at: float
    call_uuid: str
    queue: str
    agent_id: int | None
    strategy: str
    reason: str
    candidates: int
    retry_at: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


class Router:
    """Chooses agents for callers with each queue's strategy."""

    def __init__(self, board: "AgentBoard") -> None:
        self.board = board
        self._strategies: dict[str, tuple[str, Strategy]] = {}
        self._memory: dict[str, dict] = {}

    def strategy_for(self, queue: "CallQueue") -> Strategy:
        name = queue.config.strategy
        cached = self._strategies.get(queue.config.name)
        if cached is None or cached[0] != name:
            try:
                strategy = get_strategy(name)
            except UnknownStrategy:
                # A mistyped strategy must not strand callers: route, and say so loudly.
                log.error("queue %s: unknown routing strategy %r; using %s until it is fixed",
                          queue.config.name, name, FALLBACK_STRATEGY)
                strategy = get_strategy(FALLBACK_STRATEGY)
            cached = self._strategies[queue.config.name] = (name, strategy)
        return cached[1]

    def available_members(self, queue: "CallQueue") -> list["Agent"]:
        """Agents logged into the queue and available now."""
        members, available = self.board.members(queue.config.name), self.board.available_ids
        small, large = (members, available) if len(members) <= len(available) else (available, members)
        return [self.board.get(agent_id) for agent_id in small if agent_id in large]

    def match(self, queue: "CallQueue", now: float, callers: Iterable["WaitingCaller"] | None = None,
              ) -> list[tuple["WaitingCaller", Decision]]:
        """Decisions for the callers of ``queue`` (all waiting ones in order by default).

        Decisions with an agent must be acted on at once (the agent is only
        counted as taken within this call).
        """
        free = self.available_members(queue)
        ctx = RouteContext(now, queue.config, self.board, self._memory.setdefault(queue.config.name, {}))
        strategy = self.strategy_for(queue)
        out: list[tuple[WaitingCaller, Decision]] = []
        taken: set[int] = set()
        if not free:
            return out
        def routable(c: "WaitingCaller") -> bool:
            return (c.offering is None and c.answered_at is None and not c.done and not c.lookup_pending
                    and not c.leg.gone)

        source = queue.iter_unsafe() if callers is None else iter(list(callers))
        chosen: set[str] = set()
        if strategy.name == "previous_agent":  # a freed previous agent goes to the caller who asked for them
            by_id = {a.id: a for a in free}
            source_list = [c for c in source if routable(c)]
            for caller in source_list:
                agent = by_id.get(caller.previous_agent_id) if caller.previous_agent_id is not None else None
                if agent is not None and agent.id not in taken and agent.qualifies(caller.skills):
                    taken.add(agent.id)
                    chosen.add(caller.uuid)
                    out.append((caller, self._decide(caller, queue, Choice(
                        agent, f"previous agent {agent.id} available", strategy=strategy.name), len(free), now)))
            source = iter(source_list)
        for caller in source:  # lazily: stop as soon as every free agent is taken
            if len(taken) == len(free):
                break
            if caller.uuid in chosen or not routable(caller):
                continue
            candidates = [a for a in free if a.id not in taken and a.qualifies(caller.skills)]
            if not candidates and strategy.name != "previous_agent":
                continue
            choice = strategy.choose(caller, candidates, ctx)
            decision = self._decide(caller, queue, choice, len(candidates), now)
            out.append((caller, decision))
            if choice.agent is not None:
                taken.add(choice.agent.id)
        return out

    def _decide(self, caller: "WaitingCaller", queue: "CallQueue", choice: Choice, candidates: int,
                now: float) -> Decision:
        decision = Decision(now, caller.uuid, queue.config.name, choice.agent.id if choice.agent else None,
                            choice.strategy, choice.reason, candidates, choice.retry_at)
        last = caller.decisions[-1] if caller.decisions else None
        if (decision.agent_id is None and last is not None and last["agent_id"] is None
                and last["reason"] == decision.reason):
            return decision  # the same "wait" again: already logged
        caller.decisions.append(decision.as_dict())
        log.info("route %s in %s -> %s: %s", caller.uuid, queue.config.name,
                 f"agent {decision.agent_id}" if decision.agent_id is not None else "wait", choice.reason,
                 extra={"route_decision": decision.as_dict()})
        return decision
