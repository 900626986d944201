"""One pricing path: the read-back quote and the placed order agree line by line, on both databases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import factories
from crm_core.exceptions import QuoteChanged, UnknownProduct
from crm_core.models import Promotion
from crm_core.services.orders import place_order
from crm_core.services.pricing import quote_order

UTC = dt.timezone.utc


def test_the_quote_names_each_promotion_and_the_placed_order_is_what_it_said(db_session):
    now = dt.datetime.now(UTC)
    knife = factories.make_product(db_session, price="199.00", stock=10, name="Knife set")
    tea = factories.make_product(db_session, price="30.00", stock=10, name="Tea")
    fifty_off = factories.make_promotion(db_session, [knife], rule="amount_off", amount_off="50.00",
                                         starts_at=now - dt.timedelta(days=1), ends_at=now + dt.timedelta(days=1))
    factories.make_promotion(db_session, [tea], rule="buy_x_get_y", buy_quantity=2, free_quantity=1,
                             starts_at=now - dt.timedelta(days=1), ends_at=now + dt.timedelta(days=1))
    customer = factories.make_customer(db_session)
    quote = quote_order(db_session, customer.id, [(knife.phone_code, 2), (tea.phone_code, 3)])
    knife_line, tea_line = quote.lines
    assert (knife_line.gross, knife_line.discount, knife_line.line_total) == (
        Decimal("398.00"), Decimal("100.00"), Decimal("298.00"))
    assert knife_line.promotion_name == fifty_off.name
    assert (tea_line.gross, tea_line.discount) == (Decimal("90.00"), Decimal("30.00"))
    assert (quote.subtotal, quote.discount, quote.total, quote.points) == (
        Decimal("488.00"), Decimal("130.00"), Decimal("358.00"), 358)
    order = place_order(db_session, customer.id, [(knife.phone_code, 2), (tea.phone_code, 3)], quote=quote)
    assert (order.subtotal, order.discount, order.total, order.points_earned) == (
        quote.subtotal, quote.discount, quote.total, quote.points)
    stored = {i.product_id: (i.quantity, i.discount, i.line_total, i.promotion_id) for i in order.items}
    assert stored == {line.product_id: (line.quantity, line.discount, line.line_total, line.promotion_id)
                      for line in quote.lines}


def test_a_promotion_that_changed_after_the_read_back_refuses_the_order(db_session):
    now = dt.datetime.now(UTC)
    knife = factories.make_product(db_session, price="100.00", stock=10)
    promotion = factories.make_promotion(db_session, [knife], percent="10", starts_at=now - dt.timedelta(days=1),
                                         ends_at=now + dt.timedelta(days=1))
    customer = factories.make_customer(db_session)
    quote = quote_order(db_session, customer.id, [(knife.phone_code, 1)])
    assert quote.total == Decimal("90.00")
    db_session.get(Promotion, promotion.id).percent = Decimal("20")
    db_session.flush()
    with pytest.raises(QuoteChanged):
        place_order(db_session, customer.id, [(knife.phone_code, 1)], quote=quote)


def test_a_quote_refuses_what_an_order_would(db_session):
    customer = factories.make_customer(db_session)
    with pytest.raises(UnknownProduct):
        quote_order(db_session, customer.id, [("99999999", 1)])
