"""Customers: who calls, how to reach them, their points ledger, addresses, tags and blacklist marks.

``points_balance`` is a cached sum of ``points_entries.delta``; only the points
services change either, in the same statement pair, so the two never drift.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.db import Base, check_in
from crm_core.enums import MemberLevel, NotifyChannel, PhoneKind, PointsKind
from crm_core.types import created_at, intpk, str20, str40, str100, updated_at

# ``Order`` in the annotations below is resolved by name from the declarative registry (no import: the
# orders module refers back to Customer, and a circle of imports is what the layers test refuses).


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        check_in("member_level", MemberLevel),
        check_in("notify_channel", NotifyChannel),
        CheckConstraint("points_balance >= 0", name="points_balance_not_negative"),
    )

    id: Mapped[intpk]
    name: Mapped[str100]
    name_phonetic: Mapped[str100 | None] = mapped_column(doc="pinyin or kana, for TTS and search")
    email: Mapped[str | None]
    birthday: Mapped[dt.date | None] = mapped_column(Date)
    language: Mapped[str20] = mapped_column(server_default="zh")
    notify_channel: Mapped[str20] = mapped_column(server_default=NotifyChannel.SMS.value)
    member_level: Mapped[str20] = mapped_column(server_default=MemberLevel.NORMAL.value)
    points_balance: Mapped[int] = mapped_column(Integer, server_default="0")
    is_blacklisted: Mapped[bool] = mapped_column(Boolean, server_default="0")
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    phones: Mapped[list[CustomerPhone]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerPhone.id"
    )
    addresses: Mapped[list[Address]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Address.id"
    )
    tags: Mapped[list[CustomerTag]] = relationship(back_populates="customer", cascade="all, delete-orphan")
    points_entries: Mapped[list[PointsEntry]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="PointsEntry.id"
    )
    blacklist_marks: Mapped[list[BlacklistMark]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="BlacklistMark.id"
    )
    orders: Mapped[list[Order]] = relationship(back_populates="customer")  # noqa: F821 (resolved by name)

    def __repr__(self) -> str:
        return f"<Customer {self.id} {self.name!r}>"


class CustomerPhone(Base):
    """One number of a customer, always stored in E.164 so any caller-ID format finds it."""

    __tablename__ = "customer_phones"
    __table_args__ = (
        UniqueConstraint("customer_id", "e164"),
        check_in("kind", PhoneKind),
        CheckConstraint("e164 LIKE '+%'", name="e164_format"),
        Index("ix_customer_phones_e164", "e164"),
    )

    id: Mapped[intpk]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    e164: Mapped[str20]
    kind: Mapped[str20] = mapped_column(server_default=PhoneKind.MOBILE.value)
    is_primary: Mapped[bool] = mapped_column(Boolean, server_default="0")
    created_at: Mapped[created_at]

    customer: Mapped[Customer] = relationship(back_populates="phones")


class PointsEntry(Base):
    """One movement of member points; the sum of ``delta`` is the balance."""

    __tablename__ = "points_entries"
    __table_args__ = (
        check_in("kind", PointsKind),
        CheckConstraint("delta <> 0", name="delta_not_zero"),
        CheckConstraint(
            "(kind = 'earn' AND delta > 0) OR (kind IN ('redeem', 'expire') AND delta < 0) OR kind = 'adjust'",
            name="delta_sign_matches_kind",
        ),
        CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
        Index("ix_points_entries_customer_id_created_at", "customer_id", "created_at"),
    )

    id: Mapped[intpk]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str20]
    delta: Mapped[int]
    balance_after: Mapped[int]
    reason: Mapped[str | None]
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    created_by: Mapped[str40 | None]
    created_at: Mapped[created_at]

    customer: Mapped[Customer] = relationship(back_populates="points_entries")


class Address(Base):
    __tablename__ = "addresses"

    id: Mapped[intpk]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str100]
    phone: Mapped[str20 | None]
    province: Mapped[str40 | None]
    city: Mapped[str40 | None]
    district: Mapped[str40 | None]
    line1: Mapped[str]
    line2: Mapped[str | None]
    postcode: Mapped[str20 | None]
    is_default: Mapped[bool] = mapped_column(Boolean, server_default="0")
    created_at: Mapped[created_at]

    customer: Mapped[Customer] = relationship(back_populates="addresses")

    def one_line(self) -> str:
        """The address as one line, for a shipping label or a TTS read-back."""
        return self.join_parts(self.province, self.city, self.district, self.line1, self.line2, self.postcode)

    @staticmethod
    def join_parts(*parts: str | None) -> str:
        """Province, city, district, lines and postcode as one line (the parts given, in that order)."""
        return " ".join(p for p in parts if p)


class CustomerTag(Base):
    __tablename__ = "customer_tags"
    __table_args__ = (Index("ix_customer_tags_tag", "tag"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str40] = mapped_column(primary_key=True)
    created_at: Mapped[created_at]

    customer: Mapped[Customer] = relationship(back_populates="tags")


class BlacklistMark(Base):
    """One person's report that a customer abuses the line; enough active ones blacklist the customer.

    Unmarking revokes marks (who, when, why) instead of deleting them: only marks
    with ``revoked_at`` NULL count.
    """

    __tablename__ = "blacklist_marks"

    id: Mapped[intpk]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    marked_by: Mapped[str40]
    reason: Mapped[str]
    created_at: Mapped[created_at]
    revoked_at: Mapped[dt.datetime | None]
    revoked_by: Mapped[str40 | None]
    revoke_reason: Mapped[str | None]

    customer: Mapped[Customer] = relationship(back_populates="blacklist_marks")
