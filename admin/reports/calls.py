"""Inbound call reports from the CDRs: volume by hour, per-queue service figures, and the daily trend.

Definitions (the same as the live ACD's, ``acd/stats.py``): a call is
*answered* when it has ``answered_at``, *abandoned* when its disposition is
``abandoned``; its wait runs from ``queued_at`` (else ``entered_at``) to the
answer or the abandon. Service level = answered within the queue's target /
(answered + abandoned); ASA = mean wait of answered calls; abandonment rate =
abandoned / (answered + abandoned); AHT = mean talk + after-call work of
answered calls that ended; ACW = mean wrap-up after the call.

All three reports come from one pass over the period's inbound CDRs
(:func:`service_facts`): counts and millisecond sums (``FILTER`` aggregates,
integer milliseconds, so sums are exact and add up across groups) grouped by
local hour number, queue and whether the call was queued: at most
``24 × days × (queues + 1) × 2`` small rows, which Python folds into hours,
days, queues and the all-queues total. The reports page computes it once for
the three reports (:func:`admin.reports.shared_results`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, literal_column, select
from sqlalchemy.orm import Session

from admin.reports import Table, shared
from admin.reports.period import Period
from admin.reports.sql import dialect_of, hour_number_day, local_day, local_hour_number, ms_between, ratio, rounded
from crm_core.enums import Direction, IvrOutcome
from crm_core.models import CallDetailRecord as Cdr, Queue

ABANDONED = "abandoned"
DEFAULT_SL_SECONDS = 20


def _inbound(period: Period) -> list[Any]:
    return [Cdr.direction == Direction.INBOUND.value, Cdr.entered_at >= period.start, Cdr.entered_at < period.end]


#: The additive figures every service figure is computed from (ratios are taken from these totals).
SUMS = ("offered", "answered", "in_sl", "abandoned", "wait_ms", "abandon_wait_ms", "handled", "handle_ms",
        "acw_count", "acw_ms")


Fact = tuple[int, "int | None", bool, tuple[int, ...]]


def service_facts(session: Session, period: Period) -> list[Fact]:
    """(local hour number, queue id, queued?, (SUMS in order)) for the period's inbound calls: one scan of the CDRs.

    The inner query turns each call into its bucket and its four durations in whole milliseconds
    (each computed once); ``OFFSET 0`` keeps it a separate step, so PostgreSQL neither copies those
    expressions into every aggregate nor takes the hour bucket (an expression over a unique timestamp)
    for a unique key and sorts 80,000 rows to group them: it hashes a few thousand groups instead.
    """

    def compute() -> list[Fact]:
        dialect = dialect_of(session)
        waited_from = func.coalesce(Cdr.queued_at, Cdr.entered_at)
        calls = (select(
            local_hour_number(dialect, Cdr.entered_at, period.utc_offset_minutes).label("hour"),
            Cdr.queue_id.label("queue_id"), Cdr.queued_at.is_not(None).label("queued"),
            Cdr.answered_at.is_not(None).label("answered"), (Cdr.disposition == ABANDONED).label("abandoned"),
            and_(Cdr.answered_at.is_not(None), Cdr.ended_at.is_not(None)).label("handled"),
            Cdr.wrapup_ended_at.is_not(None).label("wrapped"),
            ms_between(dialect, waited_from, Cdr.answered_at).label("wait"),
            ms_between(dialect, waited_from, Cdr.ended_at).label("abandon_wait"),
            ms_between(dialect, Cdr.answered_at, Cdr.ended_at).label("talk"),
            ms_between(dialect, Cdr.ended_at, Cdr.wrapup_ended_at).label("acw"),
            (func.coalesce(Queue.sl_target_seconds, literal_column(str(DEFAULT_SL_SECONDS))) * literal_column("1000"))
            .label("target_ms"))
            .select_from(Cdr).outerjoin(Queue, Queue.id == Cdr.queue_id).where(*_inbound(period))
            .offset(0).subquery("calls"))
        c = calls.c
        answered, abandoned, handled = c.answered.is_(True), c.abandoned.is_(True), c.handled.is_(True)
        rows = session.execute(
            select(c.hour, c.queue_id, c.queued,
                   func.count().label("offered"),
                   func.count().filter(answered).label("answered"),
                   func.count().filter(and_(answered, c.wait <= c.target_ms)).label("in_sl"),
                   func.count().filter(abandoned).label("abandoned"),
                   func.sum(c.wait).filter(answered).label("wait_ms"),
                   func.sum(c.abandon_wait).filter(abandoned).label("abandon_wait_ms"),
                   func.count().filter(handled).label("handled"),
                   func.sum(c.talk + func.coalesce(c.acw, 0)).filter(handled).label("handle_ms"),
                   func.count().filter(and_(handled, c.wrapped.is_(True))).label("acw_count"),
                   func.sum(c.acw).filter(handled).label("acw_ms"))
            .group_by(c.hour, c.queue_id, c.queued)).all()
        return [(int(hour), queue_id, bool(queued), tuple(int(v or 0) for v in sums))
                for hour, queue_id, queued, *sums in rows]

    return shared(session, ("service_facts", period), compute)


def _total(sums: list[tuple[int, ...]]) -> dict[str, int]:
    """The SUMS of several groups added up (exact: counts and whole milliseconds)."""
    return dict(zip(SUMS, (sum(column) for column in zip(*sums)))) if sums else dict.fromkeys(SUMS, 0)


def _figures(sums: dict[str, int]) -> dict[str, Any]:
    closed = sums["answered"] + sums["abandoned"]
    sl = ratio(sums["in_sl"], closed)
    abandon = ratio(sums["abandoned"], closed)
    return {
        "offered": sums["offered"], "answered": sums["answered"], "abandoned": sums["abandoned"],
        "service_level": rounded(sl * 100 if sl is not None else None),
        "abandon_rate": rounded(abandon * 100 if abandon is not None else None),
        "avg_abandon_wait": rounded(ratio(sums["abandon_wait_ms"] / 1000, sums["abandoned"])),
        "asa": rounded(ratio(sums["wait_ms"] / 1000, sums["answered"])),
        "aht": rounded(ratio(sums["handle_ms"] / 1000, sums["handled"])),
        "acw": rounded(ratio(sums["acw_ms"] / 1000, sums["acw_count"])),
    }


SUMMARY_COLUMNS = ["queue", "sl_target_seconds", "offered", "answered", "abandoned", "service_level",
                   "abandon_rate", "avg_abandon_wait", "asa", "aht", "acw"]


def queue_summary(session: Session, period: Period) -> Table:
    """Per queue (and all queues): offered, answered, abandoned, SL %, abandon %, time to abandon, ASA, AHT, ACW."""
    queued = [(queue_id, sums) for _, queue_id, was_queued, sums in service_facts(session, period) if was_queued]
    by_id: dict[int | None, list[tuple[int, ...]]] = {}
    for queue_id, sums in queued:
        by_id.setdefault(queue_id, []).append(sums)
    # names, targets and order from the database (its collation, as ORDER BY name gave)
    ids = [i for i in by_id if i is not None]
    queues = session.execute(select(Queue.id, Queue.name, Queue.sl_target_seconds).where(Queue.id.in_(ids))
                             .order_by(Queue.name)).all() if ids else []
    groups: dict[str | None, tuple[list[int], list[tuple[int, ...]]]] = {}
    for queue_id, name, target in queues:
        targets, sums = groups.setdefault(name, ([], []))
        targets.extend([target] if target is not None else [])
        sums.extend(by_id.pop(queue_id))
    if by_id:  # calls of no queue (or of one since deleted): the "-" row, where ORDER BY name puts NULL
        unnamed: tuple[list[int], list[tuple[int, ...]]] = ([], [s for sums in by_id.values() for s in sums])
        groups = {**groups, None: unnamed} if dialect_of(session) == "postgresql" else {None: unnamed, **groups}
    table = Table("queue_summary", SUMMARY_COLUMNS)
    for name, (targets, sums) in groups.items():
        figures = _figures(_total(sums))
        table.rows.append([name if name is not None else "-", max(targets) if targets else None,
                           *(figures[c] for c in SUMMARY_COLUMNS[2:])])
    if len(groups) != 1:
        figures = _figures(_total([sums for _, sums in queued]))
        table.rows.append(["*", None, *(figures[c] for c in SUMMARY_COLUMNS[2:])])
    return table


def volume_by_hour(session: Session, period: Period) -> Table:
    """Inbound calls by local hour of day (0-23): offered, answered, abandoned."""
    by_hour: dict[int, list[tuple[int, ...]]] = {}
    for hour, _, _, sums in service_facts(session, period):
        by_hour.setdefault(hour % 24, []).append(sums)
    table = Table("volume_by_hour", ["hour", "offered", "answered", "abandoned"])
    for h in range(24):
        total = _total(by_hour.get(h, []))
        table.rows.append([f"{h:02d}", total["offered"], total["answered"], total["abandoned"]])
    return table


def daily_service(session: Session, period: Period) -> Table:
    """Per local day: offered, answered, abandoned, service level %, ASA (queued inbound calls)."""
    by_day: dict[int, list[tuple[int, ...]]] = {}
    for hour, _, queued, sums in service_facts(session, period):
        if queued:
            by_day.setdefault(hour // 24, []).append(sums)
    days = {hour_number_day(day * 24).isoformat(): sums for day, sums in by_day.items()}
    table = Table("daily_service", ["day", "offered", "answered", "abandoned", "service_level", "asa"])
    for d in period.day_list():
        sums = days.get(d.isoformat())
        f = _figures(_total(sums)) if sums else None
        table.rows.append([d.isoformat(), *((f[c] for c in table.columns[1:]) if f else (0, 0, 0, None, None))])
    return table


ABANDON_COLUMNS = ["day", "reached_ivr", "ivr_abandoned", "ivr_abandon_rate", "queued", "queue_abandoned",
                   "queue_abandon_rate"]


def abandons(session: Session, period: Period) -> Table:
    """Per local day and in all: callers who gave up in the IVR (hung up unserved) and in a queue (before an
    agent answered), each against the calls that got that far."""
    dialect = dialect_of(session)
    day = local_day(dialect, Cdr.entered_at, period.utc_offset_minutes).label("day")
    in_ivr = Cdr.ivr_outcome.is_not(None)
    queued = and_(Cdr.queued_at.is_not(None), Cdr.leg.is_(None))
    rows = session.execute(
        select(day, func.count().filter(in_ivr), func.count().filter(Cdr.ivr_outcome == IvrOutcome.ABANDONED.value),
               func.count().filter(queued),
               func.count().filter(and_(queued, Cdr.answered_at.is_(None), Cdr.disposition == ABANDONED)))
        .where(*_inbound(period)).group_by(day)).all()
    by_day = {str(d): tuple(int(v or 0) for v in counts) for d, *counts in rows}
    table = Table("abandons", ABANDON_COLUMNS)
    totals = [0, 0, 0, 0]
    for d in period.day_list():
        counts = by_day.get(d.isoformat(), (0, 0, 0, 0))
        totals = [a + b for a, b in zip(totals, counts)]
        table.rows.append(_abandon_row(d.isoformat(), counts))
    table.rows.append(_abandon_row("*", tuple(totals)))
    return table


def _abandon_row(label: str, counts: tuple[int, ...]) -> list[Any]:
    ivr, ivr_gone, queued, queue_gone = counts
    ivr_rate, queue_rate = ratio(ivr_gone, ivr), ratio(queue_gone, queued)
    return [label, ivr, ivr_gone, rounded(ivr_rate * 100 if ivr_rate is not None else None),
            queued, queue_gone, rounded(queue_rate * 100 if queue_rate is not None else None)]
