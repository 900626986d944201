"""Messaging: one durable outbox for SMS, e-mail, fax and voice, its templates, and what comes back in.

``outbox_messages`` is the only way anything leaves: a row is queued with its
rendered text and an idempotency key, claimed by a dispatcher (``sending``,
with a lease), and finished by the gateway's answer. The key is unique, so a
request made twice is one message, and it travels to the gateway as the
client reference, so a send repeated after a crash is recognised there.

``captured_messages`` is the development gateway's mailbox (what would have
left), ``inbound_messages`` the SMS replies and e-mail bounces,
``inbound_faxes`` every fax the switch received (filed or failed),
``message_opt_outs`` who said stop on which channel, ``message_gateways`` the
per-channel gateway settings edited in the admin UI (the secret is write-only).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db import Base, check_in
from crm_core.enums import FaxStatus, GatewayKind, InboundKind, MessageStatus, NotifyChannel
from crm_core.types import created_at, intpk, json_doc, str20, str40, str100, updated_at

_QUEUED = text("status = 'queued'")
_SENDING = text("status = 'sending'")


class OutboxMessage(Base):
    """One message to send, from request to the gateway's last word about it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        check_in("channel", NotifyChannel),
        check_in("status", MessageStatus),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("max_attempts >= 1", name="max_attempts_positive"),
        # the dispatcher's claim: due queued messages of a channel, oldest first
        Index("ix_outbox_messages_due", "channel", "next_attempt_at", postgresql_where=_QUEUED,
              sqlite_where=_QUEUED),
        # recovery: claims whose lease ran out
        Index("ix_outbox_messages_lease", "lease_until", postgresql_where=_SENDING, sqlite_where=_SENDING),
        Index("ix_outbox_messages_status_created_at", "status", "created_at"),
        Index("ix_outbox_messages_customer_id_created_at", "customer_id", "created_at"),
        Index("ix_outbox_messages_provider_message_id", "provider_message_id"),
    )

    id: Mapped[intpk]
    channel: Mapped[str20]
    recipient: Mapped[str] = mapped_column(String(255), doc="E.164 number or e-mail address")
    template: Mapped[str40 | None]
    language: Mapped[str20] = mapped_column(server_default="zh")
    merge_data: Mapped[json_doc | None]
    subject: Mapped[str | None]
    body: Mapped[str] = mapped_column(Text, doc="rendered when queued: what the recipient gets")
    body_html: Mapped[str | None] = mapped_column(Text)
    attachment_path: Mapped[str | None] = mapped_column(Text, doc="the fax document (TIFF) once rendered")
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str20] = mapped_column(server_default=MessageStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    max_attempts: Mapped[int] = mapped_column(Integer, server_default="5")
    next_attempt_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    lease_until: Mapped[dt.datetime | None]
    claimed_by: Mapped[str100 | None] = mapped_column(doc="host:pid of the dispatcher holding the claim")
    expires_at: Mapped[dt.datetime | None]
    provider: Mapped[str20 | None] = mapped_column(doc="the gateway kind that took it")
    provider_message_id: Mapped[str100 | None]
    segments: Mapped[int | None] = mapped_column(Integer, doc="SMS parts (GSM-7 153/160, UCS-2 67/70)")
    result: Mapped[json_doc | None] = mapped_column(doc="gateway details: fax pages and result text, DLR codes")
    last_error: Mapped[str | None] = mapped_column(Text)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    call_uuid: Mapped[str40 | None]
    created_by: Mapped[str40 | None]
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]
    sent_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.channel} {self.status} {self.recipient!r}>"


class MessageTemplate(Base):
    """Text of one kind of message, per channel and language; ``{field}`` placeholders take merge data."""

    __tablename__ = "message_templates"
    __table_args__ = (
        check_in("channel", NotifyChannel),
        UniqueConstraint("name", "channel", "language"),
    )

    id: Mapped[intpk]
    name: Mapped[str40]
    channel: Mapped[str20]
    language: Mapped[str20] = mapped_column(server_default="zh")
    subject: Mapped[str | None]
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[str | None] = mapped_column(doc="merge fields callers supply, comma-separated (own templates)")
    description: Mapped[str | None]
    active: Mapped[bool] = mapped_column(Boolean, server_default="1")
    updated_by: Mapped[str40 | None]
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    def __repr__(self) -> str:
        return f"<MessageTemplate {self.name} {self.channel} {self.language}>"


