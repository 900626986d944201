"""What an order's status change does to stock and points, kept apart from the life-cycle rules.

ordered→shipped / exchanged→shipped: held units leave the warehouse.
ordered→cancelled: held units are released.
shipped|delivered→returned: units come back on hand (restock) and the points
the order earned are taken back (never below zero).
delivered→exchanged: returned units come back and replacements are held.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm_core.enums import OrderStatus, ReservationStatus
from crm_core.exceptions import InsufficientStock
from crm_core.models import Order, StockReservation
from crm_core.services import inventory
from crm_core.services.points import adjust_points, points_balance


def _held(order: Order) -> list[StockReservation]:
    return [r for item in order.items for r in item.reservations if r.status == ReservationStatus.HELD]


def _restock(session: Session, order: Order, by: str, why: str) -> None:
    for item in order.items:
        consumed = [r for r in item.reservations if r.status == ReservationStatus.CONSUMED]
        for reservation in consumed:
            inventory.adjust_stock(session, reservation.stock_id, reservation.quantity,
                                   reason=f"{why} of order {order.number}", by=by)
            reservation.status = ReservationStatus.RELEASED.value


def apply_stock_effects(session: Session, order: Order, current: OrderStatus, target: OrderStatus, *, by: str) -> None:
    """Carry out the stock and points side of one allowed status move."""
    if target == OrderStatus.SHIPPED:
        for reservation in _held(order):
            inventory.consume(session, reservation.stock_id, reservation.quantity)
            reservation.status = ReservationStatus.CONSUMED.value
    elif target == OrderStatus.CANCELLED:
        for reservation in _held(order):
            inventory.release(session, reservation.stock_id, reservation.quantity)
            reservation.status = ReservationStatus.RELEASED.value
    elif target == OrderStatus.RETURNED:
        _restock(session, order, by, "return")
        if order.points_earned:
            take_back = min(order.points_earned, points_balance(session, order.customer_id))
            if take_back:
                adjust_points(session, order.customer_id, -take_back, reason=f"return of order {order.number}", by=by)
    elif target == OrderStatus.EXCHANGED:
        _restock(session, order, by, "exchange")
        for item in order.items:
            held = inventory.reserve(session, item.product_id, item.quantity)
            if held is None:
                raise InsufficientStock(
                    f"no replacement stock for order {order.number}",
                    number=order.number, product_id=item.product_id, requested=item.quantity,
                )
            item.reservations.append(StockReservation(stock_id=held[0], quantity=item.quantity))
    session.flush()
