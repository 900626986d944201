"""The strategy interface, the context a strategy sees, and the registry of strategies by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence

from acd.exceptions import UnknownStrategy

if TYPE_CHECKING:
    from acd.agents import Agent, AgentBoard
    from acd.queues import QueueConfig, WaitingCaller


@dataclass(frozen=True, slots=True)
class Choice:
    """A strategy's answer: ``agent`` (None: nobody now), why, and when to ask again (clock seconds)."""

    agent: "Agent | None"
    reason: str
    retry_at: float | None = None
    strategy: str = ""


@dataclass
class RouteContext:
    """What a strategy may look at besides the caller and candidates."""

    now: float
    queue: "QueueConfig"
    board: "AgentBoard"
    memory: dict[str, Any] = field(default_factory=dict)  # per-queue strategy state (round robin pointer)


class Strategy(Protocol):
    name: str

    def choose(self, caller: "WaitingCaller", candidates: Sequence["Agent"], ctx: RouteContext) -> Choice: ...


_REGISTRY: dict[str, Callable[[], Strategy]] = {}


def register(name: str, factory: Callable[[], Strategy]) -> None:
    """Make a strategy available to queues under ``name``."""
    _REGISTRY[name] = factory


def get_strategy(name: str) -> Strategy:
    """A new instance of the strategy ``name`` (UnknownStrategy if none)."""
    name = name.replace("-", "_")
    aliases = {"longest_idle_agent": "longest_idle", "skills": "skills_based", "previous": "previous_agent"}
    name = aliases.get(name, name)
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise UnknownStrategy(f"no routing strategy {name!r}", strategy=name) from None


def strategy_names() -> list[str]:
    """Names of every registered strategy (the built-ins register when ``acd.routing`` is imported)."""
    return sorted(_REGISTRY)
