"""Inventory: stock per warehouse, reservations held by orders, and every movement that changes stock.

``on_hand`` counts units physically in the warehouse; ``reserved`` counts the
ones promised to orders not yet shipped. The database refuses negative stock
and over-reservation (CHECK constraints), and the order service reserves with
a single conditional UPDATE so two callers can never take the same last unit.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.db import Base, check_in
from crm_core.enums import ReservationStatus, TransferStatus
from crm_core.types import created_at, intpk, str20, str40, str100, updated_at

if TYPE_CHECKING:
    from crm_core.models.catalogue import Product


class Warehouse(Base):
    __tablename__ = "warehouses"

    id: Mapped[intpk]
    code: Mapped[str20] = mapped_column(unique=True)
    name: Mapped[str100]
    address: Mapped[str | None]
    active: Mapped[bool] = mapped_column(Boolean, server_default="1")
    priority: Mapped[int] = mapped_column(Integer, server_default="100", doc="lower ships first")
    created_at: Mapped[created_at]

    stock: Mapped[list[Stock]] = relationship(back_populates="warehouse")


class Stock(Base):
    """How many units of one product one warehouse holds, and how many are promised."""

    __tablename__ = "stock"
    __table_args__ = (
        UniqueConstraint("product_id", "warehouse_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
        CheckConstraint("warning_level >= 0", name="warning_level_not_negative"),
    )

    id: Mapped[intpk]
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"), index=True)
    on_hand: Mapped[int] = mapped_column(Integer, server_default="0")
    reserved: Mapped[int] = mapped_column(Integer, server_default="0")
    warning_level: Mapped[int] = mapped_column(Integer, server_default="0", doc="alert when available falls below")
    updated_at: Mapped[updated_at]

    product: Mapped[Product] = relationship()
    warehouse: Mapped[Warehouse] = relationship(back_populates="stock")

    @property
    def available(self) -> int:
        """Units that can still be promised to a new order."""
        return self.on_hand - self.reserved

    @property
    def is_low(self) -> bool:
        """True when available stock is at or under the warning line."""
        return self.available <= self.warning_level


class StockReservation(Base):
    """Units of one stock row held for one order line until it ships, is cancelled or returned."""

    __tablename__ = "stock_reservations"
    __table_args__ = (
        check_in("status", ReservationStatus),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[intpk]
    stock_id: Mapped[int] = mapped_column(ForeignKey("stock.id", ondelete="CASCADE"), index=True)
    order_item_id: Mapped[int] = mapped_column(ForeignKey("order_items.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int]
    status: Mapped[str20] = mapped_column(server_default=ReservationStatus.HELD.value)
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    stock: Mapped[Stock] = relationship()


class StockAdjustment(Base):
    """A manual or system change of ``on_hand`` with who and why (receipts, damage, count corrections, returns)."""

    __tablename__ = "stock_adjustments"
    __table_args__ = (
        CheckConstraint("delta <> 0", name="delta_not_zero"),
        Index("ix_stock_adjustments_stock_id_created_at", "stock_id", "created_at"),
    )

    id: Mapped[intpk]
    stock_id: Mapped[int] = mapped_column(ForeignKey("stock.id", ondelete="CASCADE"))
    delta: Mapped[int]
    reason: Mapped[str]
    created_by: Mapped[str40 | None]
    created_at: Mapped[created_at]

    stock: Mapped[Stock] = relationship()


class StockTransfer(Base):
    __tablename__ = "stock_transfers"
    __table_args__ = (
        check_in("status", TransferStatus),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("from_warehouse_id <> to_warehouse_id", name="different_warehouses"),
    )

    id: Mapped[intpk]
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    from_warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    to_warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    quantity: Mapped[int]
    status: Mapped[str20] = mapped_column(server_default=TransferStatus.REQUESTED.value)
    created_by: Mapped[str40 | None]
    created_at: Mapped[created_at]
    received_at: Mapped[dt.datetime | None]


class StockCount(Base):
    """A physical count: what the system expected and what was on the shelf."""

    __tablename__ = "stock_counts"
    __table_args__ = (CheckConstraint("counted >= 0", name="counted_not_negative"),)

    id: Mapped[intpk]
    stock_id: Mapped[int] = mapped_column(ForeignKey("stock.id", ondelete="CASCADE"), index=True)
    expected: Mapped[int]
    counted: Mapped[int]
    counted_by: Mapped[str40 | None]
    counted_at: Mapped[created_at]

    stock: Mapped[Stock] = relationship()

    @property
    def difference(self) -> int:
        """Counted minus expected (negative means shrinkage)."""
        return self.counted - self.expected
