"""Orders: what a caller bought, how it travels, and every status change with who, when and why.

An order number is ten digits a caller can read out or key in (the last one a
Luhn check digit, so the IVR catches a mistyped digit before a lookup).
Statuses move only along ``order_status_transitions``; each history row
references the pair it took, so the database itself refuses a move the table
does not hold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.db import Base, check_in
from crm_core.enums import Channel, DeliveryMethod, OrderStatus, PaymentMethod
from crm_core.types import created_at, intpk, money, str20, str40, str100, updated_at

if TYPE_CHECKING:
    from crm_core.models.catalogue import Product
    from crm_core.models.customers import Customer
    from crm_core.models.inventory import StockReservation


class OrderStatusTransition(Base):
    """One allowed move of the order life cycle (seeded by the migration)."""

    __tablename__ = "order_status_transitions"
    __table_args__ = (
        check_in("from_status", OrderStatus),
        check_in("to_status", OrderStatus),
    )

    from_status: Mapped[str20] = mapped_column(primary_key=True)
    to_status: Mapped[str20] = mapped_column(primary_key=True)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        check_in("status", OrderStatus),
        check_in("delivery_method", DeliveryMethod),
        check_in("payment_method", PaymentMethod),
        check_in("channel", Channel),
        CheckConstraint("length(number) = 10", name="number_ten_digits"),
        CheckConstraint("total >= 0 AND subtotal >= 0 AND discount >= 0", name="amounts_not_negative"),
        Index("ix_orders_customer_id_created_at", "customer_id", "created_at"),
        Index("ix_orders_status_created_at", "status", "created_at"),
        Index("ix_orders_media_source", "media_source"),
        Index("ix_orders_created_at", "created_at"),  # reports: orders of a date range (migration 0004)
        Index("ix_orders_ship_to_phone", "ship_to_phone"),  # order search by phone (migration 0004)
    )

    id: Mapped[intpk]
    number: Mapped[str20] = mapped_column(unique=True, doc="ten speakable digits")
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    status: Mapped[str20] = mapped_column(server_default=OrderStatus.ORDERED.value)
    channel: Mapped[str20] = mapped_column(server_default=Channel.IVR.value)
    delivery_method: Mapped[str20] = mapped_column(server_default=DeliveryMethod.COURIER.value)
    payment_method: Mapped[str20] = mapped_column(server_default=PaymentMethod.COD.value)
    address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id", ondelete="SET NULL"))
    ship_to_name: Mapped[str100 | None]
    ship_to_phone: Mapped[str20 | None]
    ship_to_address: Mapped[str | None] = mapped_column(Text, doc="snapshot: later address edits don't move orders")
    media_source: Mapped[str40 | None] = mapped_column(doc="the DNIS or ad code the call came in on")
    want_invoice: Mapped[bool] = mapped_column(Boolean, server_default="0")
    invoice_title: Mapped[str | None]
    urgent: Mapped[bool] = mapped_column(Boolean, server_default="0")
    special_requests: Mapped[str | None] = mapped_column(Text)
    subtotal: Mapped[money]
    discount: Mapped[money] = mapped_column(server_default="0")
    total: Mapped[money]
    points_earned: Mapped[int] = mapped_column(Integer, server_default="0")
    courier: Mapped[str40 | None]
    waybill: Mapped[str40 | None] = mapped_column(index=True)
    call_uuid: Mapped[str40 | None]
    created_by: Mapped[str40 | None]
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    customer: Mapped[Customer] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    history: Mapped[list[OrderStatusChange]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderStatusChange.id"
    )

    def __repr__(self) -> str:
        return f"<Order {self.number} {self.status}>"


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0 AND discount >= 0 AND line_total >= 0", name="amounts_not_negative"),
    )

    id: Mapped[intpk]
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"), index=True)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id", ondelete="SET NULL"))
    promotion_id: Mapped[int | None] = mapped_column(ForeignKey("promotions.id", ondelete="SET NULL"))
    quantity: Mapped[int]
    unit_price: Mapped[money]
    discount: Mapped[money] = mapped_column(server_default="0")
    line_total: Mapped[money]

    order: Mapped[Order] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()
    reservations: Mapped[list[StockReservation]] = relationship(order_by="StockReservation.id")


class OrderStatusChange(Base):
    """One step of an order's history; the first row has no ``from_status``."""

    __tablename__ = "order_status_changes"
    __table_args__ = (
        check_in("to_status", OrderStatus),
        ForeignKeyConstraint(
            ["from_status", "to_status"],
            ["order_status_transitions.from_status", "order_status_transitions.to_status"],
            name="fk_order_status_changes_transition",
        ),
        CheckConstraint(
            "from_status IS NOT NULL OR to_status = 'ordered'", name="first_status_is_ordered"
        ),
        Index("ix_order_status_changes_order_id_changed_at", "order_id", "changed_at"),
    )

    id: Mapped[intpk]
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    from_status: Mapped[str20 | None]
    to_status: Mapped[str20]
    changed_by: Mapped[str40 | None]
    reason: Mapped[str | None]
    changed_at: Mapped[created_at]

    order: Mapped[Order] = relationship(back_populates="history")


class Courier(Base):
    """A delivery company orders ship with; ``Order.courier`` carries its name, the waybill its number."""

    __tablename__ = "couriers"

    id: Mapped[intpk]
    name: Mapped[str40] = mapped_column(unique=True)
    code: Mapped[str20 | None] = mapped_column(unique=True)
    phone: Mapped[str40 | None]
    #: Where a customer tracks a parcel; ``{waybill}`` is replaced by the order's waybill.
    tracking_url: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default="1")
    created_at: Mapped[created_at]

    def tracking_link(self, waybill: str) -> str | None:
        """The tracking address of one parcel, when the courier has one."""
        return self.tracking_url.replace("{waybill}", waybill) if self.tracking_url else None

