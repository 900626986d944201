"""Consistency between the ACD's memory and the switch's channels: find drift, repair it, log it.

A lost ``CHANNEL_HANGUP`` (a dropped ESL connection, a crashed socket) leaves
an agent "on call" forever or a caller "waiting" who is long gone -- the
classic stuck states of other ACDs. :class:`Reconciler` compares the ACD
with ``show channels`` periodically (and on demand in tests):

* an agent ringing or on a call whose caller channel *and* agent leg are gone
  is moved on (wrap-up, then available) with reason ``reconcile``;
* a waiting caller whose channel vanished is removed and its CDR closed as
  abandoned.

A channel is only judged gone when it is missing from two consecutive checks
or older than ``grace`` seconds in the ACD, so a call that just started is
never "repaired" away. :func:`recover` rebuilds agent states after a restart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable

from twisted.internet import defer, task
from twisted.internet.interfaces import IReactorTime

from acd import events
from acd.agents import AgentState, StateChange

if TYPE_CHECKING:
    from acd.engine import Acd
    from freeswitch.channels import ChannelRow

log = logging.getLogger(__name__)
S = AgentState
ChannelSource = Callable[[], defer.Deferred]
#: Channels still listed (a lingering outbound socket keeps them) but already hung up.
_DEAD_STATES = frozenset({"CS_HANGUP", "CS_REPORTING", "CS_DESTROY"})


@dataclass
class Repairs:
    """What one reconciliation found and fixed."""

    agents: list[tuple[int, str, str]] = field(default_factory=list)  # (agent, from state, to state)
    callers: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.agents or self.callers)


def reconcile_once(acd: "Acd", channels: Iterable["ChannelRow"], grace: float = 5.0) -> Repairs:
    """Compare the ACD with one ``show channels`` result and repair; pure apart from the ACD."""
    live = {row.uuid for row in channels if row.state not in _DEAD_STATES}
    now = acd.clock.seconds()
    repairs = Repairs()
    for caller in list(acd.callers.values()):
        if caller.uuid in live or caller.done or now - caller.entered_at < grace:
            continue
        if caller.offering is not None or caller.answered_at is not None:
            continue  # the agent pass below handles calls with an agent
        log.warning("reconcile: caller %s waiting in %s has no channel; closing as abandoned",
                    caller.uuid, caller.queue)
        caller.decisions.append({"at": now, "call_uuid": caller.uuid, "queue": caller.queue, "agent_id": None,
                                 "strategy": "reconcile", "reason": "channel vanished", "candidates": 0,
                                 "retry_at": None})
        acd.lifecycle.abandon(caller, "RECONCILE_CHANNEL_GONE")
        repairs.callers.append(caller.uuid)
    for agent in list(acd.board.all()):
        if agent.state not in (S.RINGING, S.ON_CALL) or now - agent.since < grace:
            continue
        legs = {u for u in (agent.call_uuid, agent.agent_leg_uuid) if u}
        if legs & live:
            continue
        before = agent.state.value
        caller = acd.callers.get(agent.call_uuid or "")
        log.warning("reconcile: agent %s %s for call %s but no channel; repairing", agent.id, before,
                    agent.call_uuid)
        if caller is not None and not caller.done:
            if caller.answered_at is not None:
                acd.lifecycle.served(caller, agent.id, now - caller.answered_at, "RECONCILE_CHANNEL_GONE")
            else:
                caller.offering = None
                acd.lifecycle.abandon(caller, "RECONCILE_CHANNEL_GONE")
            repairs.callers.append(caller.uuid)
        queue_wrapup = min((acd.queues[q].config.wrapup_seconds for q in agent.queues if q in acd.queues),
                           default=0.0)
        if agent.state is S.ON_CALL:
            acd.board.start_wrap_up(agent.id, queue_wrapup, agent.call_uuid)
        else:
            acd.board.after_offer(agent.id, S.AVAILABLE)
        repairs.agents.append((agent.id, before, agent.state.value))
    if repairs:
        acd.bus.publish(events.RECONCILED, {"agents": repairs.agents, "callers": repairs.callers, "at": now})
    return repairs


class Reconciler:
    """Runs :func:`reconcile_once` every ``interval`` seconds against ``channels()`` (``switch.show_channels``)."""

    def __init__(self, acd: "Acd", channels: ChannelSource, clock: IReactorTime, interval: float = 30.0,
                 grace: float = 5.0) -> None:
        self.acd = acd
        self.channels = channels
        self.interval = interval
        self.grace = grace
        self.runs = 0
        self.last: Repairs | None = None
        #: also told the live channel uuids after each check (restart recovery follows talking calls)
        self.watchers: list[Callable[[set[str]], object]] = []
        self._loop = task.LoopingCall(self.run)
        self._loop.clock = clock

    def start(self, now: bool = False) -> None:
        self._loop.start(self.interval, now=now).addErrback(
            lambda f: log.error("reconciler stopped: %s", f.getErrorMessage()))

    def stop(self) -> None:
        if self._loop.running:
            self._loop.stop()

    def run(self) -> defer.Deferred:
        """One check; never fails (a switch that cannot answer is logged, and nothing is repaired)."""
        d = defer.maybeDeferred(self.channels)

        def compare(rows: list) -> Repairs:
            self.runs += 1
            self.last = reconcile_once(self.acd, rows, self.grace)
            if self.watchers:
                live = {row.uuid for row in rows if row.state not in _DEAD_STATES}
                for watcher in list(self.watchers):
                    try:
                        watcher(live)
                    except Exception:
                        log.exception("reconcile watcher failed")
            return self.last

        def failed(failure) -> None:
            log.warning("reconcile skipped: no channel list (%s)", failure.getErrorMessage())
            return None

        return d.addCallbacks(compare, failed)


def recover(acd: "Acd", last_changes: Iterable[StateChange], channels: Iterable["ChannelRow"]) -> list[int]:
    """Rebuild agent states after a restart from each agent's last logged change and the live channels.

    Agents that were ringing or on a call keep ``on_call`` only if a channel to
    their phone still exists; otherwise they come back available (or as
    logged) -- a ring in progress when the engine died is lost with it.
    Returns the ids of agents restored.
    """
    rows = list(channels)
    restored = []
    for change in last_changes:
        try:
            agent = acd.board.get(change.agent_id)
        except Exception:
            continue
        state, reason, call_uuid = change.state, change.reason, change.call_uuid
        if state in (S.RINGING, S.ON_CALL, S.WRAP_UP):
            row = _agent_channel(rows, agent.extension)
            if row is not None and state is not S.WRAP_UP:
                state, call_uuid = S.ON_CALL, row.uuid
            else:
                state, reason, call_uuid = S.AVAILABLE, None, None
        queues = [q for q in change.queues if q in acd.queues]
        acd.board.restore(agent.id, state, reason, queues, call_uuid)
        if state is S.ON_CALL:
            agent.agent_leg_uuid = call_uuid
        restored.append(agent.id)
        log.info("recover: agent %s -> %s in %s", agent.id, state.value, queues)
    for name in acd.queues:
        acd.route(name)
    return restored


def _agent_channel(rows: list["ChannelRow"], extension: str) -> "ChannelRow | None":
    for row in rows:
        name = row.name or ""
        if f"/{extension}@" in name or name.endswith(f"/{extension}") or (
                row.direction == "outbound" and row.dest == extension):
            return row
    return None
