"""The wallboard's figures: pushed live from the ACD every few seconds, or derived from the database.

:class:`WallboardFeed` runs on the reactor: a ``LoopingCall`` (on the injected
clock) takes the ACD's queue snapshots and publishes them on the SSE topic
``wallboard``; agent-state and queue changes publish sooner (at most one
extra push per ``min_gap`` seconds). :func:`db_wallboard` is what the page
shows when the admin runs without the engine: today's figures from the CDRs
and the agent state log, marked as not live.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from admin.reports.calls import queue_summary
from admin.reports.period import UTC, Period, local_today
from admin.reports.sql import at
from crm_core.enums import AgentState
from crm_core.models import AgentQueue, AgentStateChange, CallDetailRecord as Cdr, Queue

log = logging.getLogger(__name__)

TOPIC = "wallboard"
EVENT = "snapshot"
#: Calls still "waiting" in the CDRs longer than this are stale (the engine died under them), not waiting.
STALE_WAIT = dt.timedelta(hours=12)


DEFAULT_TIMEZONE = "Asia/Shanghai"


def stamp(moment: dt.datetime, timezone: str | None) -> dict[str, str]:
    """``at`` (ISO 8601 with the center's offset) and ``clock`` (its wall clock, what the board shows)."""
    local = moment.astimezone(ZoneInfo(timezone or DEFAULT_TIMEZONE))
    return {"at": local.isoformat(timespec="seconds"), "clock": local.strftime("%Y-%m-%d %H:%M:%S")}


def acd_wallboard(acd: Any, now: float | None = None, timezone: str | None = None) -> dict[str, Any]:
    """The live wallboard document from the ACD's snapshots (call on the reactor thread); times in the center's
    time zone."""
    queues = []
    for snap in acd.snapshots():
        queues.append({
            "queue": snap.queue, "waiting": snap.waiting, "longest_wait": round(snap.longest_wait, 1),
            "agents": dict(snap.agents), "offered": snap.offered, "answered": snap.answered,
            "abandoned": snap.abandoned,
            "service_level": None if snap.service_level is None else round(snap.service_level * 100, 1),
            "sl_target_percent": snap.sl_target_percent, "sl_target_seconds": snap.sl_target_seconds,
            "asa": None if snap.asa is None else round(snap.asa, 1),
        })
    moment = dt.datetime.fromtimestamp(now if now is not None else acd.clock.seconds(), UTC)
    return {"live": True, **stamp(moment, timezone), "queues": queues, "agents": _total_agents(queues)}


def _total_agents(queues: list[dict[str, Any]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for q in queues:
        for state, n in q["agents"].items():
            total[state] = max(total.get(state, 0), n)  # an agent in several queues is counted once per state
    return total


def latest_states(session: Session, since: dt.datetime) -> dict[int, str]:
    """agent id -> the state of the agent's latest change since ``since`` (one GROUP BY, no row loading)."""
    last = (select(AgentStateChange.agent_id, func.max(AgentStateChange.id).label("last_id"))
            .where(AgentStateChange.at >= since).group_by(AgentStateChange.agent_id).subquery())
    rows = session.execute(select(AgentStateChange.agent_id, AgentStateChange.state)
                           .join(last, last.c.last_id == AgentStateChange.id)).all()
    return dict(rows)


def db_wallboard(session: Session, utc_offset_minutes: int, now: dt.datetime | None = None,
                 timezone: str | None = None) -> dict[str, Any]:
    """Today's wallboard from the database (no engine): waiting calls, agents by state, service level today."""
    now = now or dt.datetime.now(UTC)
    today = local_today(utc_offset_minutes, now)
    period = Period(today, today, utc_offset_minutes)
    summary = {row[0]: dict(zip(("queue", "target", "offered", "answered", "abandoned", "service_level"), row))
               for row in queue_summary(session, period).rows}
    waiting = {name: (n, oldest) for name, n, oldest in session.execute(
        select(Queue.name, func.count(), func.min(Cdr.queued_at)).join(Queue, Queue.id == Cdr.queue_id)
        .where(Cdr.queued_at.is_not(None), Cdr.answered_at.is_(None), Cdr.ended_at.is_(None),
               Cdr.queued_at >= at(now - STALE_WAIT))
        .group_by(Queue.name)).all()}
    states = latest_states(session, now - dt.timedelta(days=1))
    members = session.execute(select(Queue.name, AgentQueue.agent_id).join(Queue, Queue.id == AgentQueue.queue_id)
                              .where(and_(AgentQueue.logged_in.is_(True), Queue.active.is_(True)))).all()
    by_queue: dict[str, dict[str, int]] = {}
    for name, agent_id in members:
        state = states.get(agent_id)
        if state and state != AgentState.LOGGED_OUT.value:
            by_queue.setdefault(name, {})[state] = by_queue.setdefault(name, {}).get(state, 0) + 1
    queues = []
    for name, target_s, target_p in session.execute(
            select(Queue.name, Queue.sl_target_seconds, Queue.sl_target_percent)
            .where(Queue.active.is_(True)).order_by(Queue.name)).all():
        s = summary.get(name, {})
        count, oldest = waiting.get(name, (0, None))
        longest = 0.0 if oldest is None else max(0.0, (now - _aware(oldest)).total_seconds())
        queues.append({"queue": name, "waiting": count, "longest_wait": round(longest, 1),
                       "agents": by_queue.get(name, {}), "offered": s.get("offered", 0),
                       "answered": s.get("answered", 0), "abandoned": s.get("abandoned", 0),
                       "service_level": s.get("service_level"), "sl_target_percent": float(target_p),
                       "sl_target_seconds": target_s, "asa": None})
    agents: dict[str, int] = {}
    for state in states.values():
        if state != AgentState.LOGGED_OUT.value:
            agents[state] = agents.get(state, 0) + 1
    return {"live": False, **stamp(now, timezone), "queues": queues, "agents": agents}


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class WallboardFeed:
    """Publishes the ACD's wallboard on the ``wallboard`` topic every ``interval`` s and soon after ACD events."""

    def __init__(self, acd: Any, hub: Any, clock: Any, interval: float = 2.0, min_gap: float = 0.5,
                 timezone: str | None = None) -> None:
        self.acd = acd
        self.timezone = timezone
        self.hub = hub
        self.clock = clock
        self.interval = interval
        self.min_gap = min_gap
        self.published = 0
        self._loop: Any = None
        self._soon: Any = None
        self._last = float("-inf")
        self._unsubscribe: list[Any] = []

    def start(self) -> None:
        from twisted.internet.task import LoopingCall

        from acd import events

        self._loop = LoopingCall(self.publish)
        self._loop.clock = self.clock
        self._loop.start(self.interval, now=True).addErrback(
            lambda f: log.error("wallboard feed stopped: %s", f.getErrorMessage()))
        for topic in (events.AGENT_STATE, events.QUEUE_CHANGED):
            self._unsubscribe.append(self.acd.bus.subscribe(topic, lambda _t, _p: self.nudge()))

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self._soon is not None and self._soon.active():
            self._soon.cancel()

    def nudge(self) -> None:
        """An ACD event: publish now, or once ``min_gap`` after the last push."""
        if self._soon is not None and self._soon.active():
            return
        wait = self._last + self.min_gap - self.clock.seconds()
        self._soon = self.clock.callLater(max(0.0, wait), self.publish)

    def publish(self) -> None:
        try:
            document = acd_wallboard(self.acd, timezone=self.timezone)
        except Exception:
            log.exception("wallboard snapshot failed")
            return
        self._last = self.clock.seconds()
        self.published += 1
        self.hub.publish(TOPIC, EVENT, document)
