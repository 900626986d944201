"""Catalogue: products callers can order by a short phone code, their suppliers, categories and promotions.

``phone_code`` is what a TV ad shows and a caller keys in ("press 1234#"), so
it is short, numeric and unique; ``description`` is the text the IVR speaks
(``description_en`` to callers who chose English; ``text_for`` picks one).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Index, Integer, Numeric, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.db import Base, check_in
from crm_core.enums import DiscountRule, ProductStatus
from crm_core.types import created_at, intpk, money, str20, str40, str100, updated_at

promotion_products = Table(
    "promotion_products",
    Base.metadata,
    Column("promotion_id", ForeignKey("promotions.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[intpk]
    name: Mapped[str100] = mapped_column(unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))

    products: Mapped[list[Product]] = relationship(back_populates="category")


class Supplier(Base):
    __tablename__ = "suppliers"

    id: Mapped[intpk]
    name: Mapped[str100] = mapped_column(unique=True)
    contact_name: Mapped[str100 | None]
    phone: Mapped[str20 | None]
    email: Mapped[str | None]
    active: Mapped[bool] = mapped_column(Boolean, server_default="1")
    created_at: Mapped[created_at]

    products: Mapped[list[Product]] = relationship(back_populates="supplier")


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        check_in("status", ProductStatus),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint(
            "length(phone_code) BETWEEN 1 AND 8 AND ltrim(phone_code, '0123456789') = ''", name="phone_code_digits"
        ),
    )

    id: Mapped[intpk]
    sku: Mapped[str40] = mapped_column(unique=True)
    phone_code: Mapped[str20] = mapped_column(unique=True, doc="short digits a caller keys in the IVR")
    name: Mapped[str100]
    description: Mapped[str | None] = mapped_column(Text, doc="what the IVR reads out (TTS), in Chinese")
    name_en: Mapped[str100 | None] = mapped_column(doc="English name")
    description_en: Mapped[str | None] = mapped_column(Text, doc="what the IVR reads out to English callers")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"), index=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id", ondelete="SET NULL"), index=True)
    price: Mapped[money]
    status: Mapped[str20] = mapped_column(server_default=ProductStatus.ACTIVE.value)
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    category: Mapped[Category | None] = relationship(back_populates="products")
    supplier: Mapped[Supplier | None] = relationship(back_populates="products")
    promotions: Mapped[list[Promotion]] = relationship(secondary=promotion_products, back_populates="products")

    def text_for(self, language: str) -> str | None:
        """The TTS description in ``language`` ('en' or anything else for Chinese), falling back to Chinese."""
        if language.lower().startswith("en") and self.description_en:
            return self.description_en
        return self.description

    def __repr__(self) -> str:
        return f"<Product {self.sku} code={self.phone_code}>"


class Promotion(Base):
    """A time-boxed offer the IVR announces and orders apply."""

    __tablename__ = "promotions"
    __table_args__ = (
        check_in("rule", DiscountRule),
        CheckConstraint("ends_at > starts_at", name="window_ordered"),
        CheckConstraint("rule <> 'percent' OR (percent > 0 AND percent <= 100)", name="percent_rule_valid"),
        CheckConstraint("rule <> 'amount_off' OR amount_off > 0", name="amount_off_rule_valid"),
        CheckConstraint(
            "rule <> 'buy_x_get_y' OR (buy_quantity >= 1 AND free_quantity >= 1)", name="buy_x_get_y_rule_valid"
        ),
        Index("ix_promotions_window", "starts_at", "ends_at"),
    )

    id: Mapped[intpk]
    name: Mapped[str100]
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    rule: Mapped[str20]
    percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    amount_off: Mapped[money | None]
    buy_quantity: Mapped[int | None] = mapped_column(Integer)
    free_quantity: Mapped[int | None] = mapped_column(Integer)
    announcement: Mapped[str | None] = mapped_column(Text, doc="what the IVR plays while it runs")
    active: Mapped[bool] = mapped_column(Boolean, server_default="1")
    created_at: Mapped[created_at]

    products: Mapped[list[Product]] = relationship(secondary=promotion_products, back_populates="promotions")

    def discount_for(self, unit_price: Decimal, quantity: int) -> Decimal:
        """The discount this promotion gives a line of ``quantity`` at ``unit_price``."""
        return compute_discount(
            self.rule, self.percent, self.amount_off, self.buy_quantity, self.free_quantity, unit_price, quantity
        )


def compute_discount(
    rule: str,
    percent: Decimal | None,
    amount_off: Decimal | None,
    buy_quantity: int | None,
    free_quantity: int | None,
    unit_price: Decimal,
    quantity: int,
) -> Decimal:
    """A discount rule applied to one order line (shared by the model and the order fast path)."""
    gross = unit_price * quantity
    if rule == DiscountRule.PERCENT and percent is not None:
        return (gross * percent / 100).quantize(Decimal("0.01"))
    if rule == DiscountRule.AMOUNT_OFF and amount_off is not None:
        return min(gross, amount_off * quantity)
    if rule == DiscountRule.BUY_X_GET_Y and buy_quantity and free_quantity:
        group = buy_quantity + free_quantity
        return unit_price * (quantity // group) * free_quantity
    return Decimal("0.00")
