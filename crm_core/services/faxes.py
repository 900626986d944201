"""Received faxes: filed once per call, attached to the customer the sending number belongs to, or left unmatched.

The caller's number is the only identity a fax brings (the remote station id
is free text the sender types into the machine), so the customer is looked
up by caller ID; a fax from an unknown number waits in the "unmatched faxes"
inbox until someone assigns it. A reception that failed is filed too, with
spandsp's result text or the reason the file could not be read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.enums import Channel, Direction, FaxStatus
from crm_core.exceptions import UnknownCustomer, UnknownFax
from crm_core.models import Customer, InboundFax
from crm_core.phones import DEFAULT_REGION, try_e164
from crm_core.services.customers import find_customer_by_phone
from crm_core.services.support import log_interaction
from crm_core.types import utcnow


@dataclass(frozen=True)
class ReceivedFax:
    """What the switch and the document converter found out about one received fax."""

    call_uuid: str
    ok: bool
    sender: str | None = None
    dnis: str | None = None
    remote_station_id: str | None = None
    pages: int = 0
    total_pages: int | None = None
    result_code: int | None = None
    result_text: str | None = None
    error: str | None = None
    tiff_path: str | None = None
    pdf_path: str | None = None
    thumbnail_path: str | None = None


def file_inbound_fax(session: Session, fax: ReceivedFax, *, region: str = DEFAULT_REGION) -> InboundFax:
    """File a received (or failed) fax once per call; the row (the earlier one if filed before)."""
    existing = session.scalars(select(InboundFax).where(InboundFax.call_uuid == fax.call_uuid)).first()
    if existing is not None:
        return existing
    number = try_e164(fax.sender, region) if fax.sender else None
    customer = find_customer_by_phone(session, number, region=region) if number else None
    row = InboundFax(
        call_uuid=fax.call_uuid, status=(FaxStatus.RECEIVED if fax.ok else FaxStatus.FAILED).value,
        sender=(fax.sender or None) and fax.sender[:40], sender_e164=number, dnis=(fax.dnis or None) and fax.dnis[:20],
        remote_station_id=(fax.remote_station_id or None) and fax.remote_station_id[:100], pages=max(fax.pages, 0),
        total_pages=fax.total_pages, result_code=fax.result_code,
        result_text=(fax.result_text or None) and fax.result_text[:255], error=fax.error, tiff_path=fax.tiff_path,
        pdf_path=fax.pdf_path, thumbnail_path=fax.thumbnail_path, customer_id=customer.id if customer else None)
    session.add(row)
    session.flush()
    if customer is not None:
        _timeline(session, row, customer.id, by=None)
    return row


def _timeline(session: Session, fax: InboundFax, customer_id: int, by: str | None) -> None:
    what = f"{fax.pages} page(s)" if fax.status == FaxStatus.RECEIVED else f"failed: {fax.result_text or fax.error}"
    log_interaction(session, Channel.FAX, customer_id=customer_id, direction=Direction.INBOUND,
                    address=fax.sender_e164 or fax.sender, call_uuid=fax.call_uuid,
                    summary=f"fax received, {what}"[:255],
                    detail={"event": "fax_in", "fax_id": fax.id, "status": fax.status, "pages": fax.pages,
                            "assigned_by": by})


def assign_fax(session: Session, fax_id: int, customer_id: int, *, by: str,
               now: dt.datetime | None = None) -> InboundFax:
    """Attach an (unmatched) fax to a customer; it then shows on their card and timeline."""
    fax = session.get(InboundFax, fax_id)
    if fax is None:
        raise UnknownFax(f"no received fax {fax_id}", id=fax_id)
    if session.get(Customer, customer_id) is None:
        raise UnknownCustomer(f"no customer {customer_id}", id=customer_id)
    fax.customer_id = customer_id
    fax.assigned_by = by[:40]
    fax.assigned_at = now or utcnow()
    session.flush()
    _timeline(session, fax, customer_id, by=by)
    return fax


def unmatched_faxes(session: Session, limit: int = 100) -> list[InboundFax]:
    """Faxes no customer is attached to, newest first."""
    return list(session.scalars(select(InboundFax).where(InboundFax.customer_id.is_(None))
                                .order_by(InboundFax.id.desc()).limit(limit)))


def customer_faxes(session: Session, customer_id: int, limit: int = 20) -> list[InboundFax]:
    """A customer's received faxes, newest first (the customer card)."""
    return list(session.scalars(select(InboundFax).where(InboundFax.customer_id == customer_id)
                                .order_by(InboundFax.id.desc()).limit(limit)))


def filed_call_uuids(session: Session, uuids: list[str]) -> set[str]:
    """Which of these fax calls are filed already (the start-up sweep of the fax directory)."""
    if not uuids:
        return set()
    return set(session.scalars(select(InboundFax.call_uuid).where(InboundFax.call_uuid.in_(uuids))))
