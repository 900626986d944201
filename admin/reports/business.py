"""Business reports: IVR options and product enquiries (interaction log), complaints, sales by media, SMS/fax.

The IVR logs each step as an ``interactions`` row (channel ``ivr``) whose
JSON ``detail.event`` says what happened: ``option`` (with ``node`` and
``key``), ``product`` (with ``code``) and so on (``ivr/runtime/session.py``
``log_step``). The JSON is read in SQL (``json_extract`` on SQLite, ``->>``
on PostgreSQL, both from SQLAlchemy's JSON operators).
"""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from admin.reports import Table
from admin.reports.period import Period
from admin.reports.sql import dialect_of, local_day, rounded
from crm_core.enums import Channel, OrderStatus
from crm_core.models import Complaint, Interaction, Order, Product

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
    """Orders placed in the period (not cancelled) by media source (DNIS): orders, revenue, average order."""
    source = func.coalesce(Order.media_source, "").label("source")
    revenue = func.sum(Order.total).label("revenue")
    rows = session.execute(
        select(source, func.count(), revenue)
        .where(Order.created_at >= period.start, Order.created_at < period.end,
               Order.status != OrderStatus.CANCELLED.value)
        .group_by(source).order_by(revenue.desc(), source)).all()
    return Table("sales_by_media", ["media_source", "orders", "revenue", "average"],
                 [[s or "-", n, rounded(r, 2) or 0.0, rounded(float(r or 0) / n, 2) if n else None]
                  for s, n, r in rows])


def messages_by_channel(session: Session, period: Period) -> Table:
    """SMS and fax interactions per local day, inbound and outbound."""
    day = local_day(dialect_of(session), Interaction.occurred_at, period.utc_offset_minutes).label("day")
    rows = session.execute(
        select(day, Interaction.channel, Interaction.direction, func.count())
        .where(Interaction.channel.in_(MESSAGE_CHANNELS), Interaction.occurred_at >= period.start,
               Interaction.occurred_at < period.end)
        .group_by(day, Interaction.channel, Interaction.direction)).all()
    counts = {(str(d), c, dr): n for d, c, dr, n in rows}
    columns = [f"{c}_{d}" for c in MESSAGE_CHANNELS for d in ("inbound", "outbound")]
    table = Table("messages", ["day", *columns])
    for d in period.day_list():
        key = d.isoformat()
        table.rows.append([key, *(counts.get((key, *col.split("_")), 0) for col in columns)])
    return table
