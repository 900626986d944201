"""Writing a placed order: the order row, its lines, their stock reservations, the first status and the points.

On PostgreSQL ``PLACE_ORDER_PG`` does all of it, and the checks, pricing and
stock reservation before it, as one statement (data-modifying CTEs chained
through RETURNING, the lines passed as arrays and ``unnest``-ed), so an order
costs one round trip whatever its size; ``WRITE_ORDER_PG`` is the write alone.
Elsewhere (SQLite) the same rows are written statement by statement. Either way a taken order number writes
nothing and returns None, so the caller can draw another number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Integer, Numeric, String, bindparam, insert, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Row

from crm_core.enums import OrderStatus, PointsKind, ProductStatus
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


# --- PostgreSQL: the whole order, checks included, in ONE statement -------------------------------------------
#
# ``place_order`` on PostgreSQL sends this one statement instead of price look-up + guarded reservation + write
# (one round trip after the transaction's BEGIN; the caller's COMMIT is the other). It reads the customer's flags
# and the products (by phone code, else SKU) with their running promotions, prices each line with its best
# promotion (the rules of ``compute_discount``, percent rounded half to even like ``Decimal.quantize``), locks
# every stock row that could serve a line (FOR NO KEY UPDATE in stock-id order, so concurrent orders cannot
# deadlock; after a wait READ COMMITTED hands back the latest committed row), picks per line the best warehouse
# holding the whole quantity, and only when the customer may order, every code is a product on sale, every line
# found a warehouse and the order number is free does it insert the order, then reserve (the guarded UPDATE:
# two callers for the last unit -> one gets it), write the lines, reservations, first status and earned points.
# Otherwise it writes nothing, so a refused order is clean even inside a longer transaction, with no SAVEPOINT.
# The rows it returns (one per ordered code, the order's columns on each when written) tell the caller which
# typed error to raise. Every parameter is cast in the text.

ORDER_PARAM_TYPES = {
    "number": "TEXT", "customer_id": "INTEGER", "channel": "TEXT", "delivery_method": "TEXT",
    "payment_method": "TEXT", "address_id": "INTEGER", "ship_to_name": "TEXT", "ship_to_phone": "TEXT",
    "ship_to_address": "TEXT", "media_source": "TEXT", "want_invoice": "BOOLEAN", "invoice_title": "TEXT",
    "urgent": "BOOLEAN", "special_requests": "TEXT", "call_uuid": "TEXT", "created_by": "TEXT",
}


def _p(name: str, sql_type: str) -> str:
    return f"CAST(:{name} AS {sql_type})"


_GROSS = "l.unit_price * l.quantity"
_PERCENT_CENTS = f"({_GROSS} * pr.percent)"  # gross * percent / 100 yuan = gross * percent cents, exactly
#: ``compute_discount`` in SQL. Percent: Python's Decimal.quantize rounds half to even, so do the same on cents.
_DISCOUNT = f"""CASE
        WHEN pr.rule = 'percent' AND pr.percent IS NOT NULL THEN
            round((floor({_PERCENT_CENTS}) + CASE
                WHEN {_PERCENT_CENTS} - floor({_PERCENT_CENTS}) > 0.5 THEN 1
                WHEN {_PERCENT_CENTS} - floor({_PERCENT_CENTS}) = 0.5 THEN mod(floor({_PERCENT_CENTS}), 2)
                ELSE 0 END) / 100, 2)
        WHEN pr.rule = 'amount_off' AND pr.amount_off IS NOT NULL THEN least({_GROSS}, pr.amount_off * l.quantity)
        WHEN pr.rule = 'buy_x_get_y' AND coalesce(pr.buy_quantity, 0) <> 0 AND coalesce(pr.free_quantity, 0) <> 0
            THEN l.unit_price * (l.quantity / (pr.buy_quantity + pr.free_quantity)) * pr.free_quantity
        ELSE 0 END"""

PLACE_ORDER_PG = f"""
WITH w AS (
    SELECT * FROM unnest({_p("codes", "TEXT[]")}, {_p("quantities", "INTEGER[]")}) WITH ORDINALITY
        AS w(code, quantity, pos)
), m AS (
    SELECT w.pos, w.code, w.quantity, p.id AS product_id, p.phone_code, p.name, p.price, p.status
    FROM w LEFT JOIN LATERAL (
        SELECT c.id, c.phone_code, c.name, c.price, c.status FROM (
            SELECT id, phone_code, name, price, status, 0 AS pref FROM products WHERE phone_code = w.code
            UNION ALL
            SELECT id, phone_code, name, price, status, 1 AS pref FROM products WHERE sku = w.code
        ) c ORDER BY c.pref LIMIT 1
    ) p ON true
), chk AS (
    SELECT EXISTS (SELECT 1 FROM customers WHERE id = {_p("customer_id", "INTEGER")}
                   AND (NOT is_blacklisted OR {_p("allow_blacklisted", "BOOLEAN")}))
       AND NOT EXISTS (SELECT 1 FROM m WHERE product_id IS NULL OR status <> '{ProductStatus.ACTIVE.value}') AS ok
), l AS (
    SELECT product_id, min(phone_code) AS code, min(name) AS name, min(price) AS unit_price,
           CAST(sum(quantity) AS INTEGER) AS quantity
    FROM m WHERE (SELECT ok FROM chk) GROUP BY product_id
), s AS MATERIALIZED (
    SELECT stock.id, stock.product_id, stock.warehouse_id, stock.on_hand - stock.reserved AS available, wh.priority
    FROM stock JOIN warehouses wh ON wh.id = stock.warehouse_id
    WHERE stock.product_id IN (SELECT product_id FROM l) AND wh.active
    ORDER BY stock.id
    FOR NO KEY UPDATE OF stock
), pick AS MATERIALIZED (
    SELECT DISTINCT ON (l.product_id) l.product_id, s.id AS stock_id, s.warehouse_id
    FROM l JOIN s ON s.product_id = l.product_id AND s.available >= l.quantity
    ORDER BY l.product_id, s.priority, s.available DESC, s.id
), best AS (
    SELECT DISTINCT ON (product_id) product_id, promotion_id, discount FROM (
        SELECT l.product_id, pr.id AS promotion_id, {_DISCOUNT} AS discount
        FROM l
        JOIN promotion_products pp ON pp.product_id = l.product_id
        JOIN promotions pr ON pr.id = pp.promotion_id AND pr.active
            AND pr.starts_at <= {_p("at", "TIMESTAMPTZ")} AND pr.ends_at > {_p("at", "TIMESTAMPTZ")}
    ) d WHERE discount > 0
    ORDER BY product_id, discount DESC, promotion_id
), priced AS MATERIALIZED (
    SELECT l.product_id, l.quantity, l.unit_price, pick.stock_id, pick.warehouse_id, best.promotion_id,
           coalesce(best.discount, 0) AS discount, l.unit_price * l.quantity - coalesce(best.discount, 0) AS line_total
    FROM l JOIN pick ON pick.product_id = l.product_id LEFT JOIN best ON best.product_id = l.product_id
), tot AS (
    SELECT sum(unit_price * quantity) AS subtotal, sum(discount) AS discount FROM priced
), o AS (
    INSERT INTO orders ({", ".join(ORDER_PARAM_TYPES)}, status, subtotal, discount, total, points_earned)
    SELECT {", ".join(_p(c, t) for c, t in ORDER_PARAM_TYPES.items())}, '{OrderStatus.ORDERED.value}',
           tot.subtotal, tot.discount, tot.subtotal - tot.discount,
           CAST(greatest(trunc((tot.subtotal - tot.discount) * {_p("points_per_yuan", "INTEGER")}), 0) AS INTEGER)
    FROM tot
    WHERE (SELECT ok FROM chk) AND (SELECT count(*) FROM pick) = (SELECT count(*) FROM l)
    ON CONFLICT (number) DO NOTHING
    RETURNING id, created_at, updated_at, subtotal, discount, total, points_earned
), r AS (
    UPDATE stock SET reserved = stock.reserved + priced.quantity, updated_at = now()
    FROM priced
    WHERE stock.id = priced.stock_id AND stock.on_hand - stock.reserved >= priced.quantity
      AND EXISTS (SELECT 1 FROM o)
    RETURNING stock.id
), i AS (
    INSERT INTO order_items (order_id, product_id, warehouse_id, promotion_id, quantity, unit_price, discount,
                             line_total)
    SELECT o.id, priced.product_id, priced.warehouse_id, priced.promotion_id, priced.quantity, priced.unit_price,
           priced.discount, priced.line_total
    FROM o, priced ORDER BY priced.product_id
    RETURNING id, product_id
), rv AS (
    -- The locks make the guarded UPDATE above certain to hold; should it ever not, fail the whole statement.
    INSERT INTO stock_reservations (stock_id, order_item_id, quantity)
    SELECT CAST(CASE WHEN (SELECT count(*) FROM r) = (SELECT count(*) FROM priced) THEN CAST(priced.stock_id AS TEXT)
                     ELSE 'stock reservation guard failed for order item ' || i.id END AS INTEGER),
           i.id, priced.quantity
    FROM i JOIN priced ON priced.product_id = i.product_id
), h AS (
    INSERT INTO order_status_changes (order_id, from_status, to_status, changed_by, reason)
    SELECT o.id, NULL, '{OrderStatus.ORDERED.value}', {_p("created_by", "TEXT")}, 'placed' FROM o
), c AS (
    UPDATE customers SET points_balance = customers.points_balance + o.points_earned
    FROM o WHERE customers.id = {_p("customer_id", "INTEGER")} AND o.points_earned > 0
    RETURNING customers.points_balance, o.id AS order_id, o.points_earned
), pe AS (
    INSERT INTO points_entries (customer_id, kind, delta, balance_after, reason, order_id, created_by)
    SELECT {_p("customer_id", "INTEGER")}, '{PointsKind.EARN.value}', c.points_earned, c.points_balance,
           {_p("points_reason", "TEXT")}, c.order_id, {_p("created_by", "TEXT")}
    FROM c
)
SELECT m.pos, m.code, m.product_id, m.phone_code, m.name, m.status,
       (SELECT is_blacklisted FROM customers WHERE id = {_p("customer_id", "INTEGER")}) AS customer_blacklisted,
       l.quantity AS line_quantity,
       (SELECT coalesce(sum(s.available), 0) FROM s WHERE s.product_id = m.product_id) AS available,
       (SELECT pick.stock_id FROM pick WHERE pick.product_id = m.product_id) AS stock_id,
       o.id AS order_id, o.created_at, o.updated_at, o.subtotal, o.discount, o.total, o.points_earned
