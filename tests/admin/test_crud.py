"""CRUD round trips through the real forms on a real database, with validation errors, export and audit."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from crm_core.models import AuditEntry
from crm_core.models import AdminUser, Customer, CustomerPhone, Product, Promotion, Queue

import factories


def _audit(dbs, table, pk):
    return list(dbs.scalars(select(AuditEntry).where(AuditEntry.model == table, AuditEntry.pk == str(pk))
                            .order_by(AuditEntry.id)))


def test_product_create_edit_delete_round_trip_is_audited(auth, dbs):
    auth.login("admin")
    serial = factories.next_serial()
    sku, code = f"RT-{serial}", str(700000 + serial)
    response = auth.post("/admin/products/new/", {"sku": sku, "phone_code": code, "name": "Round trip",
                                                  "price": "12.50", "status": "active"})
    assert response.status_code == 302, response.text
    product = dbs.scalars(select(Product).where(Product.sku == sku)).one()
    assert product.price == Decimal("12.50")

    response = auth.post(f"/admin/products/edit/?id={product.id}", {"sku": sku, "phone_code": code,
                                                                     "name": "Renamed", "price": "13.00",
                                                                     "status": "inactive"})
    assert response.status_code == 302, response.text
    dbs.reread()
    assert dbs.get(Product, product.id).name == "Renamed"

    pid = product.id
    assert auth.post("/admin/products/delete/", {"id": str(pid)}).status_code == 302
    dbs.reread()
    assert dbs.get(Product, pid) is None

    entries = _audit(dbs, "products", pid)
    assert [e.action for e in entries] == ["create", "update", "delete"]
    assert entries[0].username == "admin"
    assert entries[1].changes["name"] == ["Round trip", "Renamed"]
    assert entries[1].changes["price"] == ["12.50", "13.00"]
    assert "sku" not in entries[1].changes


def test_negative_price_is_refused_with_a_message(auth, dbs):
    auth.login("admin")
    serial = factories.next_serial()
    response = auth.post("/admin/products/new/?lang=en", {"sku": f"NEG-{serial}", "phone_code": str(800000 + serial),
                                                          "name": "Negative", "price": "-1", "status": "active"})
    assert response.status_code == 200
    assert "The price cannot be negative." in response.text
    assert dbs.scalars(select(Product).where(Product.sku == f"NEG-{serial}")).first() is None


def test_phone_code_must_be_digits(auth):
    auth.login("admin")
    response = auth.post("/admin/products/new/?lang=en", {"sku": "LETTERS", "phone_code": "12ab", "name": "x",
                                                          "price": "1", "status": "active"})
    assert "1 to 8 digits a caller can key in." in response.text


def test_customer_with_inline_phone_is_stored_in_e164(auth, dbs):
    auth.login("admin")
    name = f"Inline {factories.next_serial()}"
    number = factories.new_mobile()
    response = auth.post("/admin/customers/new/", {
        "name": name, "language": "zh", "notify_channel": "sms", "member_level": "gold",
        "phones-0-e164": number, "phones-0-kind": "mobile", "phones-0-is_primary": "y",
    })
    assert response.status_code == 302, response.text
    customer = dbs.scalars(select(Customer).where(Customer.name == name)).one()
    phones = list(dbs.scalars(select(CustomerPhone.e164).where(CustomerPhone.customer_id == customer.id)))
    assert phones == [f"+86{number}"]
    actions = {(e.model, e.action) for e in dbs.scalars(select(AuditEntry).where(AuditEntry.username == "admin"))}
    assert ("customer_phones", "create") in actions


def test_bad_phone_number_is_shown_as_a_field_error(auth, dbs):
    auth.login("admin")
    name = f"Bad phone {factories.next_serial()}"
    response = auth.post("/admin/customers/new/", {
        "name": name, "language": "zh", "notify_channel": "sms", "member_level": "normal",
        "phones-0-e164": "12345", "phones-0-kind": "mobile",
    })
    assert response.status_code == 200
    assert "is not a valid phone number" in response.text
    assert dbs.scalars(select(Customer).where(Customer.name == name)).first() is None


def test_customer_search_by_any_phone_format(auth, dbs):
    customer = factories.make_customer(dbs)
    dbs.commit()
    number = customer.phones[0].e164
    auth.login("supervisor")
    page = auth.client.get(f"/admin/customers/?search=0086 {number[3:]}")
    assert customer.name in page.text


def test_points_adjustment_goes_through_the_service_and_is_audited(auth, dbs):
    customer = factories.make_customer(dbs, points=10)
    dbs.commit()
    auth.login("supervisor")
    response = auth.post(f"/admin/customers/points/{customer.id}", {"delta": "-3", "reason": "goodwill fix"})
    assert response.status_code == 302, response.text
    dbs.reread()
    assert dbs.get(Customer, customer.id).points_balance == 7
    refused = auth.post(f"/admin/customers/points/{customer.id}?lang=en", {"delta": "-100", "reason": "too much"})
    assert refused.status_code == 400 and "Refused" in refused.text
    dbs.reread()
    assert dbs.get(Customer, customer.id).points_balance == 7
    assert [e.action for e in _audit(dbs, "customers", customer.id)] == ["points-adjust"]


def test_campaign_manager_cannot_adjust_points(as_role, dbs):
    customer = factories.make_customer(dbs)
    dbs.commit()
    campaign = as_role("campaign")
    assert campaign.client.get(f"/admin/customers/points/{customer.id}").status_code == 403


def test_promotion_dates_from_the_form_are_stored_as_utc(auth, dbs):
    auth.login("admin")
    name = f"Promo {factories.next_serial()}"
    response = auth.post("/admin/promotions/new/", {"name": name, "rule": "percent", "percent": "10",
                                                    "starts_at": "2026-12-01 00:00:00",
                                                    "ends_at": "2026-12-31 23:59:00", "active": "y"})
    assert response.status_code == 302, response.text
    promotion = dbs.scalars(select(Promotion).where(Promotion.name == name)).one()
    assert promotion.starts_at.utcoffset().total_seconds() == 0
    assert promotion.starts_at.day == 1


def test_products_csv_export_holds_the_rows(auth, dbs):
    product = factories.make_product(dbs, name="Exported kettle", price="88.00")
    dbs.commit()
    auth.login("admin")
    response = auth.client.get(f"/admin/products/export/csv/?search={product.sku}")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    response.close()
    assert response.status_code == 200
    assert rows[1][1:4] == [product.sku, product.phone_code, "Exported kettle"]


def test_products_xlsx_export_when_tablib_is_installed(auth, dbs):
    pytest.importorskip("tablib")
    pytest.importorskip("openpyxl")
    auth.login("admin")
    response = auth.client.get("/admin/products/export/xlsx/")
    data = response.get_data()
    response.close()
    assert response.status_code == 200 and data[:2] == b"PK"


def test_user_password_is_stored_hashed_and_works(auth, dbs, new_client_auth):
    auth.login("admin")
    username = f"sup{factories.next_serial()}"
    response = auth.post("/admin/users/new/", {"username": username, "role": "supervisor", "active": "y",
                                               "password": "correct-horse-1"})
    assert response.status_code == 302, response.text
    user = dbs.scalars(select(AdminUser).where(AdminUser.username == username)).one()
    assert user.password_hash != "correct-horse-1" and user.password_hash.startswith(("scrypt:", "pbkdf2:"))
    entry = _audit(dbs, "admin_users", user.id)[0]
    assert entry.changes["password_hash"] == ["***", "***"]
    assert new_client_auth().login(username, "correct-horse-1").status_code == 302


def test_user_without_password_or_with_a_short_one_is_refused(auth, dbs):
    auth.login("admin")
    for password in ("", "short"):
        username = f"nopw{factories.next_serial()}"
        response = auth.post("/admin/users/new/?lang=en", {"username": username, "role": "agent",
                                                           "password": password})
        assert "Refused" in response.text
        assert dbs.scalars(select(AdminUser).where(AdminUser.username == username)).first() is None


def test_queue_strategy_and_service_level_targets(auth, dbs):
    auth.login("admin")
    name = f"q{factories.next_serial()}"
    form = {"name": name, "strategy": "skills", "sl_target_seconds": "20", "sl_target_percent": "80",
            "wrapup_seconds": "5", "active": "y"}
    assert auth.post("/admin/queues/new/", form).status_code == 302
    assert dbs.scalars(select(Queue).where(Queue.name == name)).one().strategy == "skills"
    bad = auth.post("/admin/queues/new/?lang=en", {**form, "name": name + "b", "sl_target_percent": "150"})
    assert bad.status_code == 200 and "Number must be between" in bad.text
    odd = auth.post("/admin/queues/new/?lang=en", {**form, "name": name + "c", "strategy": "random"})
    assert "Not a valid choice" in odd.text


def _count_queries(app, fn):
    from admin.extensions import db

    with app.app_context():
        engine = db.engine
    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(statements)


@pytest.mark.parametrize("endpoint", ["orders", "customers", "stock", "products", "complaints", "points"])
def test_list_pages_run_a_fixed_number_of_queries_whatever_the_rows(app, auth, dbs, endpoint):
    auth.login("admin")
    small = _count_queries(app, lambda: auth.client.get(f"/admin/{endpoint}/?page_size=1"))
    large = _count_queries(app, lambda: auth.client.get(f"/admin/{endpoint}/?page_size=50"))
    assert large <= small + 1, (small, large)
