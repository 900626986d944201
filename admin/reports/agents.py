"""Agent reports: time in each state and occupancy from the state log, calls and talk time from the CDRs.

The state log holds one row per change; a state lasts until the agent's
next change (``LEAD`` over the agent's rows), clipped to the period and to
now. The state in force when the period starts comes from the last change
in the ``LOOKBACK`` before it (an agent who has not changed state for longer
than that is counted from the first change inside the period).
Occupancy = (ringing + on call + wrap-up) / (available + ringing + on call + wrap-up),
the share of ready time spent handling calls; utilisation = the same handling
time / staffed time (every logged-in second, not ready and breaks included).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.reports import Table
from admin.reports.period import UTC, Period
from admin.reports.sql import dialect_of, epoch, greatest, least, ratio, raw_seconds_between, rounded
from crm_core.enums import AgentState, Direction
from crm_core.models import Agent, AgentStateChange as Change, CallDetailRecord as Cdr

LOOKBACK = dt.timedelta(days=1)
BUSY = (AgentState.RINGING.value, AgentState.ON_CALL.value, AgentState.WRAP_UP.value)
PAUSED = (AgentState.NOT_READY.value, AgentState.BREAK.value)

COLUMNS = ["agent", "name", "staffed_seconds", "available_seconds", "talk_seconds", "wrap_up_seconds",
           "not_ready_seconds", "occupancy", "utilisation", "inbound_calls", "inbound_talk_seconds", "outbound_calls",
           "outbound_talk_seconds", "avg_talk_seconds"]


def state_seconds(session: Session, period: Period, now: dt.datetime | None = None) -> dict[int, dict[str, float]]:
    """agent id -> state -> seconds spent in it during the period (SUM over clipped LEAD intervals in SQL).

    Times are turned into epoch seconds once per row, so clipping and summing are float
    arithmetic: the cheapest form on both backends.
    """
    dialect = dialect_of(session)
    since, until = period.start.timestamp(), min(period.end, now or dt.datetime.now(UTC)).timestamp()
    window = {"partition_by": Change.agent_id, "order_by": (Change.at, Change.id)}
    period_rows = (Change.at < period.end, Change.at >= period.start - LOOKBACK)
    if dialect == "postgresql":
        # LEAD over the bare timestamps (an index-only scan in window order, ix_..._agent_id_at_id_state),
        # epoch seconds taken after the window, once per row (OFFSET 0: not again in the filter and SUM)
        changes = (select(Change.agent_id, Change.state, Change.at.label("began_at"),
                          func.lead(Change.at).over(**window).label("ended_at")).where(*period_rows).subquery())
        spans = select(changes.c.agent_id, changes.c.state, epoch(dialect, changes.c.began_at).label("began"),
                       epoch(dialect, changes.c.ended_at).label("ended")).offset(0).subquery()
    else:
        # SQLite parses the text timestamps: converting inside the window query is the cheaper form there
        began = epoch(dialect, Change.at)
        spans = (select(Change.agent_id, Change.state, began.label("began"),
                        func.lead(began).over(**window).label("ended")).where(*period_rows).subquery())
    ended = func.coalesce(spans.c.ended, until)
    seconds = least(dialect, ended, until) - greatest(dialect, spans.c.began, since)
    rows = session.execute(
        select(spans.c.agent_id, spans.c.state, func.sum(seconds))
        .where(ended > since, spans.c.began < until)
        .group_by(spans.c.agent_id, spans.c.state)).all()
    out: dict[int, dict[str, float]] = {}
    for agent_id, state, total in rows:
        if total is not None and total > 0:
            out.setdefault(agent_id, {})[state] = round(float(total), 3)
    return out


def call_totals(session: Session, period: Period) -> dict[int, dict[str, float]]:
    """agent id -> answered inbound/outbound call counts and talk seconds in the period."""
    dialect = dialect_of(session)
    talk = raw_seconds_between(dialect, Cdr.answered_at, Cdr.ended_at)
    rows = session.execute(
        select(Cdr.agent_id, Cdr.direction, func.count(), func.sum(talk))
        .where(Cdr.agent_id.is_not(None), Cdr.answered_at.is_not(None), Cdr.entered_at >= period.start,
               Cdr.entered_at < period.end)
        .group_by(Cdr.agent_id, Cdr.direction)).all()
    out: dict[int, dict[str, float]] = {}
    for agent_id, direction, count, seconds in rows:
        key = "inbound" if direction == Direction.INBOUND.value else "outbound"
        figures = out.setdefault(agent_id, {})
        figures[f"{key}_calls"] = figures.get(f"{key}_calls", 0) + count
        figures[f"{key}_talk"] = figures.get(f"{key}_talk", 0.0) + float(seconds or 0)
    return out


def agent_report(session: Session, period: Period, now: dt.datetime | None = None) -> Table:
    """Per agent: staffed / available / talk / wrap-up / not-ready seconds, occupancy and utilisation %, calls and
    talk time."""
    states = state_seconds(session, period, now)
    calls = call_totals(session, period)
    ids = sorted(set(states) | set(calls))
    known = session.execute(select(Agent.id, Agent.login, Agent.name).where(Agent.id.in_(ids))).all() if ids else []
    names = {i: login for i, login, _ in known}
    full = {i: name for i, _, name in known}
    table = Table("agents", COLUMNS)
    for agent_id in sorted(ids, key=lambda i: names.get(i, "")):
        s, c = states.get(agent_id, {}), calls.get(agent_id, {})
        busy = sum(s.get(k, 0.0) for k in BUSY)
        ready = busy + s.get(AgentState.AVAILABLE.value, 0.0)
        staffed = sum(v for k, v in s.items() if k != AgentState.LOGGED_OUT.value)
        occupancy = ratio(busy, ready)
        utilisation = ratio(busy, staffed)
        answered = c.get("inbound_calls", 0) + c.get("outbound_calls", 0)
        table.rows.append([
            names.get(agent_id, str(agent_id)), full.get(agent_id, ""), rounded(staffed, 0),
            rounded(s.get(AgentState.AVAILABLE.value, 0.0), 0), rounded(s.get(AgentState.ON_CALL.value, 0.0), 0),
            rounded(s.get(AgentState.WRAP_UP.value, 0.0), 0), rounded(sum(s.get(k, 0.0) for k in PAUSED), 0),
            rounded(occupancy * 100 if occupancy is not None else None),
            rounded(utilisation * 100 if utilisation is not None else None),
            c.get("inbound_calls", 0), rounded(c.get("inbound_talk", 0.0), 0),
            c.get("outbound_calls", 0), rounded(c.get("outbound_talk", 0.0), 0),
            rounded(ratio(c.get("inbound_talk", 0.0) + c.get("outbound_talk", 0.0), answered)),
        ])
    return table


__all__ = ["agent_report", "call_totals", "state_seconds"]
