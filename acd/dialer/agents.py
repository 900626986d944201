"""Who takes a campaign's answered calls: the interface the dialer asks, and dedicated agents on their phones.

The dialer never owns agents. It asks a :class:`CampaignAgents` how many
are free and how long the busy ones have been on their calls (pacing), and
offers it each answered live call with a deadline (the 2-second rule).
The ACD will implement this interface for blended agents; until then
:class:`PhoneAgents` serves a campaign with dedicated agents reached on
their phones: the answered call runs ``bridge`` to the longest-idle free
agent's extension, "connected" is the bridge's CHANNEL_BRIDGE, and the
agent is busy until the bridge ends plus wrap-up.
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime


@dataclass(frozen=True)
class AgentsView:
    """A campaign's agents at one moment, as pacing needs them."""

    free: int
    busy_elapsed: Sequence[float] = ()


@dataclass
class Connected:
    """An agent took the call. ``ended`` fires when the agent's talk ends (the agent left the call);
    ``done`` fires with the handle time (talk + wrap-up) when the agent is free again."""

    agent_id: int
    ended: defer.Deferred = field(default_factory=defer.Deferred)
    done: defer.Deferred = field(default_factory=defer.Deferred)


class CampaignAgents(Protocol):
    def view(self, campaign_id: int) -> AgentsView:
        """Free agents and the elapsed handle times of the busy ones."""

    def connect(self, call: Any, campaign_id: int, deadline: float) -> defer.Deferred:
        """Offer an answered call: fires with :class:`Connected`, or None if no agent took it by ``deadline``."""


@dataclass
class _Agent:
    agent_id: int
    extension: str
    campaigns: frozenset[int]
    free_since: float = 0.0
    busy_since: float | None = None


class PhoneAgents:
    """Dedicated campaign agents on their phones (``user/<extension>``); longest idle first."""

    def __init__(self, clock: IReactorTime, switch: Any, *, wrap_up: float = 5.0, ring_timeout: int = 15) -> None:
        self.clock = clock
        self.switch = switch
        self.wrap_up = wrap_up
        self.ring_timeout = ring_timeout
        self._agents: dict[int, _Agent] = {}

    def add(self, agent_id: int, extension: str, campaigns: Sequence[int]) -> None:
        self._agents[agent_id] = _Agent(agent_id, extension, frozenset(campaigns), self.clock.seconds())

    def _free(self, campaign_id: int) -> list[_Agent]:
        return sorted((a for a in self._agents.values() if campaign_id in a.campaigns and a.busy_since is None),
                      key=lambda a: a.free_since)

    def view(self, campaign_id: int) -> AgentsView:
        now = self.clock.seconds()
        busy = [now - a.busy_since for a in self._agents.values()
                if campaign_id in a.campaigns and a.busy_since is not None]
        return AgentsView(len(self._free(campaign_id)), busy)

    def connect(self, call: Any, campaign_id: int, deadline: float) -> defer.Deferred:
        free = self._free(campaign_id)
        if not free:
            return defer.succeed(None)
        agent = free[0]
        agent.busy_since = self.clock.seconds()
        leg_uuid = str(uuidlib.uuid4())
        result: defer.Deferred = defer.Deferred()
        connected = Connected(agent.agent_id)
        took: list[bool] = []

        def on_event(event: Any) -> None:
            if event.name == "CHANNEL_BRIDGE" and not result.called:
                took.append(True)
                if timer.active():
                    timer.cancel()
                result.callback(connected)

        def too_late() -> None:
            if not result.called:
                result.callback(None)
                self.switch.uuid_kill(leg_uuid, "ORIGINATOR_CANCEL").addErrback(lambda _f: None)

        unsubscribe = call.on_event(on_event)
        timer = self.clock.callLater(deadline, too_late)
        dial = f"{{origination_uuid={leg_uuid},originate_timeout={self.ring_timeout}}}user/{agent.extension}"
        started = self.clock.seconds()

        def ended(_outcome: Any) -> None:
            unsubscribe()
            if timer.active():
                timer.cancel()
            if not result.called:
                result.callback(None)
            if not took:  # the agent never got the call: free again at once
                agent.busy_since, agent.free_since = None, self.clock.seconds()
                return
            if not connected.ended.called:
                connected.ended.callback(None)
            self.clock.callLater(self.wrap_up, self._free_agent, agent, connected, started)

        call.bridge(dial, continue_on_fail=True).addBoth(ended)
        return result

    def _free_agent(self, agent: _Agent, connected: Connected, started: float) -> None:
        agent.busy_since, agent.free_since = None, self.clock.seconds()
        if not connected.done.called:
            connected.done.callback(self.clock.seconds() - started)
