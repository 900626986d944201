"""Orders placed under a number of their own (imports, the demo): valid and free, or refused with nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm_core.exceptions import InvalidOrderNumber, OrderNumberTaken
from crm_core.models import Order, PointsEntry, Stock, StockReservation
from crm_core.services import order_by_number, place_order
from crm_core.services.orders import luhn_digit, new_order_number


def _number(body: str = "123456789") -> str:
    return body + luhn_digit(body)


def test_place_order_with_an_explicit_number_uses_it_everywhere(db_session, make_customer, make_product):
    customer, product = make_customer(), make_product(price="50.00", stock=5)
    number = _number()
    order = place_order(db_session, customer.id, [(product.phone_code, 2)], order_number=f"{number[:5]}-{number[5:]}")
    assert order.number == number and order_by_number(db_session, number).id == order.id
    reason = db_session.scalar(select(PointsEntry.reason).where(PointsEntry.order_id == order.id))
    assert reason == f"order {number}"


@pytest.mark.parametrize("bad", ["12345", "1234567890", "12345678901", "abcdefghij", ""])
def test_place_order_refuses_a_malformed_number_before_touching_stock(db_session, make_customer, make_product, bad):
    if bad == "1234567890" and luhn_digit("123456789") == "0":
        bad = "1234567891"
    customer, product = make_customer(), make_product(stock=5)
    with pytest.raises(InvalidOrderNumber) as caught:
        place_order(db_session, customer.id, [(product.phone_code, 1)], order_number=bad)
    assert caught.value.error_id == "invalid-order-number"
    assert db_session.scalar(select(Stock.reserved).where(Stock.product_id == product.id)) == 0


@pytest.mark.parametrize("lines", [1, 2], ids=["one-line", "two-lines"])
def test_place_order_with_a_taken_number_is_refused_and_writes_nothing(
    db_session, make_customer, make_product, lines
):
    customer = make_customer()
    products = [make_product(stock=5) for _ in range(lines)]
    first = place_order(db_session, customer.id, [(products[0].phone_code, 1)], order_number=new_order_number())
    before = db_session.scalar(select(func.count()).select_from(Order))
    with pytest.raises(OrderNumberTaken) as caught:
        place_order(db_session, customer.id, [(p.phone_code, 1) for p in products], order_number=first.number)
    assert caught.value.details["number"] == first.number
    assert db_session.scalar(select(func.count()).select_from(Order)) == before
    assert db_session.scalar(select(func.sum(Stock.reserved)).where(Stock.product_id.in_([p.id for p in products]))
                             ) == 1
    assert db_session.scalar(select(func.count()).select_from(StockReservation)
                             .join(Stock).where(Stock.product_id.in_([p.id for p in products]))) == 1


def test_taken_number_lost_in_a_race_gives_the_stock_back(db_session, make_customer, make_product, monkeypatch):
    """The number was free when checked but another order took it before the insert."""
    from crm_core.services import order_sql

    customer, product = make_customer(), make_product(stock=5)
    taken = place_order(db_session, customer.id, [(product.phone_code, 1)]).number
    monkeypatch.setattr(order_sql, "ORDER_NUMBER_USED", select(Order.id).where(Order.id < 0))  # check misses it
    with pytest.raises(OrderNumberTaken):
        place_order(db_session, customer.id, [(product.phone_code, 2)], order_number=taken)
    assert db_session.scalar(select(Stock.reserved).where(Stock.product_id == product.id)) == 1
