"""Self-service reports from the call records: how many calls the IVR contained, and where callers left it.

Every inbound call that reached the IVR has ``call_detail_records.ivr_outcome``
(written by the engine's call recorder): ``contained`` (served and ended in
the IVR), ``to_agent``, ``abandoned`` (the caller hung up unserved) or
``hung_up`` (the IVR ended it unserved), and the menu node it left from
(``ivr_exit_node``). Containment = contained / calls that reached the IVR.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.reports import Table
from admin.reports.period import Period
from admin.reports.sql import dialect_of, local_day, ratio, rounded
from crm_core.enums import Direction, IvrOutcome
from crm_core.models import CallDetailRecord as Cdr

TOP = 15
OUTCOMES = tuple(o.value for o in IvrOutcome)


def _reached_ivr(period: Period) -> list:
    return [Cdr.direction == Direction.INBOUND.value, Cdr.entered_at >= period.start, Cdr.entered_at < period.end,
            Cdr.ivr_outcome.is_not(None)]


def _row(label: str, counts: dict[str, int]) -> list:
    calls = sum(counts.values())
    share = ratio(counts.get(IvrOutcome.CONTAINED.value, 0), calls)
    return [label, calls, *(counts.get(o, 0) for o in OUTCOMES), rounded(share * 100 if share is not None else None)]


def ivr_containment(session: Session, period: Period) -> Table:
    """Per local day and in all: calls that reached the IVR by how self-service ended, and the containment %."""
    day = local_day(dialect_of(session), Cdr.entered_at, period.utc_offset_minutes).label("day")
    rows = session.execute(select(day, Cdr.ivr_outcome, func.count()).where(*_reached_ivr(period))
                           .group_by(day, Cdr.ivr_outcome)).all()
    by_day: dict[str, dict[str, int]] = {}
    for d, outcome, n in rows:
        by_day.setdefault(str(d), {})[outcome] = n
    table = Table("ivr_containment", ["day", "calls", *OUTCOMES, "containment"])
    total: dict[str, int] = {}
    for d in period.day_list():
        counts = by_day.get(d.isoformat(), {})
        table.rows.append(_row(d.isoformat(), counts))
        for outcome, n in counts.items():
            total[outcome] = total.get(outcome, 0) + n
    table.rows.append(_row("*", total))
    return table


def ivr_exit_nodes(session: Session, period: Period, top: int = TOP) -> Table:
    """The menu nodes callers left the IVR from, busiest first, by how they left."""
    rows = session.execute(select(Cdr.ivr_exit_node, Cdr.ivr_outcome, func.count()).where(*_reached_ivr(period))
                           .group_by(Cdr.ivr_exit_node, Cdr.ivr_outcome)).all()
    by_node: dict[str, dict[str, int]] = {}
    for node, outcome, n in rows:
        by_node.setdefault(node or "-", {})[outcome] = n
    ranked = sorted(by_node.items(), key=lambda item: (-sum(item[1].values()), item[0]))[:top]
    table = Table("ivr_exit_nodes", ["node", "calls", *OUTCOMES])
    for node, counts in ranked:
        table.rows.append([node, sum(counts.values()), *(counts.get(o, 0) for o in OUTCOMES)])
    return table


__all__ = ["ivr_containment", "ivr_exit_nodes"]
