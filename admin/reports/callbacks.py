"""Callbacks kept and met: of the callback requests made in the period, how many were called back (kept) and how
many in time (met).

A request is *kept* when it reached ``done`` (an agent or the virtual-hold
dialler reached the customer); it is *met* when that happened before its
deadline: the end of the window the caller chose, or -- without a window
(virtual hold, "as soon as possible") -- within ``PROMISE`` of the request.
The moment a request was done is its last change (``updated_at``: nothing
changes a request once it is done). Days are the center's local days of the
request; every figure is counted in SQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from admin.reports import Table
from admin.reports.period import Period
from admin.reports.sql import dialect_of, epoch, local_day, ratio, rounded
from crm_core.enums import CallbackStatus
from crm_core.models import CallbackRequest as Cb

#: How soon a request without a window is promised a call.
PROMISE = dt.timedelta(hours=2)
COLUMNS = ["day", "requested", "kept", "met", "failed", "open", "kept_rate", "met_rate"]
OPEN = (CallbackStatus.PENDING.value, CallbackStatus.SCHEDULED.value, CallbackStatus.IN_PROGRESS.value)
CLOSED_UNKEPT = (CallbackStatus.FAILED.value, CallbackStatus.CANCELLED.value)


def callbacks_kept(session: Session, period: Period) -> Table:
    """Per local day of the request, and in all: requested, kept, met, failed, still open, kept % and met %."""
    dialect = dialect_of(session)
    day = local_day(dialect, Cb.created_at, period.utc_offset_minutes).label("day")
    done = Cb.status == CallbackStatus.DONE.value
    deadline = func.coalesce(epoch(dialect, Cb.window_end), epoch(dialect, Cb.created_at) + PROMISE.total_seconds())
    rows = session.execute(
        select(day, func.count(), func.count().filter(done),
               func.count().filter(and_(done, epoch(dialect, Cb.updated_at) <= deadline)),
               func.count().filter(Cb.status.in_(CLOSED_UNKEPT)), func.count().filter(Cb.status.in_(OPEN)))
        .where(Cb.created_at >= period.start, Cb.created_at < period.end).group_by(day)).all()
    counts = {str(d): [int(v or 0) for v in c] for d, *c in rows}
    table = Table("callbacks", COLUMNS)
    total = [0, 0, 0, 0, 0]
    for d in period.day_list():
        c = counts.get(d.isoformat(), [0, 0, 0, 0, 0])
        total = [a + b for a, b in zip(total, c)]
        table.rows.append(_row(d.isoformat(), c))
    table.rows.append(_row("*", total))
    return table


def _row(label: str, c: list[int]) -> list[Any]:
    requested, kept, met = c[0], c[1], c[2]
    kept_rate, met_rate = ratio(kept, requested), ratio(met, requested)
    return [label, *c, rounded(kept_rate * 100 if kept_rate is not None else None),
            rounded(met_rate * 100 if met_rate is not None else None)]


__all__ = ["callbacks_kept"]
