"""Every dial attempt of a campaign contact, and the survey questions and per-contact answers of a campaign.

An attempt row is written *before* the switch is asked to dial (the dialer
claims the contact and records the attempt in one transaction) and closed
when the result arrives. While it is open (``ended_at`` NULL) it is also the
"in flight" marker of its number: a partial unique index allows one open
attempt per number across every campaign and every engine process, so two
campaigns never ring one person at once, and an engine that restarts
mid-campaign finds its open attempts (``claimed_by``) and resolves them
instead of dialling the number again. ``call_uuid`` is the ``origination_uuid``
the dialer chose: the call's CDR (``call_detail_records.uuid``) has the same.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.db import Base, check_in
from crm_core.enums import AttemptResult, CampaignMode
from crm_core.types import created_at, intpk, str20, str40

if TYPE_CHECKING:
    from crm_core.models.campaigns import Campaign


class CampaignAttempt(Base):
    __tablename__ = "campaign_attempts"
    __table_args__ = (
        check_in("result", AttemptResult),
        check_in("mode", CampaignMode),
        CheckConstraint("ended_at IS NOT NULL OR result IS NULL", name="open_attempt_has_no_result"),
        CheckConstraint("ended_at IS NULL OR result IS NOT NULL", name="closed_attempt_has_result"),
        CheckConstraint("wait_to_agent_seconds IS NULL OR wait_to_agent_seconds >= 0", name="wait_not_negative"),
        CheckConstraint("talk_seconds IS NULL OR talk_seconds >= 0", name="talk_not_negative"),
        Index("ix_campaign_attempts_campaign_id_started_at", "campaign_id", "started_at"),
        Index("ix_campaign_attempts_contact_id", "contact_id"),
        # the cross-campaign, cross-process "in flight" claim of a number
        Index("uq_campaign_attempts_open_number", "number", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
        # restart recovery: an engine's open attempts
        Index("ix_campaign_attempts_claimed_by_ended_at", "claimed_by", "ended_at"),
    )

    id: Mapped[intpk]
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("campaign_contacts.id", ondelete="CASCADE"))
    number: Mapped[str20] = mapped_column(doc="E.164, as dialled")
    mode: Mapped[str20]
    pacing_version: Mapped[int] = mapped_column(Integer, server_default="1")
    caller_id: Mapped[str20 | None]
    call_uuid: Mapped[str40 | None] = mapped_column(unique=True, doc="origination_uuid = the CDR's uuid")
    claimed_by: Mapped[str40 | None] = mapped_column(doc="the engine process that dials it")
    started_at: Mapped[created_at]
    answered_at: Mapped[dt.datetime | None]
    connected_at: Mapped[dt.datetime | None] = mapped_column(doc="an agent took the call")
    ended_at: Mapped[dt.datetime | None]
    result: Mapped[str20 | None]
    hangup_cause: Mapped[str40 | None]
    amd_result: Mapped[str20 | None] = mapped_column(doc="HUMAN, MACHINE or NOTSURE when detection ran")
    message_left: Mapped[bool] = mapped_column(Boolean, server_default="0", doc="the voice file was played")
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    wait_to_agent_seconds: Mapped[float | None] = mapped_column(Float)
    talk_seconds: Mapped[float | None] = mapped_column(Float)

    answers: Mapped[list[CampaignAnswer]] = relationship(back_populates="attempt", cascade="all, delete-orphan",
                                                         order_by="CampaignAnswer.id")
    campaign: Mapped[Campaign] = relationship()


class CampaignQuestion(Base):
    """One DTMF survey question of a campaign: its key, what is said, which keys answer it."""

    __tablename__ = "campaign_questions"
    __table_args__ = (
        UniqueConstraint("campaign_id", "key"),
        UniqueConstraint("campaign_id", "position"),
        CheckConstraint("position >= 1", name="position_positive"),
    )

    id: Mapped[intpk]
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str40]
    prompt: Mapped[str] = mapped_column(Text, doc="text with merge fields, spoken by TTS")
    valid_digits: Mapped[str20] = mapped_column(server_default="12345")


class CampaignAnswer(Base):
    """One contact's answer to one survey question, on the attempt that collected it."""

    __tablename__ = "campaign_answers"
    __table_args__ = (
        UniqueConstraint("attempt_id", "question_id"),
        Index("ix_campaign_answers_question_id", "question_id"),
        Index("ix_campaign_answers_contact_id", "contact_id"),
    )

    id: Mapped[intpk]
    attempt_id: Mapped[int] = mapped_column(ForeignKey("campaign_attempts.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("campaign_contacts.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("campaign_questions.id", ondelete="CASCADE"))
    answer: Mapped[str20]
    answered_at: Mapped[created_at]

    attempt: Mapped[CampaignAttempt] = relationship(back_populates="answers")
    question: Mapped[CampaignQuestion] = relationship()
