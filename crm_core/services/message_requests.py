"""Requests the IVR recorded before the outbox existed, turned into outbox messages once.

Earlier engines wrote "send this to my phone" and "fax me the document" as
outbound ``interactions`` rows with ``detail.status = "requested"`` and
nothing ever sent them. At start the engine queues each of them (idempotency
key ``ivr-request-<interaction id>``, so running this twice queues nothing
twice) and marks the interaction ``queued`` with the outbox id, or
``refused`` with the reason when the recorded number cannot receive it (the
refusal is kept as a ``failed`` outbox row too, so the request stays visible).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.enums import Direction, MessageStatus, NotifyChannel
from crm_core.exceptions import CrmError
from crm_core.models import Interaction, OutboxMessage
from crm_core.phones import DEFAULT_REGION
from crm_core.services.fax_documents import fax_document
from crm_core.services.outbox import enqueue, message_by_key

REQUESTED = "requested"


def _request_fields(session: Session, row: Interaction, detail: dict[str, Any]) -> dict[str, Any]:
    kind, text = str(detail.get("kind") or ""), str(detail.get("text") or "")
    if row.channel == NotifyChannel.FAX and kind.startswith("fax_"):
        try:
            template, data = fax_document(session, kind[len("fax_"):])
            return {"template": template, "data": data}
        except CrmError:
            pass  # an unknown document: fax the text that was recorded
    subject = "Hotline" if row.channel == NotifyChannel.EMAIL else None
    return {"body": text or kind or "(no text recorded)", "subject": subject}


def adopt_requested_interactions(session: Session, *, region: str = DEFAULT_REGION, limit: int = 10_000) -> int:
    """Queue the IVR's old ``requested`` SMS/fax/e-mail interactions; how many were handled."""
    rows = session.scalars(select(Interaction).where(
        Interaction.direction == Direction.OUTBOUND.value,
        Interaction.channel.in_([NotifyChannel.SMS.value, NotifyChannel.FAX.value, NotifyChannel.EMAIL.value]))
        .order_by(Interaction.id).limit(limit)).all()
    handled = 0
    for row in rows:
        detail = row.detail_dict()
        if detail.get("status") != REQUESTED:
            continue
        key = f"ivr-request-{row.id}"
        fields = dict(key=key, customer_id=row.customer_id, call_uuid=row.call_uuid, created_by="ivr",
                      **_request_fields(session, row, detail))
        try:
            with session.begin_nested():
                message = enqueue(session, row.channel, row.address or "", region=region, **fields)
            outcome = {"status": "queued", "outbox_id": message.id}
        except CrmError as exc:
            message = message_by_key(session, key) or OutboxMessage(
                channel=row.channel, recipient=(row.address or "")[:255], body=fields.get("body") or detail.get("text")
                or str(detail.get("kind") or "-"), idempotency_key=key, status=MessageStatus.FAILED.value,
                last_error=f"refused: {exc.message}", customer_id=row.customer_id, call_uuid=row.call_uuid,
                created_by="ivr", template=fields.get("template"))
            session.add(message)
            session.flush()
            outcome = {"status": "refused", "outbox_id": message.id, "reason": exc.message}
        row.detail = {**detail, **outcome}
        handled += 1
    session.flush()
    return handled
