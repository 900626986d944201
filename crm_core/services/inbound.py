"""What comes back: SMS replies (attached to the customer), opt-outs by keyword, e-mail bounces.

A reply ``TD``, ``退订`` or ``STOP`` (any case, full-width or with
punctuation around it) opts the number out of SMS and queues one
confirmation, which is exempt from the opt-out it confirms. Every inbound
SMS lands on the sender's timeline (``interactions``) when the number belongs
to a customer, linked to the last SMS we sent that number. A provider that
delivers the same inbound message twice (same provider message id) files it
once.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crm_core.enums import Channel, Direction, InboundKind, MessageStatus, NotifyChannel
from crm_core.models import InboundMessage, MessageOptOut, OutboxMessage
from crm_core.phones import DEFAULT_REGION, try_e164
from crm_core.services.customers import find_customer_by_phone
from crm_core.services.outbox import enqueue
from crm_core.services.support import log_interaction

OPT_OUT_KEYWORDS = frozenset({"TD", "退订", "STOP"})
_EDGES = re.compile(r"^[\s\W_]+|[\s\W_]+$", re.UNICODE)


@dataclass(frozen=True)
class InboundResult:
    """What filing an inbound SMS did."""

    message: InboundMessage
    duplicate: bool
    opted_out: bool
    confirmation: OutboxMessage | None


def opt_out_keyword(text: str) -> str | None:
    """The opt-out keyword ``text`` is (``TD``, ``退订``, ``STOP``), or None for any other reply."""
    word = _EDGES.sub("", unicodedata.normalize("NFKC", text or "")).upper()
    return word if word in OPT_OUT_KEYWORDS else None


def opt_out(session: Session, channel: str, address: str, *, source: str, customer_id: int | None = None) -> bool:
    """Stop messages on ``channel`` to ``address`` (normalised already); False when it was opted out before."""
    channel = NotifyChannel(channel).value
    if session.get(MessageOptOut, (channel, address)) is not None:
        return False
    session.add(MessageOptOut(channel=channel, address=address, source=source[:40], customer_id=customer_id))
    session.flush()
    return True


def opt_in(session: Session, channel: str, address: str) -> bool:
    """Allow messages on ``channel`` to ``address`` again; False when it was not opted out."""
    result = session.execute(delete(MessageOptOut).where(MessageOptOut.channel == NotifyChannel(channel).value,
                                                         MessageOptOut.address == address))
    return bool(result.rowcount)


def is_opted_out(session: Session, channel: str, address: str) -> bool:
    """Whether ``address`` asked for no messages on ``channel``."""
    return session.get(MessageOptOut, (NotifyChannel(channel).value, address)) is not None


def receive_sms(session: Session, sender: str, body: str, *, recipient: str | None = None,
                provider: str | None = None, provider_message_id: str | None = None,
                region: str = DEFAULT_REGION) -> InboundResult:
    """File an inbound SMS: customer, timeline, opt-out keyword (confirmed by one SMS back)."""
    if provider_message_id:
        existing = session.scalars(select(InboundMessage).where(
            InboundMessage.provider == provider, InboundMessage.provider_message_id == provider_message_id)).first()
        if existing is not None:
            return InboundResult(existing, True, existing.kind == InboundKind.OPT_OUT, None)
    number = try_e164(sender, region)
    customer = find_customer_by_phone(session, number, region=region) if number else None
    keyword = opt_out_keyword(body)
    last_sent = None
    if number:
        last_sent = session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.channel == NotifyChannel.SMS.value, OutboxMessage.recipient == number,
            OutboxMessage.status.in_([MessageStatus.SENT.value, MessageStatus.DELIVERED.value]))
            .order_by(OutboxMessage.id.desc()).limit(1)).first()
    kind = InboundKind.OPT_OUT if keyword else InboundKind.REPLY
    row = InboundMessage(channel=NotifyChannel.SMS.value, kind=kind.value,
                         sender=number or (sender or "")[:255], recipient=recipient, body=body or "",
                         customer_id=customer.id if customer else None, outbox_message_id=last_sent,
                         provider=provider, provider_message_id=provider_message_id)
    session.add(row)
    session.flush()
    confirmation = None
    if keyword and number:
        opt_out(session, NotifyChannel.SMS, number, source=f"sms {keyword}", customer_id=row.customer_id)
        language = "en" if keyword == "STOP" else (customer.language if customer else "zh")
        confirmation = enqueue(session, NotifyChannel.SMS, number, template="opt_out_confirmation", data={},
                               language=language, key=f"opt-out-confirmation-{row.id}", ignore_opt_out=True,
                               customer_id=row.customer_id, created_by="opt-out")
    if customer is not None:
        log_interaction(session, Channel.SMS, customer_id=customer.id, direction=Direction.INBOUND, address=number,
                        summary=("sms: opted out (" + keyword + ")") if keyword else f"sms: {body[:200]}",
                        detail={"event": "sms_in", "inbound_id": row.id, "text": body[:1000],
                                "opt_out": bool(keyword), "reply_to": last_sent})
    return InboundResult(row, False, bool(keyword), confirmation)


def record_bounce(session: Session, message_id: int, *, reason: str, reporter: str = "MAILER-DAEMON",
                  report_id: str | None = None) -> InboundMessage | None:
    """An e-mail came back undeliverable: the message fails with the reason, the bounce is filed once."""
    message = session.get(OutboxMessage, message_id)
    if message is None or message.channel != NotifyChannel.EMAIL:
        return None
    if report_id:
        existing = session.scalars(select(InboundMessage).where(
            InboundMessage.provider == "smtp-bounce", InboundMessage.provider_message_id == report_id)).first()
        if existing is not None:
            return existing
    if message.status in (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.SENDING):
        message.status = MessageStatus.FAILED.value
        message.delivered_at = None
    message.last_error = f"bounced: {reason}"[:2000]
    message.result = {**(message.result or {}), "bounce": reason[:500]}
    row = InboundMessage(channel=NotifyChannel.EMAIL.value, kind=InboundKind.BOUNCE.value, sender=reporter[:255],
                         recipient=message.recipient[:100], body=reason, customer_id=message.customer_id,
                         outbox_message_id=message.id, provider="smtp-bounce", provider_message_id=report_id)
    session.add(row)
    session.flush()
    return row


def recent_inbound(session: Session, *, customer_id: int | None = None, limit: int = 50) -> list[InboundMessage]:
    """Newest inbound messages first (of one customer when given)."""
    stmt = select(InboundMessage).order_by(InboundMessage.id.desc()).limit(limit)
    if customer_id is not None:
        stmt = stmt.where(InboundMessage.customer_id == customer_id)
    return list(session.scalars(stmt))
