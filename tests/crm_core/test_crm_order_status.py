"""The order life cycle: only the transition table's moves, each with its stock and points effects."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crm_core.enums import ORDER_TRANSITIONS, OrderStatus
from crm_core.exceptions import IllegalTransition, InsufficientStock, MissingShippingInfo
from crm_core.models import OrderStatusChange, OrderStatusTransition, Stock
from crm_core.services import change_order_status, place_order, points_balance, stock_available

PATH_TO = {
    OrderStatus.ORDERED: [],
    OrderStatus.SHIPPED: [OrderStatus.SHIPPED],
    OrderStatus.DELIVERED: [OrderStatus.SHIPPED, OrderStatus.DELIVERED],
    OrderStatus.SETTLED: [OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.SETTLED],
    OrderStatus.RETURNED: [OrderStatus.SHIPPED, OrderStatus.RETURNED],
    OrderStatus.EXCHANGED: [OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.EXCHANGED],
    OrderStatus.CANCELLED: [OrderStatus.CANCELLED],
}


def _order(db_session, make_customer, make_product, stock=10, quantity=2, price="50.00"):
    product = make_product(stock=stock, price=price)
    customer = make_customer()
    return place_order(db_session, customer.id, [(product.phone_code, quantity)]), product, customer


def _walk(db_session, order, statuses):
    for status in statuses:
        change_order_status(db_session, order.number, status, by="tester", courier="SF", waybill="SF123")


def _stock(db_session, product):
    stock = db_session.scalars(select(Stock).where(Stock.product_id == product.id)).one()
    db_session.refresh(stock)
    return stock


def test_transition_table_in_database_matches_the_code(db_session):
    rows = db_session.execute(select(OrderStatusTransition.from_status, OrderStatusTransition.to_status)).all()
    assert {(f, t) for f, t in rows} == {(f.value, t.value) for f, t in ORDER_TRANSITIONS}


def test_every_move_outside_the_transition_table_is_refused(db_session, make_customer, make_product):
    for current, target in itertools.product(OrderStatus, OrderStatus):
        if (current, target) in ORDER_TRANSITIONS:
            continue
        order, _, _ = _order(db_session, make_customer, make_product)
        _walk(db_session, order, PATH_TO[current])
        with pytest.raises(IllegalTransition) as caught:
            change_order_status(db_session, order.number, target, by="tester", courier="SF", waybill="X1")
        assert caught.value.error_id == "illegal-transition"
        db_session.refresh(order)
        assert order.status == current
        history = db_session.scalar(select(func.count()).where(OrderStatusChange.order_id == order.id))
        assert history == 1 + len(PATH_TO[current])


def test_database_refuses_a_history_row_for_an_illegal_move_even_without_the_service(
    db_session, make_customer, make_product
):
    order, _, _ = _order(db_session, make_customer, make_product)
    with pytest.raises(IntegrityError):
        with db_session.begin_nested():
            db_session.add(OrderStatusChange(order_id=order.id, from_status="ordered", to_status="settled"))
            db_session.flush()


def test_shipping_needs_courier_and_waybill_and_records_them(db_session, make_customer, make_product):
    order, product, _ = _order(db_session, make_customer, make_product)
    with pytest.raises(MissingShippingInfo):
        change_order_status(db_session, order.number, "shipped", by="clerk")
    change_order_status(db_session, order.number, "shipped", by="clerk", courier="SF Express", waybill="SF100200")
    assert (order.status, order.courier, order.waybill) == ("shipped", "SF Express", "SF100200")
    stock = _stock(db_session, product)
    assert (stock.on_hand, stock.reserved) == (8, 0)


def test_full_history_records_who_when_and_why(db_session, make_customer, make_product):
    order, _, _ = _order(db_session, make_customer, make_product)
    _walk(db_session, order, PATH_TO[OrderStatus.SETTLED])
    db_session.refresh(order)
    steps = [(h.from_status, h.to_status, h.changed_by) for h in order.history]
    assert steps == [
        (None, "ordered", None),
        ("ordered", "shipped", "tester"),
        ("shipped", "delivered", "tester"),
        ("delivered", "settled", "tester"),
    ]
    assert all(h.changed_at.tzinfo is not None for h in order.history)


def test_cancelling_releases_the_reservation(db_session, make_customer, make_product):
    order, product, _ = _order(db_session, make_customer, make_product, stock=3, quantity=3)
    assert stock_available(db_session, product.id) == 0
    change_order_status(db_session, order.number, "cancelled", by="agent7", reason="customer changed mind")
    stock = _stock(db_session, product)
    assert (stock.on_hand, stock.reserved) == (3, 0)
    assert [r.status for i in order.items for r in i.reservations] == ["released"]


def test_return_restocks_and_takes_back_earned_points(db_session, make_customer, make_product):
    order, product, customer = _order(db_session, make_customer, make_product, quantity=2, price="50.00")
    assert points_balance(db_session, customer.id) == 100
    _walk(db_session, order, PATH_TO[OrderStatus.RETURNED])
    stock = _stock(db_session, product)
    assert (stock.on_hand, stock.reserved) == (10, 0)
    assert points_balance(db_session, customer.id) == 0


def test_exchange_restocks_the_returned_units_and_holds_replacements(db_session, make_customer, make_product):
    order, product, _ = _order(db_session, make_customer, make_product, stock=5, quantity=2)
    _walk(db_session, order, PATH_TO[OrderStatus.EXCHANGED])
    stock = _stock(db_session, product)
    assert (stock.on_hand, stock.reserved) == (5, 2)
    change_order_status(db_session, order.number, "shipped", by="clerk", waybill="SF999")
    stock = _stock(db_session, product)
    assert (stock.on_hand, stock.reserved) == (3, 0)


def test_exchange_without_replacement_stock_is_refused_and_changes_nothing(db_session, make_customer, make_product):
    order, product, _ = _order(db_session, make_customer, make_product, stock=2, quantity=2)
    _walk(db_session, order, PATH_TO[OrderStatus.DELIVERED])
    stock = _stock(db_session, product)
    stock.warehouse.active = False  # the only warehouse stops shipping: no replacement can be held
    db_session.flush()
    with pytest.raises(InsufficientStock):
        change_order_status(db_session, order.number, "exchanged", by="clerk")
    db_session.refresh(order)
    stock = _stock(db_session, product)
    assert order.status == "delivered"
    assert (stock.on_hand, stock.reserved) == (0, 0)  # the restock inside the refused move was rolled back
