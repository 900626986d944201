"""Saved customer segments: a small validated JSON definition, evaluated into campaign contacts at start.

A definition is data a campaign manager can read, store and edit::

    {"match": "all",                       # "all" (every rule) or "any" (at least one)
     "rules": [{"rule": "birthday_this_week"},
               {"rule": "delivered_days_ago", "days": 3, "not_surveyed": true},
               {"rule": "unpaid_cod"},
               {"rule": "vip"},             # optional "levels": ["gold", ...]
               {"rule": "bought_product", "product": "8801"},   # SKU or phone code; optional "days"
               {"rule": "media_plan", "plan": "CCTV-2 evening"}],  # plan name or id
     "limit": 5000}                          # optional, at most MAX_LIMIT

Dates ("this week", "N days ago") are local dates in the campaign's time
zone. Each customer becomes one contact on their primary number (the first
one otherwise), with merge fields ``name`` and, for order rules, ``order``
(the latest matching order number). Blacklisted customers and numbers on the
do-not-call list are added as skipped with the reason, never dropped.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import Select, String, cast, exists, extract, null, or_, select
from sqlalchemy.orm import Session

from crm_core.campaign_rules import validate_timezone
from crm_core.enums import MemberLevel, OrderStatus, PaymentMethod
from crm_core.exceptions import InvalidInput
from crm_core.models import (
    CallDetailRecord,
    Campaign,
    CampaignAnswer,
    CampaignContact,
    Customer,
    CustomerPhone,
    CustomerSegment,
    MediaPlan,
    Order,
    OrderItem,
    OrderStatusChange,
    Product,
)
from crm_core.services.campaign_contacts import ContactRow, ImportReport, add_contacts

MAX_RULES = 10
MAX_LIMIT = 100_000
VIP_LEVELS = (MemberLevel.GOLD.value, MemberLevel.PLATINUM.value, MemberLevel.DIAMOND.value)
#: rule -> its allowed keys besides "rule" (and which are required)
RULE_KEYS: dict[str, tuple[set[str], set[str]]] = {
    "birthday_this_week": (set(), set()),
    "delivered_days_ago": ({"days", "not_surveyed"}, {"days"}),
    "unpaid_cod": (set(), set()),
    "vip": ({"levels"}, set()),
    "bought_product": ({"product", "days"}, {"product"}),
    "media_plan": ({"plan"}, {"plan"}),
}
ORDER_RULES = ("delivered_days_ago", "unpaid_cod", "bought_product", "media_plan")


def _bad(message: str) -> InvalidInput:
    return InvalidInput(f"segment: {message}", field="definition")


def validate_segment(definition: Any) -> dict[str, Any]:
    """The definition in its canonical form, or InvalidInput saying what is wrong."""
    if not isinstance(definition, Mapping):
        raise _bad("the definition must be an object")
    unknown = set(definition) - {"match", "rules", "limit"}
    if unknown:
        raise _bad(f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    match = definition.get("match", "all")
    if match not in ("all", "any"):
        raise _bad("match must be 'all' or 'any'")
    rules = definition.get("rules")
    if not isinstance(rules, list) or not 1 <= len(rules) <= MAX_RULES:
        raise _bad(f"rules must be a list of 1-{MAX_RULES} rules")
    out_rules = [_validate_rule(rule) for rule in rules]
    out: dict[str, Any] = {"match": match, "rules": out_rules}
    if "limit" in definition:
        limit = definition["limit"]
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise _bad(f"limit must be a whole number 1-{MAX_LIMIT}")
        out["limit"] = limit
    return out


def _whole(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(f"{what} must be a whole number {low}-{high}")
    return value


def _validate_rule(rule: Any) -> dict[str, Any]:
    if not isinstance(rule, Mapping) or "rule" not in rule:
        raise _bad("each rule is an object with a 'rule' name")
    name = rule["rule"]
    if name not in RULE_KEYS:
        raise _bad(f"unknown rule {name!r}; one of {', '.join(RULE_KEYS)}")
    allowed, required = RULE_KEYS[name]
    extra = set(rule) - allowed - {"rule"}
    if extra:
        raise _bad(f"rule {name}: unknown key(s) {', '.join(sorted(map(str, extra)))}")
    missing = required - set(rule)
    if missing:
        raise _bad(f"rule {name}: missing {', '.join(sorted(missing))}")
    out: dict[str, Any] = {"rule": name}
    if name == "delivered_days_ago":
        out["days"] = _whole(rule["days"], "days", 0, 365)
        not_surveyed = rule.get("not_surveyed", True)
        if not isinstance(not_surveyed, bool):
            raise _bad("not_surveyed must be true or false")
        out["not_surveyed"] = not_surveyed
    elif name == "vip":
        levels = rule.get("levels", list(VIP_LEVELS))
        if not isinstance(levels, list) or not levels or any(lv not in {m.value for m in MemberLevel}
                                                             for lv in levels):
            raise _bad(f"levels must be a list of {', '.join(m.value for m in MemberLevel)}")
        out["levels"] = sorted(set(levels))
    elif name == "bought_product":
        product = rule["product"]
        if not isinstance(product, (str, int)) or not str(product).strip() or len(str(product)) > 40:
            raise _bad("product must be a SKU or phone code")
        out["product"] = str(product).strip()
        if "days" in rule:
            out["days"] = _whole(rule["days"], "days", 1, 3650)
    elif name == "media_plan":
        plan = rule["plan"]
        if isinstance(plan, bool) or not isinstance(plan, (str, int)) or not str(plan).strip():
            raise _bad("plan must be a media plan name or id")
        out["plan"] = plan if isinstance(plan, int) else str(plan).strip()
    return out


def save_segment(session: Session, name: str, definition: Any, *, by: str,
                 description: str | None = None) -> CustomerSegment:
    """Create or replace a named segment (its definition validated first)."""
    clean = validate_segment(definition)
    text = (name or "").strip()
    if not text or len(text) > 100:
        raise InvalidInput("a segment needs a name of 1-100 characters", field="name")
    row = session.scalars(select(CustomerSegment).where(CustomerSegment.name == text)).first()
    if row is None:
        row = CustomerSegment(name=text, created_by=by[:40], definition=clean)
        session.add(row)
    row.definition, row.description = clean, description
    session.flush()
    return row


# -- evaluation --------------------------------------------------------------------------------------------


def _local_day_bounds(day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0), zone)
    return start.astimezone(dt.timezone.utc), (start + dt.timedelta(days=1)).astimezone(dt.timezone.utc)


def _rule_query(session: Session, rule: Mapping[str, Any], now: dt.datetime, zone: ZoneInfo) -> Select[Any]:
    """``SELECT customer_id[, order_number]`` of one rule."""
    name = rule["rule"]
    today = now.astimezone(zone).date()
    if name == "birthday_this_week":
        monday = today - dt.timedelta(days=today.weekday())
        days = [monday + dt.timedelta(days=n) for n in range(7)]
        keys = {d.month * 100 + d.day for d in days}
        if any(d.month == 2 and d.day == 28 for d in days) and not _leap(today.year):
            keys.add(229)  # born on 29 February: greeted on the 28th in other years
        key = extract("month", Customer.birthday) * 100 + extract("day", Customer.birthday)
        return select(Customer.id.label("customer_id")).where(Customer.birthday.is_not(None), key.in_(sorted(keys)))
    if name == "vip":
        return select(Customer.id.label("customer_id")).where(Customer.member_level.in_(rule["levels"]))
    if name == "delivered_days_ago":
        start, end = _local_day_bounds(today - dt.timedelta(days=rule["days"]), zone)
        stmt = (select(Order.customer_id.label("customer_id"), Order.number.label("order_number"))
                .join(OrderStatusChange, OrderStatusChange.order_id == Order.id)
                .where(OrderStatusChange.to_status == OrderStatus.DELIVERED.value,
                       OrderStatusChange.changed_at >= start, OrderStatusChange.changed_at < end,
                       Order.status == OrderStatus.DELIVERED.value))
        if rule.get("not_surveyed", True):
            surveyed = (select(CampaignAnswer.id).join(CampaignContact, CampaignContact.id == CampaignAnswer.contact_id)
                        .where(CampaignContact.customer_id == Order.customer_id, CampaignAnswer.answered_at >= start))
            stmt = stmt.where(~exists(surveyed))
        return stmt
    if name == "unpaid_cod":
        return select(Order.customer_id.label("customer_id"), Order.number.label("order_number")).where(
            Order.payment_method == PaymentMethod.COD.value,
            Order.status.in_((OrderStatus.SHIPPED.value, OrderStatus.DELIVERED.value)))
    if name == "bought_product":
        product = rule["product"]
        stmt = (select(Order.customer_id.label("customer_id"), Order.number.label("order_number"))
                .join(OrderItem, OrderItem.order_id == Order.id).join(Product, Product.id == OrderItem.product_id)
                .where(or_(Product.sku == product, Product.phone_code == product),
                       Order.status != OrderStatus.CANCELLED.value))
        if "days" in rule:
            stmt = stmt.where(Order.created_at >= now - dt.timedelta(days=rule["days"]))
        return stmt
    if name == "media_plan":
        plan_ref = rule["plan"]
        plan = session.get(MediaPlan, plan_ref) if isinstance(plan_ref, int) else session.scalars(
            select(MediaPlan).where(MediaPlan.name == plan_ref)).first()
        if plan is None:
            raise _bad(f"no media plan {plan_ref!r}")
        ordered = select(Order.customer_id.label("customer_id"), Order.number.label("order_number")).where(
            Order.media_source == plan.dnis)
        no_order = cast(null(), String(20)).label("order_number")
        called = select(CallDetailRecord.customer_id.label("customer_id"), no_order).where(
            CallDetailRecord.media_source == plan.dnis, CallDetailRecord.customer_id.is_not(None))
        return ordered.union_all(called)  # type: ignore[return-value]
    raise _bad(f"unknown rule {name!r}")  # pragma: no cover - validated before


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def evaluate_segment(session: Session, definition: Any, *, now: dt.datetime, timezone: str = "Asia/Shanghai",
                     ) -> list[ContactRow]:
    """The contacts a definition selects now: one per customer, on the primary number, with merge fields."""
    clean = validate_segment(definition)
    zone = validate_timezone(timezone)
    per_rule: list[dict[int, str | None]] = []
    for rule in clean["rules"]:
        found: dict[int, str | None] = {}
        for row in session.execute(_rule_query(session, rule, now, zone)).all():
            customer_id = row[0]
            order = row[1] if len(row) > 1 else None
            if customer_id is None:
                continue
            if customer_id not in found or (order and (found[customer_id] or "") < order):
                found[customer_id] = order  # the latest order number (numbers grow)
        per_rule.append(found)
    ids = set(per_rule[0])
    for found in per_rule[1:]:
        ids = ids & set(found) if clean["match"] == "all" else ids | set(found)
    ordered_ids = sorted(ids)[: clean.get("limit", MAX_LIMIT)]
    orders: dict[int, str] = {}
    for found in per_rule:
        for customer_id, order in found.items():
            if order and customer_id not in orders:
                orders[customer_id] = order
    rows: list[ContactRow] = []
    for chunk in (ordered_ids[i:i + 500] for i in range(0, len(ordered_ids), 500)):
        phones = session.execute(
            select(CustomerPhone.customer_id, CustomerPhone.e164, Customer.name)
            .join(Customer, Customer.id == CustomerPhone.customer_id)
            .where(CustomerPhone.customer_id.in_(chunk))
            .order_by(CustomerPhone.customer_id, CustomerPhone.is_primary.desc(), CustomerPhone.id)).all()
        seen: set[int] = set()
        for customer_id, e164, name in phones:
            if customer_id in seen:
                continue
            seen.add(customer_id)
            data = {"name": name}
            if customer_id in orders:
                data["order"] = orders[customer_id]
            rows.append(ContactRow(number=e164, data=data, line=None, customer_id=customer_id))
    return rows


def load_segment_contacts(session: Session, campaign: Campaign, *, now: dt.datetime) -> ImportReport:
    """Evaluate the campaign's segment and add its contacts (merged, DNC and blacklist marked)."""
    segment = campaign.segment or session.get(CustomerSegment, campaign.segment_id)
    if segment is None:
        raise InvalidInput("the campaign's segment no longer exists", field="segment_id")
    rows = evaluate_segment(session, segment.definition, now=now, timezone=campaign.timezone)
    return add_contacts(session, campaign.id, rows, now=now)


__all__ = ["evaluate_segment", "load_segment_contacts", "save_segment", "validate_segment"]
