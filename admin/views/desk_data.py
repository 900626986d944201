"""What the agent desk shows about a caller, read from crm_core: plain functions over a Session.

No Flask and no Twisted here: the desk's Flask views call these on a WSGI
pool thread, and :mod:`hotline.desk_events` calls :func:`screen_pop_card` on
the ACD's database pool when the ACD chooses an agent (never on the reactor
thread). Everything returned is JSON-ready (str/int/bool/None, lists, dicts).

Who is the agent behind an admin user (:func:`agent_for_user`):
``admin_users.agent_id`` when set, else the agent whose ``login`` equals the
user's ``username`` (so the demo user ``agent`` is the agent with login
``agent``; an admin links any other user under System -> Users).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.enums import ORDER_TRANSITIONS, MemberLevel, OrderStatus
from crm_core.exceptions import InvalidPhoneNumber
from crm_core.models import Agent, Complaint, Customer, CustomerPhone, CustomerTag, InboundFax, Interaction, Order, \
    OutboxMessage
from crm_core.phones import try_e164

#: Member levels the desk flags as VIP (the IVR's rule: these levels, or the tag ``vip``).
VIP_LEVELS = frozenset({MemberLevel.GOLD.value, MemberLevel.PLATINUM.value, MemberLevel.DIAMOND.value})
#: Wrap-up disposition codes an agent picks when the call ends.
DISPOSITIONS = ("sale", "enquiry", "complaint", "callback", "wrong_number", "other")
#: Reason codes for "not ready" (the phone's *64 digits use the same words).
NOT_READY_REASONS = ("lunch", "training", "after-call work", "rest", "meeting", "other")

RECENT_ORDERS = 5
RECENT_COMPLAINTS = 5
RECENT_INTERACTIONS = 8
RECENT_FAXES = 5
RECENT_MESSAGES = 5


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def agent_for_user(session: Session, agent_id: int | None, username: str) -> Agent | None:
    """The agent row of an admin user: its ``agent_id`` link, else the agent whose login is the username."""
    if agent_id is not None:
        agent = session.get(Agent, agent_id)
        if agent is not None:
            return agent
    return session.scalars(select(Agent).where(Agent.login == username)).first()


def customer_by_phone(session: Session, phone: str | None) -> Customer | None:
    """The customer owning ``phone`` (any format), None for unknown or unparsable numbers."""
    e164 = try_e164(phone or "")
    if e164 is None:
        return None
    stmt = (select(Customer).join(CustomerPhone, CustomerPhone.customer_id == Customer.id)
            .where(CustomerPhone.e164 == e164).order_by(CustomerPhone.is_primary.desc(), Customer.id).limit(1))
    return session.scalars(stmt).first()


def order_view(order: Order, with_items: bool = True) -> dict[str, Any]:
    """An order as the desk lists it, with the moves its status may make next."""
    current = OrderStatus(order.status)
    view = {"id": order.id, "number": order.number, "status": order.status, "total": _money(order.total),
            "channel": order.channel, "created_at": _iso(order.created_at), "customer_id": order.customer_id,
            "next_statuses": sorted(t.value for f, t in ORDER_TRANSITIONS if f == current),
            "points_earned": order.points_earned}
    if with_items:
        view["items"] = [{"name": getattr(i, "name", None) or getattr(getattr(i, "product", None), "name", ""),
                          "quantity": i.quantity, "line_total": _money(getattr(i, "line_total", None))}
                         for i in getattr(order, "items", [])]
    return view


def customer_card(session: Session, customer: Customer) -> dict[str, Any]:
    """Profile, flags, recent orders, complaints and interactions of one customer."""
    tags = set(session.scalars(select(CustomerTag.tag).where(CustomerTag.customer_id == customer.id)))
    orders = session.scalars(select(Order).where(Order.customer_id == customer.id)
                             .order_by(Order.created_at.desc(), Order.id.desc()).limit(RECENT_ORDERS)).all()
    complaints = session.scalars(select(Complaint).where(Complaint.customer_id == customer.id)
                                 .order_by(Complaint.created_at.desc(), Complaint.id.desc())
                                 .limit(RECENT_COMPLAINTS)).all()
    interactions = session.scalars(select(Interaction).where(Interaction.customer_id == customer.id)
                                   .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
                                   .limit(RECENT_INTERACTIONS)).all()
    return {
        "id": customer.id, "name": customer.name, "member_level": customer.member_level,
        "points": customer.points_balance, "language": customer.language, "email": customer.email,
        "phones": [p.e164 for p in customer.phones], "tags": sorted(tags), "notes": customer.notes,
        "vip": customer.member_level in VIP_LEVELS or "vip" in tags, "blacklisted": bool(customer.is_blacklisted),
        "orders": [order_view(o) for o in orders],
        "complaints": [{"id": c.id, "category": c.category, "status": c.status, "description": c.description,
                        "created_at": _iso(c.created_at)} for c in complaints],
        "interactions": [{"id": i.id, "channel": i.channel, "direction": i.direction, "summary": i.summary,
                          "occurred_at": _iso(i.occurred_at)} for i in interactions],
        **messaging_card(session, customer.id),
    }


def messaging_card(session: Session, customer_id: int) -> dict[str, Any]:
    """The customer's received faxes and latest outbox messages, for the card."""
    faxes = session.scalars(select(InboundFax).where(InboundFax.customer_id == customer_id)
                            .order_by(InboundFax.id.desc()).limit(RECENT_FAXES)).all()
    messages = session.scalars(select(OutboxMessage).where(OutboxMessage.customer_id == customer_id)
                               .order_by(OutboxMessage.id.desc()).limit(RECENT_MESSAGES)).all()
    return {
        "faxes": [{"id": f.id, "received_at": _iso(f.received_at), "status": f.status, "pages": f.pages,
                   "sender": f.sender, "pdf": bool(f.pdf_path), "thumbnail": bool(f.thumbnail_path),
                   "reason": f.error or f.result_text} for f in faxes],
        "messages": [{"id": m.id, "channel": m.channel, "status": m.status, "template": m.template,
                      "created_at": _iso(m.created_at), "text": (m.subject or m.body or "")[:60]} for m in messages],
    }


def screen_pop_card(session: Session, pop: dict[str, Any]) -> dict[str, Any]:
    """The desk's screen pop for an ACD ``acd.screen_pop`` payload: the call, plus the customer's card if known."""
    hint = dict(pop.get("customer") or {})
    customer = None
    customer_id = pop.get("customer_id") or hint.get("id")
    if customer_id is not None:
        customer = session.get(Customer, int(customer_id))
    if customer is None:
        try:
            customer = customer_by_phone(session, pop.get("ani"))
        except InvalidPhoneNumber:
            customer = None
    card = customer_card(session, customer) if customer is not None else None
    if card is not None and hint.get("member_level") == "vip":
        card["vip"] = True
    return {
        "call_uuid": pop.get("call_uuid"), "agent_id": pop.get("agent_id"), "queue": pop.get("queue"),
        "ani": pop.get("ani"), "dnis": pop.get("dnis"), "ivr_path": pop.get("ivr_path"),
        "waited": round(float(pop.get("waited") or 0.0), 1), "reason": pop.get("reason"),
        "customer": card,
    }