FROM m LEFT JOIN l ON l.product_id = m.product_id LEFT JOIN o ON true
ORDER BY m.pos
"""



#: The same text with psycopg's placeholders: it runs on the session's own psycopg connection (see below).
_PLACE_ORDER_PSYCOPG = re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", PLACE_ORDER_PG)

#: The order statement is planned once per connection and reused (a generic plan): planning this many CTEs costs
#: more than running them, and every look-up in it is by a unique key, so a custom plan per call buys nothing.
#: ``plan_cache_mode`` is switched for this one statement only (transaction-local, put back right after it; a
#: failure aborts the transaction, which undoes the switch too), not for the connection's other statements.
_GENERIC_PLAN_ON = (
    "SELECT set_config('hotline.saved_plan_cache_mode', current_setting('plan_cache_mode'), true),"
    " set_config('plan_cache_mode', 'force_generic_plan', true)"
)
_GENERIC_PLAN_OFF = "SELECT set_config('plan_cache_mode', current_setting('hotline.saved_plan_cache_mode'), true)"


def place_order_pg(connection: Connection, params: dict[str, Any]) -> list[Any]:
    """Run ``PLACE_ORDER_PG`` on the session's connection: its rows, one per ordered code in the caller's order.

    The plan-mode switch, the statement and the switch back travel as one psycopg pipeline: one round trip (after
    the BEGIN psycopg sends for a fresh transaction). Errors come back as the usual SQLAlchemy exceptions
    (``IntegrityError``...); a dropped connection is invalidated as SQLAlchemy would.
    """
    import psycopg
    from psycopg.rows import namedtuple_row
    from sqlalchemy.exc import DBAPIError

    driver = connection.connection.driver_connection
    try:
        with driver.cursor() as switch, driver.cursor(row_factory=namedtuple_row) as cursor:
            with driver.pipeline():  # sent together, one Sync when the block ends
                switch.execute(_GENERIC_PLAN_ON)
                cursor.execute(_PLACE_ORDER_PSYCOPG, params, prepare=True)
                switch.execute(_GENERIC_PLAN_OFF)
            return cursor.fetchall()
    except psycopg.Error as exc:
        invalidated = connection.dialect.is_disconnect(exc, connection.connection, None)
        if invalidated:
            connection.invalidate(exc)
        raise DBAPIError.instance(
            PLACE_ORDER_PG, params, exc, psycopg.Error, connection_invalidated=invalidated, dialect=connection.dialect
        ) from exc
