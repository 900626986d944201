"""Outbound and marketing: campaigns with their contacts, the do-not-call list and media plans.

A campaign carries its pacing (mode, ratio, abandonment cap), its compliance
settings (calling hours in the contacts' time zone, public holidays, attempts
and per-disposition retry spacing, ring time, one caller ID) and what an
answered call meets (agents, an IVR script or a voice file, an answering
machine policy). ``pacing_version`` grows with every live edit so a running
dialer notices and reloads. Attempts, survey questions and answers live in
``crm_core.models.campaign_attempts``.

A media plan ties a DNIS (the number an ad shows) to where and when it airs,
so inbound calls and orders can be credited to the ad that caused them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, Numeric, Text, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.db import Base, check_in
from crm_core.enums import AmdPolicy, BlendRule, CampaignMode, CampaignStatus, ContactStatus, MediaKind
from crm_core.types import created_at, intpk, json_doc, money, str20, str40, str100, str255, updated_at


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        check_in("mode", CampaignMode),
        check_in("status", CampaignStatus),
        CheckConstraint("max_attempts >= 1", name="max_attempts_positive"),
        CheckConstraint("retry_minutes >= 0", name="retry_not_negative"),
        CheckConstraint("abandon_cap_percent >= 0 AND abandon_cap_percent <= 100", name="abandon_cap_range"),
        check_in("amd_policy", AmdPolicy),
        check_in("blend_rule", BlendRule),
        CheckConstraint("ring_seconds >= 15 AND ring_seconds <= 120", name="ring_seconds_range"),
        CheckConstraint("dial_ratio >= 1 AND dial_ratio <= 10", name="dial_ratio_range"),
        CheckConstraint("pacing_version >= 1", name="pacing_version_positive"),
    )

    id: Mapped[intpk]
    name: Mapped[str100] = mapped_column(unique=True)
    mode: Mapped[str20] = mapped_column(server_default=CampaignMode.PROGRESSIVE.value)
    status: Mapped[str20] = mapped_column(server_default=CampaignStatus.DRAFT.value)
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id", ondelete="SET NULL"))
    ivr_script: Mapped[str40 | None]
    caller_id: Mapped[str20 | None]
    calling_hours_start: Mapped[dt.time] = mapped_column(Time, server_default="09:00:00")
    calling_hours_end: Mapped[dt.time] = mapped_column(Time, server_default="21:00:00")
    max_attempts: Mapped[int] = mapped_column(Integer, server_default="3")
    retry_minutes: Mapped[int] = mapped_column(Integer, server_default="60")
    abandon_cap_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), server_default="3")
    starts_at: Mapped[dt.datetime | None]
    ends_at: Mapped[dt.datetime | None]
    created_by: Mapped[str40 | None]
    created_at: Mapped[created_at]
    # -- pacing and compliance (migration 0012) --
    dial_ratio: Mapped[Decimal] = mapped_column(Numeric(4, 2), server_default="2",
                                                doc="calls per free agent in ratio mode")
    retry_rules: Mapped[json_doc | None] = mapped_column(
        doc="per disposition: {busy|no_answer|machine|failed|abandoned: {retry_minutes, max_attempts}}")
    timezone: Mapped[str40] = mapped_column(server_default="Asia/Shanghai",
                                            doc="the contacts' time zone unless a contact has its own")
    skip_holidays: Mapped[bool] = mapped_column(Boolean, server_default="0",
                                                doc="no calls on the public holidays of holiday_country")
    holiday_country: Mapped[str20] = mapped_column(server_default="CN")
    ring_seconds: Mapped[int] = mapped_column(Integer, server_default="30", doc="ring time before no answer")
    amd_policy: Mapped[str20] = mapped_column(server_default=AmdPolicy.OFF.value)
    voice_file: Mapped[str255 | None] = mapped_column(doc="recorded message: the campaign's, or left on machines")
    abandon_message: Mapped[str255 | None] = mapped_column(
        doc="identification played to a call no agent takes in time (default: the dialer's)")
    blend_rule: Mapped[str20] = mapped_column(server_default=BlendRule.DEDICATED.value)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("customer_segments.id", ondelete="SET NULL"))
    pacing_version: Mapped[int] = mapped_column(Integer, server_default="1")
    status_changed_at: Mapped[dt.datetime | None]

    contacts: Mapped[list[CampaignContact]] = relationship(back_populates="campaign", cascade="all, delete-orphan")
    segment: Mapped[CustomerSegment | None] = relationship()


class CampaignContact(Base):
    __tablename__ = "campaign_contacts"
    __table_args__ = (
        check_in("status", ContactStatus),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_campaign_contacts_due", "campaign_id", "status", "next_attempt_at"),
        Index("ix_campaign_contacts_campaign_id_number", "campaign_id", "number"),
    )

    id: Mapped[intpk]
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    number: Mapped[str20]
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[dt.datetime | None]
    last_attempt_at: Mapped[dt.datetime | None]
    last_result: Mapped[str40 | None]
    status: Mapped[str20] = mapped_column(server_default=ContactStatus.PENDING.value)
    data: Mapped[json_doc | None] = mapped_column(doc="merge fields for the script")
    timezone: Mapped[str40 | None] = mapped_column(doc="the contact's own time zone (the campaign's when empty)")
    skip_reason: Mapped[str40 | None] = mapped_column(doc="why a skipped contact is never dialled")

    campaign: Mapped[Campaign] = relationship(back_populates="contacts")


class CustomerSegment(Base):
    """A saved customer selection as data (a validated JSON definition), evaluated into contacts at start."""

    __tablename__ = "customer_segments"

    id: Mapped[intpk]
    name: Mapped[str100] = mapped_column(unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    definition: Mapped[json_doc] = mapped_column(doc="see crm_core.services.segments")
    created_by: Mapped[str40 | None]
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]


class DoNotCall(Base):
    __tablename__ = "do_not_call"

    number: Mapped[str20] = mapped_column(primary_key=True, doc="E.164")
    reason: Mapped[str | None]
    added_by: Mapped[str40 | None]
    added_at: Mapped[created_at]
    expires_at: Mapped[dt.datetime | None]


class MediaPlan(Base):
    """One ad placement: the medium, the DNIS it advertises, budget and air times."""

    __tablename__ = "media_plans"
    __table_args__ = (check_in("kind", MediaKind), Index("ix_media_plans_dnis", "dnis"))

    id: Mapped[intpk]
    name: Mapped[str100]
    kind: Mapped[str20]
    dnis: Mapped[str20]
    outlet: Mapped[str100 | None] = mapped_column(doc="TV channel, paper or SMS list")
    budget: Mapped[money | None]
    active: Mapped[bool] = mapped_column(Boolean, server_default="1")
    created_at: Mapped[created_at]

    air_times: Mapped[list[MediaAirTime]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="MediaAirTime.starts_at"
    )


class MediaAirTime(Base):
    __tablename__ = "media_air_times"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="window_ordered"),
        Index("ix_media_air_times_plan_id_starts_at", "plan_id", "starts_at"),
    )

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(ForeignKey("media_plans.id", ondelete="CASCADE"))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]

    plan: Mapped[MediaPlan] = relationship(back_populates="air_times")
