"""Business reports: IVR options and product enquiries (interaction log), complaints, sales by media, SMS/fax
(the messaging outbox and what came in).

The IVR logs each step as an ``interactions`` row (channel ``ivr``) whose
JSON ``detail.event`` says what happened: ``option`` (with ``node`` and
``key``), ``product`` (with ``code``) and so on (``ivr/runtime/session.py``
``log_step``). The JSON is read in SQL (``json_extract`` on SQLite, ``->>``
on PostgreSQL, both from SQLAlchemy's JSON operators).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from admin.reports import Table
from admin.reports.period import Period
from admin.reports.sql import dialect_of, local_day, rounded
from crm_core.enums import Channel, MessageStatus, OrderStatus
from crm_core.models import Complaint, InboundFax, InboundMessage, Interaction, MediaPlan, Order, OutboxMessage, Product

TOP = 30
MESSAGE_CHANNELS = (Channel.SMS.value, Channel.FAX.value)


def _ivr(period: Period, event: str) -> list:
    return [Interaction.channel == Channel.IVR.value, Interaction.occurred_at >= period.start,
            Interaction.occurred_at < period.end, Interaction.detail["event"].as_string() == event]


def ivr_options(session: Session, period: Period, top: int = TOP) -> Table:
    """The most chosen IVR options: menu node, key, times chosen."""
    node = Interaction.detail["node"].as_string().label("node")
    key = Interaction.detail["key"].as_string().label("key")
    count = func.count().label("n")
    rows = session.execute(select(node, key, count).where(*_ivr(period, "option"))
                           .group_by(node, key).order_by(count.desc(), node, key).limit(top)).all()
    return Table("ivr_options", ["node", "key", "count"], [[n or "", k or "", c] for n, k, c in rows])


def ivr_products(session: Session, period: Period, top: int = TOP) -> Table:
    """Products callers asked about in the IVR: phone code, product name, enquiries."""
    code = Interaction.detail["code"].as_string().label("code")
    count = func.count().label("n")
    counted = (select(code, count).where(*_ivr(period, "product")).group_by(code)
               .order_by(count.desc(), code).limit(top).subquery())
    rows = session.execute(select(counted.c.code, Product.name, counted.c.n)
                           .outerjoin(Product, Product.phone_code == counted.c.code)
                           .order_by(counted.c.n.desc(), counted.c.code)).all()
    return Table("ivr_products", ["code", "product", "count"], [[c or "", p or "", n] for c, p, n in rows])


def complaints_by_category(session: Session, period: Period) -> Table:
    """Complaints opened in the period by category, with how many are resolved or closed."""
    closed = func.sum(case((Complaint.status.in_(("resolved", "closed")), 1), else_=0))
    rows = session.execute(
        select(Complaint.category, func.count(), closed)
        .where(Complaint.created_at >= period.start, Complaint.created_at < period.end)
        .group_by(Complaint.category).order_by(Complaint.category)).all()
    return Table("complaints", ["category", "count", "resolved", "open"],
                 [[c, n, r or 0, n - (r or 0)] for c, n, r in rows])


def sales_by_media(session: Session, period: Period) -> Table:
    """Orders placed in the period (not cancelled) by media source (the DNIS) with the media plan advertising it:
    orders, revenue, average order."""
    source = func.coalesce(Order.media_source, "").label("source")
    revenue = func.sum(Order.total).label("revenue")
    rows = session.execute(
        select(source, func.count(), revenue)
        .where(Order.created_at >= period.start, Order.created_at < period.end,
               Order.status != OrderStatus.CANCELLED.value)
        .group_by(source).order_by(revenue.desc(), source)).all()
    numbers = [s for s, _, _ in rows if s]
    plans: dict[str, tuple[str, str]] = {}
    if numbers:  # the newest active plan advertising each number
        for dnis, name, kind in session.execute(
                select(MediaPlan.dnis, MediaPlan.name, MediaPlan.kind)
                .where(MediaPlan.dnis.in_(numbers), MediaPlan.active.is_(True)).order_by(MediaPlan.id)):
            plans[dnis] = (name, kind)
    return Table("sales_by_media", ["media_source", "media_plan", "kind", "orders", "revenue", "average"],
                 [[s or "-", *plans.get(s, (None, None)), n, rounded(r, 2) or 0.0,
                   rounded(float(r or 0) / n, 2) if n else None] for s, n, r in rows])


def messages_by_channel(session: Session, period: Period) -> Table:
    """SMS and fax per local day: sent (outbox, by the time the gateway took them) and received."""
    dialect, offset = dialect_of(session), period.utc_offset_minutes
    counts: dict[tuple[str, str, str], int] = {}

    def count(direction: str, channel_col: Any, at: Any, *where: Any) -> None:
        day = local_day(dialect, at, offset).label("day")
        for d, c, n in session.execute(select(day, channel_col, func.count())
                                       .where(at >= period.start, at < period.end, *where)
                                       .group_by(day, channel_col)).all():
            counts[(str(d), c, direction)] = counts.get((str(d), c, direction), 0) + n

    count("outbound", OutboxMessage.channel, OutboxMessage.sent_at, OutboxMessage.channel.in_(MESSAGE_CHANNELS),
          OutboxMessage.status.in_([MessageStatus.SENT.value, MessageStatus.DELIVERED.value]))
    count("inbound", InboundMessage.channel, InboundMessage.received_at,
          InboundMessage.channel == Channel.SMS.value)
    count("inbound", literal(Channel.FAX.value), InboundFax.received_at)
    columns = [f"{c}_{d}" for c in MESSAGE_CHANNELS for d in ("inbound", "outbound")]
    table = Table("messages", ["day", *columns])
    for d in period.day_list():
        key = d.isoformat()
        table.rows.append([key, *(counts.get((key, *col.split("_")), 0) for col in columns)])
    return table
