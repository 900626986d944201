"""Catalogue: products by phone code, SKU or name; promotions in force at a time; discount rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from crm_core.exceptions import UnknownProduct
from crm_core.models import Promotion
from crm_core.services import active_promotions, low_stock, product_by_code, product_by_phone_code, search_products

UTC = dt.timezone.utc
NOON = dt.datetime(2026, 11, 11, 12, 0, tzinfo=UTC)


def test_product_by_phone_code_and_by_sku(db_session, make_product):
    product = make_product(phone_code="8801", sku="TV-WOK-01")
    assert product_by_phone_code(db_session, " 8801 ") is product
    assert product_by_code(db_session, "TV-WOK-01") is product
    with pytest.raises(UnknownProduct) as caught:
        product_by_phone_code(db_session, "0000")
    assert caught.value.error_id == "unknown-product"


def test_search_products_by_name_or_description_names_first(db_session, make_product):
    wok = make_product(name="Non-stick Wok", description="A wok for every kitchen")
    pan = make_product(name="Frying Pan", description="Lighter than a wok")
    make_product(name="Old Wok", status="discontinued")
    assert search_products(db_session, "WOK") == [wok, pan]
    assert len(search_products(db_session, "wok", active_only=False)) == 3


def test_active_promotions_at_a_given_time(db_session, make_product, make_promotion):
    product = make_product()
    other = make_product()
    hour = dt.timedelta(hours=1)
    running = make_promotion([product], percent="10", starts_at=NOON - hour, ends_at=NOON + hour,
                             announcement="Ten percent off woks until one o'clock")
    make_promotion([product], percent="20", starts_at=NOON + hour, ends_at=NOON + 2 * hour)
    make_promotion([other], percent="30", starts_at=NOON - hour, ends_at=NOON + hour)
    assert running in active_promotions(db_session, NOON)
    assert active_promotions(db_session, NOON, product_ids=[product.id]) == [running]
    assert active_promotions(db_session, NOON + hour, product_ids=[product.id])[0].percent == Decimal("20.00")
    assert active_promotions(db_session, NOON - 2 * hour, product_ids=[product.id]) == []


@pytest.mark.parametrize(
    "rule, fields, quantity, discount",
    [
        ("percent", {"percent": Decimal("15")}, 2, Decimal("30.00")),
        ("amount_off", {"amount_off": Decimal("20")}, 3, Decimal("60.00")),
        ("amount_off", {"amount_off": Decimal("500")}, 1, Decimal("100.00")),
        ("buy_x_get_y", {"buy_quantity": 2, "free_quantity": 1}, 7, Decimal("200.00")),
    ],
)
def test_discount_rules(rule, fields, quantity, discount):
    promotion = Promotion(rule=rule, **fields)
    assert promotion.discount_for(Decimal("100.00"), quantity) == discount


def test_low_stock_lists_rows_at_or_under_the_warning_line(db_session, make_product):
    low = make_product(stock=3, warning_level=5)
    make_product(stock=30, warning_level=5)
    rows = low_stock(db_session)
    assert [r.product_id for r in rows if r.product_id == low.id] == [low.id]
    assert all(r.is_low for r in rows)
