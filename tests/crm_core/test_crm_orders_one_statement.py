"""place_order's single-statement path (PostgreSQL) prices, checks and refuses exactly as the step-by-step one.

Every test runs on both backends: SQLite keeps the step-by-step path, PostgreSQL runs checks, pricing,
reservation and writes as one statement (``order_writes.PLACE_ORDER_PG``), so the same expectations pin both.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm_core.exceptions import CustomerBlacklisted, InsufficientStock, OrderNumberTaken, UnknownCustomer
from crm_core.models import Order, OrderItem, OrderStatusChange, PointsEntry, StockReservation
from crm_core.models.catalogue import compute_discount
from crm_core.services import mark_blacklist, place_order, points_balance, stock_available

UTC = dt.timezone.utc


def _counts(session) -> dict[str, int]:
    tables = (Order, OrderItem, OrderStatusChange, PointsEntry, StockReservation)
    return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) for t in tables}


def _window() -> dict[str, dt.datetime]:
    now = dt.datetime.now(UTC)
    return dict(starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=1))


@pytest.mark.parametrize(
    "price, quantity, promotion",
    [
        ("1.05", 1, dict(rule="percent", percent="50")),  # 0.525: half to even -> 0.52 (Decimal.quantize)
        ("1.15", 1, dict(rule="percent", percent="50")),  # 0.575 -> 0.58
        ("19.99", 3, dict(rule="percent", percent="12.5")),
        ("30.00", 2, dict(rule="amount_off", amount_off="40.00")),  # capped at the line's gross
        ("30.00", 2, dict(rule="amount_off", amount_off="5.00")),
        ("9.90", 7, dict(rule="buy_x_get_y", buy_quantity=2, free_quantity=1)),
        ("9.90", 2, dict(rule="buy_x_get_y", buy_quantity=2, free_quantity=1)),  # no full group: no discount
    ],
)
def test_line_discount_matches_compute_discount(db_session, make_customer, make_product, make_promotion, price,
                                                quantity, promotion):
    product = make_product(price=price, stock=20)
    make_promotion([product], **promotion, **_window())
    order = place_order(db_session, make_customer().id, [(product.phone_code, quantity)])
    expected = compute_discount(promotion["rule"], Decimal(promotion.get("percent") or 0) or None,
                                Decimal(promotion.get("amount_off") or 0) or None, promotion.get("buy_quantity"),
                                promotion.get("free_quantity"), Decimal(price), quantity)
    item = order.items[0]
    assert item.discount == expected == order.discount
    assert order.total == Decimal(price) * quantity - expected == item.line_total
    assert (item.promotion_id is not None) == (expected > 0)
    assert order.points_earned == int(order.total) == points_balance(db_session, order.customer_id)


def test_best_promotion_wins_per_line_and_expired_ones_are_ignored(db_session, make_customer, make_product,
                                                                   make_promotion):
    cheap, dear = make_product(price="10.00", stock=10), make_product(price="200.00", stock=10)
    now = dt.datetime.now(UTC)
    make_promotion([cheap, dear], rule="percent", percent="10", **_window())
    best = make_promotion([dear], rule="amount_off", amount_off="30.00", **_window())
    make_promotion([cheap], rule="percent", percent="90", starts_at=now - dt.timedelta(days=2),
                   ends_at=now - dt.timedelta(days=1))
    order = place_order(db_session, make_customer().id, [(cheap.sku, 2), (dear.phone_code, 1)], points_per_yuan=2)
    by_product = {i.product_id: i for i in order.items}
    assert by_product[cheap.id].discount == Decimal("2.00")
    assert (by_product[dear.id].discount, by_product[dear.id].promotion_id) == (Decimal("30.00"), best.id)
    assert (order.subtotal, order.discount, order.total) == (Decimal("220.00"), Decimal("32.00"), Decimal("188.00"))
    assert order.points_earned == 376


def test_unknown_customer_is_refused_and_writes_nothing(db_session, make_product):
    product = make_product(stock=3)
    before = _counts(db_session)
    with pytest.raises(UnknownCustomer):
        place_order(db_session, 987654321, [(product.phone_code, 1)])
    assert _counts(db_session) == before and stock_available(db_session, product.id) == 3


def test_blacklisted_customer_can_order_when_allowed(db_session, make_customer, make_product):
    customer = make_customer()
    for who in ("a", "b", "c"):
        mark_blacklist(db_session, customer.id, marked_by=who, reason="prank orders")
    product = make_product(stock=3)
    with pytest.raises(CustomerBlacklisted):
        place_order(db_session, customer.id, [(product.phone_code, 1)])
    order = place_order(db_session, customer.id, [(product.phone_code, 1)], allow_blacklisted=True)
    assert order.items[0].quantity == 1 and stock_available(db_session, product.id) == 2


def test_insufficient_stock_reports_the_first_short_product_with_its_total_availability(
    db_session, factories, make_customer, make_product, make_warehouse
):
    plenty = make_product(stock=10)
    split = make_product(stock=2, warehouse=make_warehouse(priority=1))
    factories.add_stock(db_session, split, 2, warehouse=make_warehouse(priority=2))
    before = _counts(db_session)
    with pytest.raises(InsufficientStock) as caught:  # 4 units exist, but no one warehouse holds 3
        place_order(db_session, make_customer().id, [(plenty.phone_code, 1), (split.phone_code, 3)])
    assert caught.value.details == {"code": split.phone_code, "requested": 3, "available": 4}
    assert _counts(db_session) == before
    assert [stock_available(db_session, p.id) for p in (plenty, split)] == [10, 4]


def test_explicit_order_number_taken_at_insert_writes_nothing(db_session, make_customer, make_product, monkeypatch):
    from crm_core.services import orders as orders_module

    first = place_order(db_session, make_customer().id, [(make_product().phone_code, 1)])
    # Someone takes the number between the import's check and its insert.
    monkeypatch.setattr(orders_module, "_checked_order_number", lambda connection, number: number)
    product = make_product(stock=4)
    before = _counts(db_session)
    with pytest.raises(OrderNumberTaken):
        place_order(db_session, make_customer().id, [(product.phone_code, 2)], order_number=first.number)
    assert _counts(db_session) == before and stock_available(db_session, product.id) == 4
