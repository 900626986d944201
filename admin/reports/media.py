"""Calls, orders and revenue by media plan and by each of its air times: what every ad (and every airing) brought.

A call belongs to the media plan its call record names (``media_plan_id``:
the plan advertising the number it dialled); an order to the plan of the
call it was placed in, else to the plan advertising its ``media_source``
number. Both belong to the plan's air time that started last before them
(the airing that made the phone ring), or to none (``-``) before the first.
Air times are shown in the center's time zone.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.reports import Table
from admin.reports.period import UTC, Period
from crm_core.enums import Direction, OrderStatus
from crm_core.models import CallDetailRecord as Cdr
from crm_core.models import MediaAirTime, MediaPlan, Order

COLUMNS = ["media_plan", "kind", "air_time", "calls", "orders", "revenue"]
Key = tuple["int | None", "dt.datetime | None"]


def _airing(plan: Any, moment: Any) -> Any:
    """The start of ``plan``'s air time that began last at or before ``moment`` (a correlated sub-select)."""
    return (select(func.max(MediaAirTime.starts_at))
            .where(MediaAirTime.plan_id == plan, MediaAirTime.starts_at <= moment).scalar_subquery())


def _plan_of_number(number: Any) -> Any:
    """The active media plan advertising ``number`` (the newest if several)."""
    return (select(MediaPlan.id).where(MediaPlan.dnis == number, MediaPlan.active.is_(True))
            .order_by(MediaPlan.id.desc()).limit(1).scalar_subquery())


def _calls(session: Session, period: Period) -> dict[Key, int]:
    calls = (select(Cdr.media_plan_id.label("plan"), _airing(Cdr.media_plan_id, Cdr.entered_at).label("air"))
             .where(Cdr.direction == Direction.INBOUND.value, Cdr.entered_at >= period.start,
                    Cdr.entered_at < period.end, Cdr.leg.is_(None))
             .subquery())
    rows = session.execute(select(calls.c.plan, calls.c.air, func.count()).group_by(calls.c.plan, calls.c.air))
    return {(plan, _aware(air)): n for plan, air, n in rows}


def _orders(session: Session, period: Period) -> dict[Key, tuple[int, Decimal]]:
    plan = func.coalesce(Cdr.media_plan_id, _plan_of_number(Order.media_source))
    placed = (select(plan.label("plan"), Order.created_at.label("at"), Order.total.label("total"))
              .select_from(Order).outerjoin(Cdr, Cdr.uuid == Order.call_uuid)
              .where(Order.created_at >= period.start, Order.created_at < period.end,
                     Order.status != OrderStatus.CANCELLED.value)
              .subquery())
    aired = select(placed.c.plan, _airing(placed.c.plan, placed.c.at).label("air"), placed.c.total).subquery()
    rows = session.execute(select(aired.c.plan, aired.c.air, func.count(), func.sum(aired.c.total))
                           .group_by(aired.c.plan, aired.c.air))
    return {(plan, _aware(air)): (n, Decimal(total or 0)) for plan, air, n, total in rows}


def _aware(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite hands an aggregate of a timestamp back as text
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def media_plans(session: Session, period: Period) -> Table:
    """Per media plan and air time: inbound calls, orders (not cancelled) and their revenue."""
    calls, orders = _calls(session, period), _orders(session, period)
    keys = set(calls) | set(orders)
    ids = sorted({plan for plan, _ in keys if plan is not None})
    plans = {pid: (name, kind) for pid, name, kind in session.execute(
        select(MediaPlan.id, MediaPlan.name, MediaPlan.kind).where(MediaPlan.id.in_(ids)))} if ids else {}

    def order_key(key: Key) -> tuple:
        plan, air = key
        name = plans.get(plan, ("", ""))[0] if plan is not None else "\uffff"  # no plan: last
        return (name, plan or 0, air or dt.datetime.min.replace(tzinfo=UTC))

    table = Table("media_plans", COLUMNS)
    for key in sorted(keys, key=order_key):
        plan, air = key
        name, kind = plans.get(plan, ("-", "-")) if plan is not None else ("-", "-")
        count, revenue = orders.get(key, (0, Decimal("0")))
        local = air.astimezone(period.tz).strftime("%Y-%m-%d %H:%M") if air is not None else "-"
        table.rows.append([name, kind, local, calls.get(key, 0), count, float(revenue.quantize(Decimal("0.01")))])
    return table


__all__ = ["media_plans"]
