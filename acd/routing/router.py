"""The router: pairs waiting callers with available agents when something changes (never by polling).

The ACD calls :meth:`Router.match` when a caller enters a queue, an agent
becomes available (login, end of wrap-up, back from break), a failed offer
puts a caller back, or a caller's timer asks for it (end of a previous-agent
wait). Callers are taken in line order; each one's strategy picks among the
agents that are available, logged into the queue and hold the required skills.
A caller whose strategy says "wait" (previous agent busy) does not block the
callers behind it. Every decision is logged with its reason and kept on the
caller for its CDR.

How the router finds callers: not by scanning the line. The queue keeps its
offerable callers in lines by requirement signature (``CallQueue.eligible_lines``,
see ``acd/queues.py``); the router merges the heads of the lines that the
free agents qualify for (a heap over those lines), so a freed agent costs
~O(#lines it qualifies for * log), whatever the length of the queue. The
result is the same as the scan in line order (:meth:`Router.plan_scan`, the
reference the property tests compare with): a caller no free agent qualifies
for is skipped by both. One difference, on purpose: with ``previous_agent``
the scan also asked the strategy about callers with *no* candidate (which
can only say "wait" or "nobody"); the index skips them. Assignments are
identical; those no-agent decisions are simply not repeated.
"""

from __future__ import annotations

import heapq
import logging
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Callable, Iterable

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

    def __init__(self, board: "AgentBoard", phone_busy: "Callable[[Agent], bool] | None" = None) -> None:
        self.board = board
        #: True for an agent whose phone has a live call now (acd.phones.PhoneLines): never offered a caller
        self.phone_busy = phone_busy
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
        """Agents logged into the queue and available now, whose phone is free."""
        members, available = self.board.members(queue.config.name), self.board.available_ids
        small, large = (members, available) if len(members) <= len(available) else (available, members)
        free = [self.board.get(agent_id) for agent_id in small if agent_id in large]
        busy = self.phone_busy
        return free if busy is None else [agent for agent in free if not busy(agent)]

    def match(self, queue: "CallQueue", now: float, callers: Iterable["WaitingCaller"] | None = None,
              ) -> list[tuple["WaitingCaller", Decision]]:
        """Decisions for the callers of ``queue`` (all waiting ones in order by default).

        Decisions with an agent must be acted on at once (the agent is only
        counted as taken within this call).
        """
        return [(caller, self._decide(caller, queue, choice, candidates, now))
                for caller, choice, candidates in self.plan(queue, now, callers)]

    def plan(self, queue: "CallQueue", now: float, callers: Iterable["WaitingCaller"] | None = None,
             memory: dict | None = None) -> list[tuple["WaitingCaller", Choice, int]]:
        """What :meth:`match` would decide, without logging: (caller, choice, number of candidates).

        Uses the queue's routing index; an explicit ``callers`` list (or a
        queue without an index) is scanned. ``memory``: the strategy state to
        use instead of the queue's own (dry runs).
        """
        if callers is not None or not hasattr(queue, "eligible_lines"):
            return self.plan_scan(queue, now, callers, memory)
        free = self.available_members(queue)
        if not free:
            return []
        strategy, ctx = self._strategy_ctx(queue, now, memory)
        out: list[tuple[WaitingCaller, Choice, int]] = []
        taken: set[int] = set()
        chosen: set[str] = set()
        if strategy.name == "previous_agent":  # a freed previous agent goes to the caller who asked for them first
            first: list[tuple[tuple, WaitingCaller, Agent]] = []
            for agent in free:
                for key in queue.waiting_for(agent.id):
                    caller = queue.caller(key[2])
                    if not caller.leg.gone and agent.qualifies(caller.skills):
                        first.append((key, caller, agent))
                        break
            first.sort(key=lambda item: item[0])
            for _key, caller, agent in first:
                taken.add(agent.id)
                chosen.add(caller.uuid)
                out.append((caller, Choice(agent, f"previous agent {agent.id} available", strategy=strategy.name),
                            len(free)))
        # the lines each untaken free agent qualifies for; a line is live while one of them is untaken
        lines: dict[int, list] = {}
        line_agents: dict[int, list[Agent]] = {}
        agent_lines: dict[int, list[int]] = {}
        for agent in free:
            if agent.id in taken:
                continue
            ids = agent_lines[agent.id] = []
            for line in queue.eligible_lines(agent):
                lid = id(line)
                ids.append(lid)
                members = line_agents.get(lid)
                if members is None:
                    lines[lid] = line
                    line_agents[lid] = [agent]
                else:
                    members.append(agent)
        live = {lid: len(members) for lid, members in line_agents.items()}
        heap = [(line[0], lid, 0) for lid, line in lines.items()]
        heapq.heapify(heap)
        n_free = len(free)
        while heap and len(taken) < n_free:
            key, lid, pos = heapq.heappop(heap)
            if not live[lid]:
                continue  # every agent that could take this line is taken: drop it
            line = lines[lid]
            if pos + 1 < len(line):
                heapq.heappush(heap, (line[pos + 1], lid, pos + 1))
            caller = queue.caller(key[2])
            if caller.uuid in chosen or caller.leg.gone:
                continue
            candidates = [a for a in line_agents[lid] if a.id not in taken]
            choice = strategy.choose(caller, candidates, ctx)
            out.append((caller, choice, len(candidates)))
            if choice.agent is not None:
                taken.add(choice.agent.id)
                for other in agent_lines.get(choice.agent.id, ()):
                    live[other] -= 1
        return out

    def plan_scan(self, queue: "CallQueue", now: float, callers: Iterable["WaitingCaller"] | None = None,
                  memory: dict | None = None) -> list[tuple["WaitingCaller", Choice, int]]:
        """The reference: every waiting caller in line order, each checked against every free agent."""
        free = self.available_members(queue)
        if not free:
            return []
        strategy, ctx = self._strategy_ctx(queue, now, memory)
        out: list[tuple[WaitingCaller, Choice, int]] = []
        taken: set[int] = set()

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
                    out.append((caller, Choice(agent, f"previous agent {agent.id} available",
                                               strategy=strategy.name), len(free)))
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
            out.append((caller, choice, len(candidates)))
            if choice.agent is not None:
                taken.add(choice.agent.id)
        return out

    def _strategy_ctx(self, queue: "CallQueue", now: float, memory: dict | None) -> tuple[Strategy, RouteContext]:
        if memory is None:
            memory = self._memory.setdefault(queue.config.name, {})
        return self.strategy_for(queue), RouteContext(now, queue.config, self.board, memory)

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
