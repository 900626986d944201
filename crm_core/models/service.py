"""After-sales service: complaints, voicemails, callback requests, the knowledge base and every interaction.

``interactions`` is the customer's timeline the agent desk pops: one row per
call, IVR session, IM chat, e-mail, SMS or fax, with a summary and JSON detail.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.db import Base, check_in
from crm_core.enums import CallbackStatus, Channel, ComplaintCategory, ComplaintStatus, Direction
from crm_core.types import created_at, intpk, json_doc, str20, str40, str100, updated_at


class Voicemail(Base):
    __tablename__ = "voicemails"
    __table_args__ = (
        CheckConstraint("duration_seconds >= 0", name="duration_not_negative"),
        Index("ix_voicemails_created_at", "created_at"),
    )

    id: Mapped[intpk]
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    caller: Mapped[str20 | None] = mapped_column(doc="E.164 when the caller ID parsed, raw otherwise")
    audio_path: Mapped[str]
    duration_seconds: Mapped[float]
    call_uuid: Mapped[str40 | None] = mapped_column(index=True)
    mailbox: Mapped[str40] = mapped_column(server_default="complaints")
    heard: Mapped[bool] = mapped_column(Boolean, server_default="0")
    transcript: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created_at]


class Complaint(Base):
    __tablename__ = "complaints"
    __table_args__ = (
        check_in("category", ComplaintCategory),
        check_in("channel", Channel),
        check_in("status", ComplaintStatus),
        Index("ix_complaints_status_created_at", "status", "created_at"),
    )

    id: Mapped[intpk]
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    category: Mapped[str20]
    channel: Mapped[str20]
    status: Mapped[str20] = mapped_column(server_default=ComplaintStatus.OPEN.value)
    description: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)
    voicemail_id: Mapped[int | None] = mapped_column(ForeignKey("voicemails.id", ondelete="SET NULL"))
    assigned_to: Mapped[str40 | None]
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]
    resolved_at: Mapped[dt.datetime | None]
    resolved_by: Mapped[str40 | None]

    voicemail: Mapped[Voicemail | None] = relationship()


class KnowledgeArticle(Base):
    """A question and its answer, read by agents and spoken by the IVR once approved."""

    __tablename__ = "knowledge_articles"

    id: Mapped[intpk]
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    keywords: Mapped[str | None] = mapped_column(doc="space-separated extra search words")
    hit_count: Mapped[int] = mapped_column(Integer, server_default="0")
    approved: Mapped[bool] = mapped_column(Boolean, server_default="0")
    created_by: Mapped[str40 | None]
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]


class CallbackRequest(Base):
    """A caller who chose to be called back instead of waiting, and when they'd like it."""

    __tablename__ = "callback_requests"
    __table_args__ = (
        check_in("status", CallbackStatus),
        CheckConstraint(
            "window_start IS NULL OR window_end IS NULL OR window_end > window_start", name="window_ordered"
        ),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_callback_requests_status_window_start", "status", "window_start"),
    )

    id: Mapped[intpk]
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    number: Mapped[str20]
    queue_name: Mapped[str40 | None]
    window_start: Mapped[dt.datetime | None]
    window_end: Mapped[dt.datetime | None]
    status: Mapped[str20] = mapped_column(server_default=CallbackStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    call_uuid: Mapped[str40 | None]
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"),
                                                 doc="the agent who claimed or handles the request")
    note: Mapped[str | None] = mapped_column(Text, doc="one line per step: who did what")
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]


class Interaction(Base):
    """One touch with a customer on any channel."""

    __tablename__ = "interactions"
    __table_args__ = (
        check_in("channel", Channel),
        check_in("direction", Direction),
        Index("ix_interactions_customer_id_occurred_at", "customer_id", "occurred_at"),
        Index("ix_interactions_channel_occurred_at", "channel", "occurred_at"),  # reports (migration 0004)
    )

    id: Mapped[intpk]
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    channel: Mapped[str20]
    direction: Mapped[str20] = mapped_column(server_default=Direction.INBOUND.value)
    address: Mapped[str100 | None] = mapped_column(doc="number, e-mail address or IM handle")
    summary: Mapped[str | None]
    detail: Mapped[json_doc | None]
    call_uuid: Mapped[str40 | None] = mapped_column(index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    occurred_at: Mapped[created_at]

    def detail_dict(self) -> dict[str, Any]:
        """The detail document, empty when none was logged."""
        return dict(self.detail or {})
