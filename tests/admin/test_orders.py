"""Orders in the back office: search, filters, and status changes only through the service's transitions."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import AuditEntry
from crm_core.models import Order, OrderStatusChange
from crm_core.services.orders import place_order

import factories


def make_order(dbs, **kwargs):
    customer = factories.make_customer(dbs)
    product = factories.make_product(dbs, price="50.00", stock=5)
    order = place_order(dbs, customer.id, [(product.phone_code, 1)], created_by="test", **kwargs)
    dbs.commit()
    return order


def test_order_list_searches_by_number_and_by_phone(auth, dbs):
    order = make_order(dbs, media_source="TV-1")
    other = make_order(dbs)
    auth.login("supervisor")
    by_number = auth.client.get(f"/admin/orders/?search={order.number}").text
    assert order.number in by_number and other.number not in by_number
    phone = dbs.get(Order, order.id).customer.phones[0].e164
    by_phone = auth.client.get(f"/admin/orders/?search={phone[3:]}").text
    assert order.number in by_phone and other.number not in by_phone


def test_order_list_filters_by_status(auth, dbs):
    order = make_order(dbs)
    auth.login("admin")
    page = auth.client.get("/admin/orders/?flt0_0=ordered&page_size=200").text
    assert order.number in page
    assert order.number not in auth.client.get("/admin/orders/?flt0_0=shipped&page_size=200").text


def test_order_status_form_offers_only_the_allowed_moves(auth, dbs):
    order = make_order(dbs)
    auth.login("admin")
    page = auth.client.get(f"/admin/orders/status/{order.id}?lang=en").text
    assert 'value="shipped"' in page and 'value="cancelled"' in page
    assert 'value="settled"' not in page and 'value="delivered"' not in page


def test_legal_status_change_goes_through_the_service_with_history_and_audit(auth, dbs):
    order = make_order(dbs)
    auth.login("supervisor")
    response = auth.post(f"/admin/orders/status/{order.id}", {"to_status": "shipped", "courier": "SF",
                                                              "waybill": "SF123", "reason": "packed"})
    assert response.status_code == 302, response.text
    dbs.reread()
    fresh = dbs.get(Order, order.id)
    assert fresh.status == "shipped" and fresh.waybill == "SF123"
    history = list(dbs.scalars(select(OrderStatusChange).where(OrderStatusChange.order_id == order.id)
                               .order_by(OrderStatusChange.id)))
    assert [(h.from_status, h.to_status, h.changed_by) for h in history][-1] == ("ordered", "shipped", "supervisor")
    entry = dbs.scalars(select(AuditEntry).where(AuditEntry.model == "orders", AuditEntry.pk == str(order.id))).one()
    assert entry.action == "order-status" and entry.changes["to_status"] == "shipped"


def test_illegal_status_change_shows_the_service_error_and_changes_nothing(auth, dbs):
    order = make_order(dbs)
    auth.login("admin")
    response = auth.post(f"/admin/orders/status/{order.id}?lang=en", {"to_status": "settled"})
    assert response.status_code == 400
    assert f"order {order.number} cannot go from ordered to settled" in response.text
    dbs.reread()
    assert dbs.get(Order, order.id).status == "ordered"


def test_shipping_without_a_waybill_is_refused_by_the_service(auth, dbs):
    order = make_order(dbs)
    auth.login("admin")
    response = auth.post(f"/admin/orders/status/{order.id}?lang=en", {"to_status": "shipped"})
    assert response.status_code == 400 and "shipping needs a courier and a waybill" in response.text


def test_status_is_not_an_editable_field(auth, dbs):
    order = make_order(dbs)
    auth.login("admin")
    page = auth.client.get(f"/admin/orders/edit/?id={order.id}").text
    assert 'name="status"' not in page
    auth.post(f"/admin/orders/edit/?id={order.id}", {"status": "settled", "ship_to_name": "Li"})
    dbs.reread()
    assert dbs.get(Order, order.id).status == "ordered"


def test_campaign_manager_and_agent_cannot_change_a_status(as_role, dbs):
    order = make_order(dbs)
    for username in ("campaign", "agent"):
        actions = as_role(username)
        assert actions.post(f"/admin/orders/status/{order.id}", {"to_status": "cancelled"}).status_code == 403
    dbs.reread()
    assert dbs.get(Order, order.id).status == "ordered"


def test_order_details_show_items_and_history(auth, dbs):
    order = make_order(dbs)
    auth.login("admin")
    page = auth.client.get(f"/admin/orders/details/?id={order.id}&lang=en").text
    assert "Status history" in page and "placed" in page and 'id="change-status"' in page
