"""What the demo database holds, counted from the database itself (not from the plan), as text for the CLI."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.demo import data
from crm_core.demo.contact_center import admin_user_table, agent_password
from crm_core.models import (
    AdminUser,
    Agent,
    CallbackRequest,
    CallDetailRecord,
    Campaign,
    CampaignContact,
    Complaint,
    Customer,
    DoNotCall,
    Interaction,
    KnowledgeArticle,
    MediaPlan,
    Order,
    PointsEntry,
    Product,
    Promotion,
    Queue,
    Stock,
    Supplier,
    Voicemail,
    Warehouse,
)
from crm_core.services.inventory import low_stock

COUNTED = (
    ("products", Product), ("suppliers", Supplier), ("warehouses", Warehouse), ("stock rows", Stock),
    ("promotions", Promotion), ("customers", Customer), ("points entries", PointsEntry), ("orders", Order),
    ("complaints", Complaint), ("voicemails", Voicemail), ("callback requests", CallbackRequest),
    ("knowledge articles", KnowledgeArticle), ("interactions", Interaction), ("call records", CallDetailRecord),
    ("agents", Agent), ("queues", Queue), ("media plans", MediaPlan), ("campaigns", Campaign),
    ("campaign contacts", CampaignContact), ("do-not-call numbers", DoNotCall), ("admin users", AdminUser),
)


def counts(session: Session) -> dict[str, int]:
    """Rows per demo table, by the names the summary prints."""
    return {label: session.scalar(select(func.count()).select_from(model)) or 0 for label, model in COUNTED}


def orders_by_status(session: Session) -> dict[str, int]:
    """How many orders are in each status."""
    return dict(session.execute(select(Order.status, func.count()).group_by(Order.status)).all())  # type: ignore[arg-type]


def summary_lines(session: Session, *, admin_users: bool = True) -> list[str]:
    """The demo summary: counts, order statuses, stock alerts, numbers to call and demo logins."""
    c = counts(session)
    statuses = orders_by_status(session)
    low = low_stock(session)
    out = sum(1 for s in low if s.on_hand - s.reserved <= 0)
    lines = ["Demo shop:"]
    row = [f"{label} {c[label]}" for label, _ in COUNTED]
    for start in range(0, len(row), 6):
        lines.append("  " + ", ".join(row[start : start + 6]))
    lines.append("  orders by status: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    lines.append(f"  stock rows at or under the warning line: {len(low)} (of which empty: {out})")
    blacklisted = session.scalar(select(func.count()).where(Customer.is_blacklisted.is_(True)))
    lines.append(f"  blacklisted callers: {blacklisted}")
    plans = data.shop()["media_plans"]
    lines.append("  hotline numbers (DNIS): 4008008888 main; " + "; ".join(
        f"{p['dnis']} {p['outlet']}" for p in plans[:5]) + " ...")
    heroes = data.shop()["hero_codes"]
    lines.append("  ad phone codes: " + ", ".join(f"{code} ({cat})" for cat, code in heroes.items()))
    sample = session.scalars(select(Order).order_by(Order.created_at.desc()).limit(1)).first()
    if sample is not None:
        lines.append(f"  latest order: {sample.number} ({sample.status})")
    agents = data.shop()["agents"]
    lines.append("  agents (demo passwords 'demo' + extension): " + ", ".join(
        f"{login}/{ext}" for login, (_, ext, _) in agents.items()) + f"  e.g. zhangli / {agent_password('1001')}")
    if admin_users:
        lines.append("  DEMO admin users (change before real use): " + ", ".join(
            f"{user} / {pw} ({role})" for user, role, pw, _ in admin_user_table()))
    return lines
