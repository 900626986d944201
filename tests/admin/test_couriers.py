"""Couriers: admins keep the list; shipping an order names one of them (or any name while none is set up)."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import Courier, Order
from crm_core.services.orders import place_order

import factories
import pytest


@pytest.fixture(autouse=True)
def no_couriers_left(dbs):
    """The admin tests share committed data; couriers change how every order ships, so remove ours."""
    yield
    dbs.rollback()
    for courier in dbs.scalars(select(Courier)):
        dbs.delete(courier)
    dbs.commit()


def _order(dbs):
    customer = factories.make_customer(dbs)
    product = factories.make_product(dbs, price="50.00", stock=5)
    order = place_order(dbs, customer.id, [(product.phone_code, 1)], created_by="test")
    dbs.commit()
    return order


def test_admin_creates_a_courier_and_a_tracking_page_needs_the_waybill_slot(auth, dbs):
    auth.login("admin")
    bad = auth.post("/admin/couriers/new/", {"name": "顺丰速运", "code": "SF",
                                             "tracking_url": "https://www.sf-express.com/track"})
    assert bad.status_code == 200 and "{waybill}" in bad.text
    assert dbs.scalar(select(Courier).where(Courier.name == "顺丰速运")) is None
    good = auth.post("/admin/couriers/new/", {"name": "顺丰速运", "code": "SF", "active": "y",
                                              "tracking_url": "https://www.sf-express.com/track?no={waybill}"})
    assert good.status_code == 302, good.text
    dbs.reread()
    courier = dbs.scalars(select(Courier).where(Courier.name == "顺丰速运")).one()
    assert courier.tracking_link("SF1234") == "https://www.sf-express.com/track?no=SF1234"


def test_supervisor_sees_couriers_but_cannot_add_one_and_agents_cannot_see_them(auth):
    auth.login("supervisor")
    assert auth.client.get("/admin/couriers/").status_code == 200
    assert auth.client.get("/admin/couriers/new/").status_code in (302, 403)
    auth.logout()
    auth.login("agent")
    assert auth.client.get("/admin/couriers/").status_code == 403


def test_shipping_with_an_unknown_courier_is_refused_when_couriers_are_set_up(auth, dbs):
    dbs.add(Courier(name="中通快递", code="ZTO"))
    dbs.commit()
    order = _order(dbs)
    auth.login("supervisor")
    refused = auth.post(f"/admin/orders/status/{order.id}", {"to_status": "shipped", "courier": "Unknown Express",
                                                             "waybill": "U1", "reason": ""})
    assert refused.status_code == 400 and "中通快递" in refused.text
    dbs.reread()
    assert dbs.get(Order, order.id).status == "ordered"
    shipped = auth.post(f"/admin/orders/status/{order.id}", {"to_status": "shipped", "courier": "中通快递",
                                                             "waybill": "7123", "reason": ""})
    assert shipped.status_code == 302, shipped.text
    dbs.reread()
    assert dbs.get(Order, order.id).courier == "中通快递"
