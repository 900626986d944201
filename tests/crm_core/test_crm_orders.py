"""Placing orders: all-or-nothing writes, stock reservation, totals, points, look-ups."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm_core.enums import OrderStatus
from crm_core.exceptions import (
    CustomerBlacklisted,
    EmptyOrder,
    InsufficientStock,
    InvalidQuantity,
    ProductUnavailable,
    UnknownOrder,
    UnknownProduct,
)
from crm_core.models import Order, OrderItem, OrderStatusChange, PointsEntry, Stock, StockReservation
from crm_core.services import (
    mark_blacklist,
    order_by_number,
    place_order,
    points_balance,
    recent_orders_for_caller,
    stock_available,
)
from crm_core.services.orders import OrderLine, is_valid_order_number, luhn_digit, new_order_number

UTC = dt.timezone.utc


def _counts(session) -> dict[str, int]:
    tables = (Order, OrderItem, OrderStatusChange, PointsEntry, StockReservation)
    return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) for t in tables}


def test_place_order_writes_order_items_history_reservation_and_points(db_session, make_customer, make_product):
    customer = make_customer()
    phone = make_product(price="199.50", stock=5)
    case = make_product(price="20.00", stock=5)

    order = place_order(
        db_session, customer.id, [(phone.phone_code, 2), OrderLine(case.sku, 1)],
        media_source="4008001234", urgent=True, want_invoice=True, invoice_title="ACME Ltd", created_by="ivr",
    )

    assert is_valid_order_number(order.number)
    assert order.status == OrderStatus.ORDERED
    assert order.subtotal == Decimal("419.00") and order.total == Decimal("419.00")
    assert [(i.product_id, i.quantity) for i in order.items] == [(phone.id, 2), (case.id, 1)]
    assert [h.to_status for h in order.history] == ["ordered"]
    assert all(len(i.reservations) == 1 and i.reservations[0].status == "held" for i in order.items)
    assert stock_available(db_session, phone.id) == 3
    assert points_balance(db_session, customer.id) == 419 == order.points_earned
    assert order.created_at.tzinfo is not None


def test_place_order_merges_lines_for_the_same_product_by_code_and_sku(db_session, make_customer, make_product):
    customer = make_customer()
    product = make_product(stock=5)
    order = place_order(db_session, customer.id, [(product.phone_code, 1), (product.sku, 2)])
    assert [(i.product_id, i.quantity) for i in order.items] == [(product.id, 3)]


def test_order_with_insufficient_stock_is_refused_and_writes_nothing(db_session, make_customer, make_product):
    customer = make_customer()
    plenty = make_product(stock=10)
    scarce = make_product(stock=1)
    before = _counts(db_session)

    with pytest.raises(InsufficientStock) as caught:
        place_order(db_session, customer.id, [(plenty.phone_code, 3), (scarce.phone_code, 2)])

    assert caught.value.error_id == "insufficient-stock"
    assert caught.value.details["available"] == 1
    assert _counts(db_session) == before
    assert stock_available(db_session, plenty.id) == 10  # the first line's reservation was rolled back
    assert points_balance(db_session, customer.id) == 0


def test_order_with_unknown_product_is_refused_and_writes_nothing(db_session, make_customer, make_product):
    customer = make_customer()
    product = make_product(stock=10)
    before = _counts(db_session)
    with pytest.raises(UnknownProduct) as caught:
        place_order(db_session, customer.id, [(product.phone_code, 1), ("99999999", 1)])
    assert caught.value.details["code"] == "99999999"
    assert _counts(db_session) == before
    assert stock_available(db_session, product.id) == 10


@pytest.mark.parametrize("lines, error", [([], EmptyOrder), ([("1", 0)], InvalidQuantity), ([("1", -2)], InvalidQuantity)])
def test_order_lines_must_be_positive_and_present(db_session, make_customer, lines, error):
    with pytest.raises(error):
        place_order(db_session, make_customer().id, lines)


def test_discontinued_product_cannot_be_ordered(db_session, make_customer, make_product):
    product = make_product(status="discontinued")
    with pytest.raises(ProductUnavailable):
        place_order(db_session, make_customer().id, [(product.phone_code, 1)])


def test_blacklisted_customer_cannot_order(db_session, make_customer, make_product):
    customer = make_customer()
    for who in ("a", "b", "c"):
        mark_blacklist(db_session, customer.id, marked_by=who, reason="prank orders")
    with pytest.raises(CustomerBlacklisted):
        place_order(db_session, customer.id, [(make_product().phone_code, 1)])


def test_stock_never_goes_negative_when_ordering_until_sold_out(db_session, make_customer, make_product):
    customer = make_customer()
    product = make_product(stock=7)
    placed = 0
    for quantity in [2, 3, 4, 1, 1, 5, 1]:
        try:
            place_order(db_session, customer.id, [(product.phone_code, quantity)])
            placed += quantity
        except InsufficientStock:
            pass
    stock = db_session.scalars(select(Stock).where(Stock.product_id == product.id)).one()
    db_session.refresh(stock)
    assert placed == 7 and stock.reserved == 7 and stock.available == 0 and stock.on_hand == 7


def test_order_takes_stock_from_a_second_warehouse_when_the_first_is_short(
    db_session, factories, make_customer, make_product, make_warehouse
):
    product = make_product(stock=1, warehouse=make_warehouse(priority=1))
    backup = make_warehouse(priority=2)
    factories.add_stock(db_session, product, 5, warehouse=backup)
    order = place_order(db_session, make_customer().id, [(product.phone_code, 3)])
    assert order.items[0].warehouse_id == backup.id


def test_promotion_discount_applies_to_order_total(db_session, make_customer, make_product, make_promotion):
    product = make_product(price="100.00", stock=10)
    now = dt.datetime.now(UTC)
    make_promotion([product], rule="buy_x_get_y", buy_quantity=2, free_quantity=1,
                   starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=1))
    make_promotion([product], rule="percent", percent="10",
                   starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=1))
    order = place_order(db_session, make_customer().id, [(product.phone_code, 3)], at=now)
    assert order.subtotal == Decimal("300.00")
    assert order.discount == Decimal("100.00")  # buy 2 get 1 beats 10 % off
    assert order.total == Decimal("200.00") and order.points_earned == 200


def test_order_numbers_are_ten_digits_with_a_check_digit():
    drawn = [new_order_number() for _ in range(500)]
    numbers = set(drawn)
    assert len(numbers) >= 498  # random draws from 9e8 numbers: a collision is rare (and retried), three are not
    assert all(is_valid_order_number(n) and n[0] != "0" for n in numbers)
    good = next(iter(numbers))
    typo = good[:3] + str((int(good[3]) + 1) % 10) + good[4:]
    assert not is_valid_order_number(typo)
    assert luhn_digit("7992739871") == "3"  # the textbook Luhn example 79927398713


def test_order_number_collision_is_retried(db_session, make_customer, make_product, monkeypatch):
    from crm_core.services import orders as orders_module

    first = place_order(db_session, make_customer().id, [(make_product().phone_code, 1)])
    fresh = new_order_number()
    numbers = iter([first.number, first.number, fresh])
    monkeypatch.setattr(orders_module, "new_order_number", lambda: next(numbers))
    second = place_order(db_session, make_customer().id, [(make_product().phone_code, 1)])
    assert second.number == fresh


def test_order_by_number_finds_it_and_rejects_typos_and_unknown_numbers(db_session, make_customer, make_product):
    order = place_order(db_session, make_customer().id, [(make_product().phone_code, 1)])
    assert order_by_number(db_session, f"{order.number[:5]} {order.number[5:]}").id == order.id
    typo = order.number[:-1] + str((int(order.number[-1]) + 1) % 10)
    with pytest.raises(UnknownOrder) as caught:
        order_by_number(db_session, typo)
    assert caught.value.details["reason"] == "check-digit"
    body = "1" if order.number[:9] != "1" * 9 else "2"
    unknown = body * 9 + luhn_digit(body * 9)
    with pytest.raises(UnknownOrder) as caught:
        order_by_number(db_session, unknown)
    assert caught.value.details["reason"] == "not-found"


def test_recent_orders_for_caller_are_newest_first_in_any_number_format(db_session, make_customer, make_product):
    customer = make_customer(phones=["13912345670"])
    product = make_product(stock=10)
    numbers = [place_order(db_session, customer.id, [(product.phone_code, 1)]).number for _ in range(4)]
    found = recent_orders_for_caller(db_session, "+86 139 1234 5670", limit=3)
    assert [o.number for o in found] == numbers[::-1][:3]
    assert recent_orders_for_caller(db_session, "13700000001") == []


@pytest.mark.parametrize("products", [1, 2])
def test_order_that_finds_no_free_number_gives_its_stock_back(db_session, make_customer, make_product, monkeypatch,
                                                              products):
    from crm_core.exceptions import OrderNumberExhausted
    from crm_core.services import orders as orders_module

    taken = place_order(db_session, make_customer().id, [(make_product().phone_code, 1)]).number
    monkeypatch.setattr(orders_module, "new_order_number", lambda: taken)
    wanted = [make_product(stock=4) for _ in range(products)]
    before = _counts(db_session)
    with pytest.raises(OrderNumberExhausted):
        place_order(db_session, make_customer().id, [(p.phone_code, 2) for p in wanted])
    assert _counts(db_session) == before
    assert [stock_available(db_session, p.id) for p in wanted] == [4] * products


def test_reservation_falls_back_to_walking_warehouses_when_the_one_shot_update_loses_a_race(
    db_session, factories, make_customer, make_product, make_warehouse, monkeypatch
):
    from sqlalchemy import false

    from crm_core.services import inventory

    # Simulate losing the race: the single-statement reservation finds no row, as if another caller took it.
    monkeypatch.setattr(inventory, "RESERVE_BEST", inventory.RESERVE_BEST.where(false()))
    product = make_product(stock=1, warehouse=make_warehouse(priority=1))
    factories.add_stock(db_session, product, 2, warehouse=make_warehouse(priority=2))
    order = place_order(db_session, make_customer().id, [(product.phone_code, 2)])
    assert order.items[0].quantity == 2 and stock_available(db_session, product.id) == 1
    with pytest.raises(InsufficientStock):
        place_order(db_session, make_customer().id, [(product.phone_code, 2)])
