"""Stock movements, each one a single guarded UPDATE so concurrent calls can never oversell.

``reserve`` is ``UPDATE stock SET reserved = reserved + n WHERE ... AND
on_hand - reserved >= n``: PostgreSQL re-checks the condition on the latest
row version after a concurrent writer commits (READ COMMITTED), SQLite runs
writers one at a time; either way exactly one caller gets the last unit.
CHECK constraints on ``stock`` are the backstop.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from crm_core.enums import TransferStatus
from crm_core.exceptions import InsufficientStock, InvalidQuantity, UnknownWarehouse
from crm_core.models import Stock, StockAdjustment, StockCount, StockTransfer, Warehouse
from crm_core.types import utcnow


def _execute_guarded(session: Session, stmt: Any, stock_id: int) -> bool:
    """Run one guarded UPDATE of a stock row; True when the guard held. A loaded copy is expired."""
    result = session.execute(stmt, execution_options={"synchronize_session": False})
    _expire_loaded(session, stock_id)
    return bool(result.rowcount == 1)


_stock = Stock.__table__
_warehouses = Warehouse.__table__
_available = _stock.c.on_hand - _stock.c.reserved

#: Reserve in the best warehouse in one round trip; no row back means "try the slow path".
RESERVE_BEST = (
    update(_stock)
    .where(
        _stock.c.id
        == select(_stock.c.id)
        .join(_warehouses, _warehouses.c.id == _stock.c.warehouse_id)
        .where(
            _stock.c.product_id == bindparam("p_product_id"),
            _warehouses.c.active.is_(True),
            _available >= bindparam("p_quantity"),
        )
        .order_by(_warehouses.c.priority, _available.desc(), _stock.c.id)
        .limit(1)
        .scalar_subquery(),
        _available >= bindparam("p_quantity"),
    )
    .values(reserved=_stock.c.reserved + bindparam("p_quantity"), updated_at=func.now())
    .returning(_stock.c.id, _stock.c.warehouse_id)
)


def _expire_loaded(session: Session, stock_id: int) -> None:
    loaded = session.identity_map.get(identity_key(Stock, stock_id))
    if loaded is not None:
        session.expire(loaded)


def reserve(session: Session, product_id: int, quantity: int) -> tuple[int, int] | None:
    """Hold ``quantity`` units in the best warehouse that has them all: (stock id, warehouse id), or None."""
    best = session.connection().execute(RESERVE_BEST, {"p_product_id": product_id, "p_quantity": quantity}).first()
    if best is not None:
        _expire_loaded(session, best[0])
        return best[0], best[1]
    # Someone took the best row between our sub-select and update (or there is none): walk the candidates.
    candidates = session.execute(
        select(Stock.id, Stock.warehouse_id)
        .join(Warehouse, Warehouse.id == Stock.warehouse_id)
        .where(Stock.product_id == product_id, Warehouse.active.is_(True), Stock.on_hand - Stock.reserved >= quantity)
        .order_by(Warehouse.priority, (Stock.on_hand - Stock.reserved).desc(), Stock.id)
    ).all()
    for stock_id, warehouse_id in candidates:
        stmt = (
            update(Stock)
            .where(Stock.id == stock_id, Stock.on_hand - Stock.reserved >= quantity)
            .values(reserved=Stock.reserved + quantity, updated_at=func.now())
        )
        if _execute_guarded(session, stmt, stock_id):
            return stock_id, warehouse_id
    return None


def release(session: Session, stock_id: int, quantity: int) -> None:
    """Give back units held by a reservation that will not ship."""
    stmt = (
        update(Stock)
        .where(Stock.id == stock_id, Stock.reserved >= quantity)
        .values(reserved=Stock.reserved - quantity, updated_at=func.now())
    )
    if not _execute_guarded(session, stmt, stock_id):
        raise InsufficientStock(f"stock {stock_id} holds fewer than {quantity} reserved units", stock_id=stock_id)


def consume(session: Session, stock_id: int, quantity: int) -> None:
    """Units leave the warehouse for a held reservation (shipping)."""
    stmt = (
        update(Stock)
        .where(Stock.id == stock_id, Stock.reserved >= quantity, Stock.on_hand >= quantity)
        .values(on_hand=Stock.on_hand - quantity, reserved=Stock.reserved - quantity, updated_at=func.now())
    )
    if not _execute_guarded(session, stmt, stock_id):
        raise InsufficientStock(f"stock {stock_id} cannot ship {quantity} units", stock_id=stock_id)


def adjust_stock(session: Session, stock_id: int, delta: int, *, reason: str, by: str | None = None) -> StockAdjustment:
    """Change on-hand units with who and why; refused when it would drop below zero or below what is promised."""
    if delta == 0:
        raise InvalidQuantity("a stock adjustment cannot be zero", stock_id=stock_id)
    stmt = (
        update(Stock)
        .where(Stock.id == stock_id, Stock.on_hand + delta >= Stock.reserved)
        .values(on_hand=Stock.on_hand + delta, updated_at=func.now())
    )
    if not _execute_guarded(session, stmt, stock_id):
        raise InsufficientStock(f"stock {stock_id} cannot change by {delta}", stock_id=stock_id, delta=delta)
    adjustment = StockAdjustment(stock_id=stock_id, delta=delta, reason=reason, created_by=by)
    session.add(adjustment)
    session.flush()
    return adjustment


def stock_available(session: Session, product_id: int) -> int:
    """Units of a product that can still be promised, over all active warehouses."""
    total = session.scalar(
        select(func.coalesce(func.sum(Stock.on_hand - Stock.reserved), 0))
        .join(Warehouse, Warehouse.id == Stock.warehouse_id)
        .where(Stock.product_id == product_id, Warehouse.active.is_(True))
    )
    return int(total or 0)


def low_stock(session: Session) -> list[Stock]:
    """Stock rows at or under their warning line, emptiest first."""
    stmt = (
        select(Stock)
        .where(Stock.on_hand - Stock.reserved <= Stock.warning_level)
        .order_by((Stock.on_hand - Stock.reserved), Stock.id)
    )
    return list(session.scalars(stmt))


def _stock_row(session: Session, product_id: int, warehouse_id: int) -> Stock:
    if session.get(Warehouse, warehouse_id) is None:
        raise UnknownWarehouse(f"no warehouse {warehouse_id}", warehouse_id=warehouse_id)
    stock = session.scalars(
        select(Stock).where(Stock.product_id == product_id, Stock.warehouse_id == warehouse_id)
    ).first()
    if stock is None:
        stock = Stock(product_id=product_id, warehouse_id=warehouse_id, on_hand=0, reserved=0)
        session.add(stock)
        session.flush()
    return stock


def transfer_stock(
    session: Session, product_id: int, from_warehouse_id: int, to_warehouse_id: int, quantity: int, *, by: str | None = None
) -> StockTransfer:
    """Move free units between warehouses (recorded as received at once)."""
    if quantity <= 0:
        raise InvalidQuantity(f"transfer quantity must be positive, got {quantity}", quantity=quantity)
    source = _stock_row(session, product_id, from_warehouse_id)
    target = _stock_row(session, product_id, to_warehouse_id)
    adjust_stock(session, source.id, -quantity, reason=f"transfer to warehouse {to_warehouse_id}", by=by)
    adjust_stock(session, target.id, quantity, reason=f"transfer from warehouse {from_warehouse_id}", by=by)
    transfer = StockTransfer(
        product_id=product_id,
        from_warehouse_id=from_warehouse_id,
        to_warehouse_id=to_warehouse_id,
        quantity=quantity,
        status=TransferStatus.RECEIVED.value,
        created_by=by,
        received_at=utcnow(),
    )
    session.add(transfer)
    session.flush()
    return transfer


def record_stock_count(session: Session, stock_id: int, counted: int, *, by: str | None = None) -> StockCount:
    """A physical count; on-hand is corrected to it through an adjustment that says so."""
    if counted < 0:
        raise InvalidQuantity(f"a count cannot be negative, got {counted}", counted=counted)
    stock = session.get(Stock, stock_id)
    if stock is None:
        raise InsufficientStock(f"no stock row {stock_id}", stock_id=stock_id)
    session.refresh(stock)
    count = StockCount(stock_id=stock_id, expected=stock.on_hand, counted=counted, counted_by=by)
    session.add(count)
    if counted != stock.on_hand:
        adjust_stock(session, stock_id, counted - stock.on_hand, reason="stock count", by=by)
    session.flush()
    return count
