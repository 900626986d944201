"""Writing a placed order: the order row, its lines, their stock reservations, the first status and the points.

On PostgreSQL all of it is one statement (data-modifying CTEs chained through
RETURNING, the lines passed as arrays and ``unnest``-ed), so an order costs
one round trip whatever its size; elsewhere (SQLite) the same rows are
written statement by statement. Either way a taken order number writes
nothing and returns None, so the caller can draw another number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Integer, Numeric, String, bindparam, insert, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Row

from crm_core.enums import OrderStatus, PointsKind
from crm_core.models import Order, OrderItem, OrderStatusChange, StockReservation
from crm_core.services.points import CHANGE_BALANCE, INSERT_ENTRY
from crm_core.types import UTCDateTime

ORDER_COLUMNS = (
    "number", "customer_id", "status", "channel", "delivery_method", "payment_method", "address_id",
    "ship_to_name", "ship_to_phone", "ship_to_address", "media_source", "want_invoice", "invoice_title",
    "urgent", "special_requests", "subtotal", "discount", "total", "points_earned", "call_uuid", "created_by",
)
LINE_ARRAYS = {
    "product_id": Integer, "warehouse_id": Integer, "stock_id": Integer, "promotion_id": Integer,
    "quantity": Integer, "unit_price": Numeric(12, 2), "discount": Numeric(12, 2), "line_total": Numeric(12, 2),
}

_PG_SQL = f"""
WITH o AS (
    INSERT INTO orders ({", ".join(ORDER_COLUMNS)})
    VALUES ({", ".join(":" + c for c in ORDER_COLUMNS)})
    ON CONFLICT (number) DO NOTHING
    RETURNING id, created_at, updated_at
), v AS (
    SELECT * FROM unnest({", ".join(f"CAST(:l_{c} AS {'NUMERIC' if t is not Integer else 'INTEGER'}[])"
                                    for c, t in LINE_ARRAYS.items())})
        AS v({", ".join(LINE_ARRAYS)})
), i AS (
    INSERT INTO order_items (order_id, product_id, warehouse_id, promotion_id, quantity, unit_price, discount,
                             line_total)
    SELECT o.id, v.product_id, v.warehouse_id, v.promotion_id, v.quantity, v.unit_price, v.discount, v.line_total
    FROM o, v
    RETURNING id, product_id
), r AS (
    INSERT INTO stock_reservations (stock_id, order_item_id, quantity)
    SELECT v.stock_id, i.id, v.quantity FROM i JOIN v ON v.product_id = i.product_id
), h AS (
    INSERT INTO order_status_changes (order_id, from_status, to_status, changed_by, reason)
    SELECT o.id, NULL, '{OrderStatus.ORDERED.value}', :created_by, 'placed' FROM o
), c AS (
    UPDATE customers SET points_balance = points_balance + CAST(:points AS INTEGER)
    WHERE id = :customer_id AND CAST(:points AS INTEGER) > 0 AND EXISTS (SELECT 1 FROM o)
    RETURNING points_balance
), p AS (
    INSERT INTO points_entries (customer_id, kind, delta, balance_after, reason, order_id, created_by)
    SELECT :customer_id, '{PointsKind.EARN.value}', CAST(:points AS INTEGER), c.points_balance, :points_reason,
           o.id, :created_by
    FROM c, o
)
SELECT id, created_at, updated_at FROM o
"""

#: PostgreSQL: the whole order in one statement.
WRITE_ORDER_PG = (
    text(_PG_SQL)
    .bindparams(*(bindparam(f"l_{c}", type_=ARRAY(t)) for c, t in LINE_ARRAYS.items()))
    .bindparams(bindparam("points_reason", type_=String))
    .columns(id=Integer, created_at=UTCDateTime(), updated_at=UTCDateTime())
)

_orders = Order.__table__
INSERT_ORDER_SQLITE = (
    sqlite.insert(_orders)
    .on_conflict_do_nothing(index_elements=["number"])
    .returning(_orders.c.id, _orders.c.created_at, _orders.c.updated_at)
)
INSERT_ITEM = insert(OrderItem.__table__).returning(OrderItem.__table__.c.id)
INSERT_RESERVATION = insert(StockReservation.__table__)
INSERT_STATUS_CHANGE = insert(OrderStatusChange.__table__)


def write_order(
    connection: Connection, order: dict[str, Any], items: Sequence[dict[str, Any]], points_reason: str
) -> Row[Any] | None:
    """Write one order with everything that goes with it: (id, created_at, updated_at), or None if the number is taken."""
    if connection.dialect.name == "postgresql":
        params = {c: order.get(c) for c in ORDER_COLUMNS}
        params.update({f"l_{c}": [item[c] for item in items] for c in LINE_ARRAYS})
        params.update(points=order["points_earned"], points_reason=points_reason)
        return connection.execute(WRITE_ORDER_PG, params).first()
    return _write_order_stepwise(connection, order, items, points_reason)


def _write_order_stepwise(
    connection: Connection, order: dict[str, Any], items: Sequence[dict[str, Any]], points_reason: str
) -> Row[Any] | None:
    row = connection.execute(INSERT_ORDER_SQLITE, {c: order.get(c) for c in ORDER_COLUMNS}).first()
    if row is None:
        return None
    reservations = []
    for item in items:
        item_id = connection.execute(INSERT_ITEM, dict(
            order_id=row.id, product_id=item["product_id"], warehouse_id=item["warehouse_id"],
            promotion_id=item["promotion_id"], quantity=item["quantity"], unit_price=item["unit_price"],
            discount=item["discount"], line_total=item["line_total"],
        )).scalar_one()
        reservations.append(dict(stock_id=item["stock_id"], order_item_id=item_id, quantity=item["quantity"]))
    connection.execute(INSERT_RESERVATION, reservations)
    connection.execute(INSERT_STATUS_CHANGE, dict(
        order_id=row.id, from_status=None, to_status=OrderStatus.ORDERED.value, changed_by=order["created_by"],
        reason="placed",
    ))
    points = order["points_earned"]
    if points > 0:
        balance = connection.execute(CHANGE_BALANCE, {"p_customer_id": order["customer_id"], "p_delta": points})
        connection.execute(INSERT_ENTRY, dict(
            customer_id=order["customer_id"], kind=PointsKind.EARN.value, delta=points,
            balance_after=balance.scalar_one(), reason=points_reason, order_id=row.id, created_by=order["created_by"],
        ))
    return row
