"""Customer look-ups by caller ID, creation with normalised numbers, and the blacklist."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crm_core.enums import PhoneKind
from crm_core.exceptions import NotFound, UnknownCustomer
from crm_core.models import BlacklistMark, Customer, CustomerPhone
from crm_core.phones import DEFAULT_REGION, to_e164, try_e164
from crm_core.types import utcnow

DEFAULT_BLACKLIST_THRESHOLD = 3


def find_customer_by_phone(session: Session, phone: str, *, region: str = DEFAULT_REGION) -> Customer | None:
    """The customer owning this number in any format (primary owner first), None when unknown."""
    e164 = to_e164(phone, region)
    stmt = (
        select(Customer)
        .join(CustomerPhone, CustomerPhone.customer_id == Customer.id)
        .where(CustomerPhone.e164 == e164)
        .order_by(CustomerPhone.is_primary.desc(), Customer.id)
        .limit(1)
    )
    return session.scalars(stmt).first()


def create_customer(
    session: Session,
    name: str,
    phones: Iterable[str] = (),
    *,
    region: str = DEFAULT_REGION,
    birthday: dt.date | None = None,
    language: str | None = None,
    notify_channel: str | None = None,
    email: str | None = None,
) -> Customer:
    """A new customer whose numbers are stored in E.164 (the first one primary)."""
    customer = Customer(name=name, birthday=birthday, email=email)
    if language is not None:
        customer.language = language
    if notify_channel is not None:
        customer.notify_channel = notify_channel
    for index, raw in enumerate(phones):
        customer.phones.append(CustomerPhone(e164=to_e164(raw, region), is_primary=index == 0))
    session.add(customer)
    session.flush()
    return customer


def add_phone(
    session: Session, customer: Customer, phone: str, *, kind: str = PhoneKind.MOBILE, region: str = DEFAULT_REGION
) -> CustomerPhone:
    """Attach another number (normalised) to a customer; an existing one is returned unchanged."""
    e164 = to_e164(phone, region)
    for existing in customer.phones:
        if existing.e164 == e164:
            return existing
    entry = CustomerPhone(e164=e164, kind=str(kind), is_primary=not customer.phones)
    customer.phones.append(entry)
    session.flush()
    return entry


def mark_blacklist(
    session: Session,
    customer_id: int,
    *,
    marked_by: str,
    reason: str,
    threshold: int = DEFAULT_BLACKLIST_THRESHOLD,
) -> bool:
    """Record one blacklist mark; the customer is blacklisted once marks reach ``threshold``. Returns the new state."""
    if session.get(Customer, customer_id) is None:
        raise UnknownCustomer(f"no customer {customer_id}", customer_id=customer_id)
    session.add(BlacklistMark(customer_id=customer_id, marked_by=marked_by, reason=reason))
    session.flush()
    blacklisted = active_marks(session, customer_id) >= threshold
    if blacklisted:
        session.execute(
            update(Customer).where(Customer.id == customer_id).values(is_blacklisted=True),
            execution_options={"synchronize_session": "fetch"},
        )
    return blacklisted


def active_marks(session: Session, customer_id: int) -> int:
    """How many blacklist marks of a customer still count (not revoked)."""
    stmt = select(func.count()).where(BlacklistMark.customer_id == customer_id, BlacklistMark.revoked_at.is_(None))
    return session.scalar(stmt) or 0


def unmark_blacklist(
    session: Session,
    customer_id: int,
    *,
    by: str,
    reason: str,
    mark_id: int | None = None,
    threshold: int = DEFAULT_BLACKLIST_THRESHOLD,
) -> bool:
    """Revoke one mark (``mark_id``) or all active marks of a customer, with who and why. Returns the new state.

    Revoked marks stay on record but no longer count; the customer stays blacklisted
    only while the remaining active marks still reach ``threshold``.
    """
    if session.get(Customer, customer_id) is None:
        raise UnknownCustomer(f"no customer {customer_id}", customer_id=customer_id)
    stmt = update(BlacklistMark).where(BlacklistMark.customer_id == customer_id, BlacklistMark.revoked_at.is_(None))
    if mark_id is not None:
        stmt = stmt.where(BlacklistMark.id == mark_id)
    result = session.execute(stmt.values(revoked_at=utcnow(), revoked_by=by[:40], revoke_reason=reason),
                             execution_options={"synchronize_session": "fetch"})
    if mark_id is not None and result.rowcount == 0:
        raise NotFound(f"customer {customer_id} has no active blacklist mark {mark_id}", mark_id=mark_id)
    blacklisted = active_marks(session, customer_id) >= threshold
    session.execute(
        update(Customer).where(Customer.id == customer_id).values(is_blacklisted=blacklisted),
        execution_options={"synchronize_session": "fetch"},
    )
    return blacklisted


def is_blacklisted(session: Session, phone: str, *, region: str = DEFAULT_REGION) -> bool:
    """Whether a caller ID belongs to a blacklisted customer (unknown or garbled numbers are not)."""
    e164 = try_e164(phone, region)
    if e164 is None:
        return False
    stmt = (
        select(Customer.id)
        .join(CustomerPhone, CustomerPhone.customer_id == Customer.id)
        .where(CustomerPhone.e164 == e164, Customer.is_blacklisted.is_(True))
        .limit(1)
    )
    return session.scalar(stmt) is not None
