"""Who is calling: what answering a call needs to know about the caller, read in one statement.

Every inbound call looks its caller up before the first prompt, so this is
on the IVR's hot path: the customer owning the number (primary owner
first), how many blacklist marks still count, whether the customer carries a
tag (VIP), and the address an order would ship to (the default, else the
first) come back in one round trip instead of one query each.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from crm_core.models import Address, BlacklistMark, Customer, CustomerPhone, CustomerTag
from crm_core.phones import DEFAULT_REGION, to_e164


@dataclass(frozen=True)
class CallerRecord:
    """The caller's customer record as a call needs it (plain values, safe outside the session)."""

    customer_id: int
    name: str
    language: str
    member_level: str
    notify_channel: str
    is_blacklisted: bool
    active_marks: int
    tagged: bool  # carries the tag asked for
    address_id: int | None
    address: str | None  # one line, as ``Address.one_line`` writes it


def caller_record(session: Session, phone: str, *, region: str = DEFAULT_REGION,
                  tag: str = "vip") -> CallerRecord | None:
    """The customer owning ``phone`` in any format (primary owner first), None when unknown; a number that is not
    a phone number raises ``crm_core.exceptions.InvalidPhoneNumber`` like every look-up by number."""
    e164 = to_e164(phone, region)
    marks = (select(func.count()).where(BlacklistMark.customer_id == Customer.id, BlacklistMark.revoked_at.is_(None))
             .correlate(Customer).scalar_subquery())
    tagged = exists().where(CustomerTag.customer_id == Customer.id, CustomerTag.tag == tag).correlate(Customer)
    first_address = (select(Address.id).where(Address.customer_id == Customer.id)
                     .order_by(Address.is_default.desc(), Address.id).limit(1).correlate(Customer).scalar_subquery())
    row = session.execute(
        select(Customer.id, Customer.name, Customer.language, Customer.member_level, Customer.notify_channel,
               Customer.is_blacklisted, marks.label("marks"), tagged.label("tagged"), Address.id.label("address_id"),
               Address.province, Address.city, Address.district, Address.line1, Address.line2, Address.postcode)
        .join(CustomerPhone, CustomerPhone.customer_id == Customer.id)
        .outerjoin(Address, Address.id == first_address)
        .where(CustomerPhone.e164 == e164)
        .order_by(CustomerPhone.is_primary.desc(), Customer.id)
        .limit(1)).first()
    if row is None:
        return None
    return CallerRecord(row.id, row.name, row.language, row.member_level, row.notify_channel, bool(row.is_blacklisted),
                        int(row.marks or 0), bool(row.tagged), row.address_id,
                        Address.join_parts(row.province, row.city, row.district, row.line1, row.line2, row.postcode)
                        if row.address_id is not None else None)


__all__ = ["CallerRecord", "caller_record"]
