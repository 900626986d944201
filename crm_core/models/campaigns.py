"""Outbound and marketing: campaigns with their contacts, the do-not-call list and media plans.

A media plan ties a DNIS (the number an ad shows) to where and when it airs,
so inbound calls and orders can be credited to the ad that caused them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, Numeric, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.db import Base, check_in
from crm_core.enums import CampaignMode, CampaignStatus, ContactStatus, MediaKind
from crm_core.types import created_at, intpk, json_doc, money, str20, str40, str100


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        check_in("mode", CampaignMode),
        check_in("status", CampaignStatus),
        CheckConstraint("max_attempts >= 1", name="max_attempts_positive"),
        CheckConstraint("retry_minutes >= 0", name="retry_not_negative"),
        CheckConstraint("abandon_cap_percent >= 0 AND abandon_cap_percent <= 100", name="abandon_cap_range"),
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

    contacts: Mapped[list[CampaignContact]] = relationship(back_populates="campaign", cascade="all, delete-orphan")


class CampaignContact(Base):
    __tablename__ = "campaign_contacts"
    __table_args__ = (
        check_in("status", ContactStatus),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_campaign_contacts_due", "campaign_id", "status", "next_attempt_at"),
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

    campaign: Mapped[Campaign] = relationship(back_populates="contacts")


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