class CapturedMessage(Base):
    """What the capture gateway (development default) accepted instead of sending it anywhere."""

    __tablename__ = "captured_messages"
    __table_args__ = (check_in("channel", NotifyChannel), Index("ix_captured_messages_captured_at", "captured_at"))

    id: Mapped[intpk]
    channel: Mapped[str20]
    recipient: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str | None]
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    attachment_path: Mapped[str | None] = mapped_column(Text)
    client_ref: Mapped[str] = mapped_column(String(120), unique=True, doc="the outbox idempotency key")
    provider_message_id: Mapped[str40]
    captured_at: Mapped[created_at]


class InboundMessage(Base):
    """An SMS that came in (reply, opt-out) or an e-mail bounce, attached to the customer when known."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        check_in("channel", NotifyChannel),
        check_in("kind", InboundKind),
        UniqueConstraint("provider", "provider_message_id"),
        Index("ix_inbound_messages_customer_id_received_at", "customer_id", "received_at"),
        Index("ix_inbound_messages_received_at", "received_at"),
    )

    id: Mapped[intpk]
    channel: Mapped[str20]
    kind: Mapped[str20] = mapped_column(server_default=InboundKind.REPLY.value)
    sender: Mapped[str] = mapped_column(String(255), doc="E.164 when it parsed, as received otherwise")
    recipient: Mapped[str100 | None] = mapped_column(doc="our number or address it was sent to")
    body: Mapped[str] = mapped_column(Text)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id", ondelete="SET NULL"))
    provider: Mapped[str20 | None]
    provider_message_id: Mapped[str100 | None]
    received_at: Mapped[created_at]


class InboundFax(Base):
    """One fax the switch received: the TIFF kept, a PDF and thumbnail made, or the reason it failed."""

    __tablename__ = "inbound_faxes"
    __table_args__ = (
        check_in("status", FaxStatus),
        CheckConstraint("pages >= 0", name="pages_not_negative"),
        Index("ix_inbound_faxes_customer_id_received_at", "customer_id", "received_at"),
        Index("ix_inbound_faxes_received_at", "received_at"),
    )

    id: Mapped[intpk]
    call_uuid: Mapped[str40] = mapped_column(unique=True)
    status: Mapped[str20]
    sender: Mapped[str40 | None] = mapped_column(doc="caller ID as the switch gave it")
    sender_e164: Mapped[str20 | None]
    dnis: Mapped[str20 | None] = mapped_column(doc="our fax number that was called")
    remote_station_id: Mapped[str100 | None]
    pages: Mapped[int] = mapped_column(Integer, server_default="0")
    total_pages: Mapped[int | None] = mapped_column(Integer)
    result_code: Mapped[int | None] = mapped_column(Integer)
    result_text: Mapped[str | None]
    error: Mapped[str | None] = mapped_column(Text, doc="why it could not be filed, when it could not")
    tiff_path: Mapped[str | None] = mapped_column(Text)
    pdf_path: Mapped[str | None] = mapped_column(Text)
    thumbnail_path: Mapped[str | None] = mapped_column(Text)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    assigned_by: Mapped[str40 | None]
    assigned_at: Mapped[dt.datetime | None]
    received_at: Mapped[created_at]

    def __repr__(self) -> str:
        return f"<InboundFax {self.id} {self.status} from {self.sender!r}>"


class MessageOptOut(Base):
    """A recipient who asked for no more messages on a channel (``TD``, ``退订``, ``STOP``, or an agent)."""

    __tablename__ = "message_opt_outs"
    __table_args__ = (check_in("channel", NotifyChannel),)

    channel: Mapped[str20] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(255), primary_key=True, doc="E.164 or lower-case e-mail")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    source: Mapped[str40 | None] = mapped_column(doc="the keyword received, or who added it")
    created_at: Mapped[created_at]


class MessageGateway(Base):
    """A channel's gateway as set in the admin UI; overrides the settings file for that channel."""

    __tablename__ = "message_gateways"
    __table_args__ = (check_in("channel", NotifyChannel), check_in("kind", GatewayKind))

    id: Mapped[intpk]
    channel: Mapped[str20] = mapped_column(unique=True)
    kind: Mapped[str20]
    enabled: Mapped[bool] = mapped_column(Boolean, server_default="1")
    options: Mapped[json_doc | None] = mapped_column(doc="host, port, URL, sender id... (nothing secret)")
    secret: Mapped[str | None] = mapped_column(Text, doc="password / API secret: written, never shown")
    updated_by: Mapped[str40 | None]
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    def options_dict(self) -> dict[str, Any]:
        """The non-secret options, empty when none were set."""
        return dict(self.options or {})
