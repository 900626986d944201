"""The built-in strategies: longest idle, round robin, fewest calls today, skills-based, previous agent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from acd.agents import AgentState
from acd.routing.base import Choice, RouteContext, get_strategy, register

if TYPE_CHECKING:
    from acd.agents import Agent
    from acd.queues import WaitingCaller


def _idle(agent: "Agent", now: float) -> float:
    return now - agent.idle_since


class LongestIdle:
    """The agent who has been available the longest."""

    name = "longest_idle"

    def choose(self, caller: "WaitingCaller", candidates: Sequence["Agent"], ctx: RouteContext) -> Choice:
        if not candidates:
            return Choice(None, "no agent available", strategy=self.name)
        agent = min(candidates, key=lambda a: (a.idle_since, a.id))
        return Choice(agent, f"longest idle ({_idle(agent, ctx.now):.0f}s) of {len(candidates)}", strategy=self.name)


class RoundRobin:
    """The next agent (by id) after the one chosen last in this queue."""

    name = "round_robin"

    def choose(self, caller: "WaitingCaller", candidates: Sequence["Agent"], ctx: RouteContext) -> Choice:
        if not candidates:
            return Choice(None, "no agent available", strategy=self.name)
        last = ctx.memory.get("round_robin_last", -1)
        ordered = sorted(candidates, key=lambda a: a.id)
        agent = next((a for a in ordered if a.id > last), ordered[0])
        ctx.memory["round_robin_last"] = agent.id
        return Choice(agent, f"round robin after agent {last}", strategy=self.name)


class FewestCalls:
    """The agent who took the fewest calls today; ties to the longest idle."""

    name = "fewest_calls"

    def choose(self, caller: "WaitingCaller", candidates: Sequence["Agent"], ctx: RouteContext) -> Choice:
        if not candidates:
            return Choice(None, "no agent available", strategy=self.name)
        agent = min(candidates, key=lambda a: (ctx.board.calls_today(a), a.idle_since, a.id))
        return Choice(agent, f"fewest calls today ({ctx.board.calls_today(agent)})", strategy=self.name)


class SkillsBased:
    """Best skill match (sum of levels over the caller's skills), then longest idle."""

    name = "skills_based"

    def choose(self, caller: "WaitingCaller", candidates: Sequence["Agent"], ctx: RouteContext) -> Choice:
        if not candidates:
            return Choice(None, "no agent available with skills " + _skills(caller.skills), strategy=self.name)

        def score(a: "Agent") -> int:
            return sum(a.skill_level(s) for s in caller.skills)

        agent = min(candidates, key=lambda a: (-score(a), a.idle_since, a.id))
        return Choice(agent, f"best skill match (score {score(agent)} for {_skills(caller.skills)}), "
                             f"idle {_idle(agent, ctx.now):.0f}s", strategy=self.name)


class PreviousAgent:
    """The agent who last served this customer, waited for up to ``previous_agent_wait`` s; else the fallback."""

    name = "previous_agent"

    def __init__(self) -> None:
        self._fallbacks: dict[str, object] = {}

    def _fallback(self, ctx: RouteContext):
        name = ctx.queue.fallback_strategy
        if name not in self._fallbacks:
            self._fallbacks[name] = get_strategy(name)
        return self._fallbacks[name]

    def choose(self, caller: "WaitingCaller", candidates: Sequence["Agent"], ctx: RouteContext) -> Choice:
        prev = caller.previous_agent_id
        if prev is None:
            return self._fall_back(caller, candidates, ctx, "no previous agent")
        for agent in candidates:
            if agent.id == prev:
                return Choice(agent, f"previous agent {prev} available", strategy=self.name)
        try:
            agent = ctx.board.get(prev)
        except Exception:
            return self._fall_back(caller, candidates, ctx, f"previous agent {prev} unknown")
        deadline = caller.entered_at + ctx.queue.previous_agent_wait
        in_queue = ctx.queue.name in agent.queues
        busy = agent.state in (AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP)
        if in_queue and busy and ctx.now < deadline and agent.qualifies(caller.skills):
            return Choice(None, f"waiting for previous agent {prev} ({agent.state.value}) "
                                f"until +{ctx.queue.previous_agent_wait:.0f}s", retry_at=deadline,
                          strategy=self.name)
        why = (f"previous agent {prev} {agent.state.value}" if not busy or not in_queue
               else f"waited {ctx.queue.previous_agent_wait:.0f}s for previous agent {prev}")
        return self._fall_back(caller, candidates, ctx, why)

    def _fall_back(self, caller, candidates, ctx, why: str) -> Choice:
        choice = self._fallback(ctx).choose(caller, candidates, ctx)
        return Choice(choice.agent, f"{why}; fallback {choice.strategy}: {choice.reason}", choice.retry_at,
                      f"{self.name}>{choice.strategy}")


def _skills(skills: dict[str, int]) -> str:
    return ",".join(f"{k}>={v}" for k, v in sorted(skills.items())) or "(none)"


for _cls in (LongestIdle, RoundRobin, FewestCalls, SkillsBased, PreviousAgent):
    register(_cls.name, _cls)
