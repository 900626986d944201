"""Inbound call reports from the CDRs: volume by hour, per-queue service figures, and the daily trend.

Definitions (the same as the live ACD's, ``acd/stats.py``): a call is
*answered* when it has ``answered_at``, *abandoned* when its disposition is
``abandoned``; its wait runs from ``queued_at`` (else ``entered_at``) to the
answer or the abandon. Service level = answered within the queue's target /
(answered + abandoned); ASA = mean wait of answered calls; abandonment rate =
abandoned / (answered + abandoned); AHT = mean talk + after-call work of
answered calls that ended; ACW = mean wrap-up after the call.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from admin.reports import Table
from admin.reports.period import Period
from admin.reports.sql import dialect_of, local_day, local_hour, ratio, rounded, seconds_between
from crm_core.enums import Direction
from crm_core.models import CallDetailRecord as Cdr, Queue

ABANDONED = "abandoned"
DEFAULT_SL_SECONDS = 20


def _inbound(period: Period) -> list[Any]:
    return [Cdr.direction == Direction.INBOUND.value, Cdr.entered_at >= period.start, Cdr.entered_at < period.end]


def _sums(dialect: str) -> list[Any]:
    """SUM/COUNT columns every service figure is computed from (ratios are taken from these totals)."""
    waited_from = func.coalesce(Cdr.queued_at, Cdr.entered_at)
    wait = seconds_between(dialect, waited_from, Cdr.answered_at)
    abandon_wait = seconds_between(dialect, waited_from, Cdr.ended_at)
    talk = seconds_between(dialect, Cdr.answered_at, Cdr.ended_at)
    acw = seconds_between(dialect, Cdr.ended_at, Cdr.wrapup_ended_at)
    target = func.coalesce(Queue.sl_target_seconds, DEFAULT_SL_SECONDS)
    answered = Cdr.answered_at.is_not(None)
    abandoned = Cdr.disposition == ABANDONED
    handled = and_(answered, Cdr.ended_at.is_not(None))
    return [
        func.count().label("offered"),
        func.sum(case((answered, 1), else_=0)).label("answered"),
        func.sum(case((and_(answered, wait <= target), 1), else_=0)).label("in_sl"),
        func.sum(case((abandoned, 1), else_=0)).label("abandoned"),
        func.sum(case((answered, wait), else_=None)).label("wait_sum"),
        func.sum(case((abandoned, abandon_wait), else_=None)).label("abandon_wait_sum"),
        func.sum(case((handled, 1), else_=0)).label("handled"),
        func.sum(case((handled, talk + func.coalesce(acw, 0)), else_=None)).label("handle_sum"),
        func.sum(case((and_(handled, Cdr.wrapup_ended_at.is_not(None)), 1), else_=0)).label("acw_count"),
        func.sum(case((handled, acw), else_=None)).label("acw_sum"),
    ]


def _figures(row: Any) -> dict[str, Any]:
    closed = (row.answered or 0) + (row.abandoned or 0)
    sl = ratio(row.in_sl, closed)
    abandon = ratio(row.abandoned, closed)
    return {
        "offered": row.offered or 0, "answered": row.answered or 0, "abandoned": row.abandoned or 0,
        "service_level": rounded(sl * 100 if sl is not None else None),
        "abandon_rate": rounded(abandon * 100 if abandon is not None else None),
        "avg_abandon_wait": rounded(ratio(row.abandon_wait_sum, row.abandoned)),
        "asa": rounded(ratio(row.wait_sum, row.answered)),
        "aht": rounded(ratio(row.handle_sum, row.handled)),
        "acw": rounded(ratio(row.acw_sum, row.acw_count)),
    }


SUMMARY_COLUMNS = ["queue", "sl_target_seconds", "offered", "answered", "abandoned", "service_level",
                   "abandon_rate", "avg_abandon_wait", "asa", "aht", "acw"]


def queue_summary(session: Session, period: Period) -> Table:
    """Per queue (and all queues): offered, answered, abandoned, SL %, abandon %, time to abandon, ASA, AHT, ACW."""
    dialect = dialect_of(session)
    sums = _sums(dialect)
    base = select(*sums).select_from(Cdr).outerjoin(Queue, Queue.id == Cdr.queue_id).where(
        *_inbound(period), Cdr.queued_at.is_not(None))
    per_queue = session.execute(
        base.add_columns(func.coalesce(Queue.name, literal("-")).label("queue"),
                         func.max(Queue.sl_target_seconds).label("target"))
        .group_by(Queue.name).order_by(Queue.name)).all()
    table = Table("queue_summary", SUMMARY_COLUMNS)
    for row in per_queue:
        figures = _figures(row)
        table.rows.append([row.queue, row.target, *(figures[c] for c in SUMMARY_COLUMNS[2:])])
    if len(per_queue) != 1:
        total = session.execute(base).one()
        figures = _figures(total)
        table.rows.append(["*", None, *(figures[c] for c in SUMMARY_COLUMNS[2:])])
    return table


def volume_by_hour(session: Session, period: Period) -> Table:
    """Inbound calls by local hour of day (0-23): offered, answered, abandoned."""
    dialect = dialect_of(session)
    hour = local_hour(dialect, Cdr.entered_at, period.utc_offset_minutes).label("hour")
    rows = session.execute(
        select(hour, func.count(), func.sum(case((Cdr.answered_at.is_not(None), 1), else_=0)),
               func.sum(case((Cdr.disposition == ABANDONED, 1), else_=0)))
        .where(*_inbound(period)).group_by(hour)).all()
    by_hour = {int(h): (n, a or 0, b or 0) for h, n, a, b in rows}
    table = Table("volume_by_hour", ["hour", "offered", "answered", "abandoned"])
    for h in range(24):
        n, a, b = by_hour.get(h, (0, 0, 0))
        table.rows.append([f"{h:02d}", n, a, b])
    return table


def daily_service(session: Session, period: Period) -> Table:
    """Per local day: offered, answered, abandoned, service level %, ASA (queued inbound calls)."""
    dialect = dialect_of(session)
    day = local_day(dialect, Cdr.entered_at, period.utc_offset_minutes).label("day")
    rows = session.execute(
        select(day, *_sums(dialect)).select_from(Cdr).outerjoin(Queue, Queue.id == Cdr.queue_id)
        .where(*_inbound(period), Cdr.queued_at.is_not(None)).group_by(day)).all()
    by_day = {str(row.day): _figures(row) for row in rows}
    table = Table("daily_service", ["day", "offered", "answered", "abandoned", "service_level", "asa"])
    for d in period.day_list():
        f = by_day.get(d.isoformat())
        table.rows.append([d.isoformat(), *((f[c] for c in table.columns[1:]) if f else (0, 0, 0, None, None))])
    return table
