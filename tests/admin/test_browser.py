"""The admin UI in a real browser (Playwright + Debian chromium, headless): log in, change an order's
status through the UI, switch to Chinese. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crm_core.services.orders import place_order

import factories

pytestmark = [
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                       reason="browser tests need Debian chromium at /usr/bin/chromium (apt-get install chromium)"),
]

pytest.importorskip("playwright", reason="browser tests need playwright + pytest-playwright (pip)")


@pytest.fixture
def order(dbs):
    customer = factories.make_customer(dbs, name="浏览器 客户")
    product = factories.make_product(dbs, price="30.00", stock=3)
    made = place_order(dbs, customer.id, [(product.phone_code, 1)], created_by="browser-test")
    dbs.commit()
    return made


def _login(page, base, username="admin", password="admin-demo"):
    page.goto(f"{base}/admin/?lang=en")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/(\?.*)?$"), timeout=10_000)


def test_login_orders_list_status_change_and_chinese(page, live_server, order, artifacts, dbs):
    _login(page, live_server)
    page.goto(f"{live_server}/admin/orders/?search={order.number}&lang=en")
    assert page.locator("table").get_by_text(order.number).is_visible()
    page.screenshot(path=str(artifacts / "admin-orders-list.png"), full_page=True)

    page.goto(f"{live_server}/admin/orders/details/?id={order.id}")
    page.click("#change-status")
    page.select_option("#to_status", "shipped")
    page.fill("#courier", "SF Express")
    page.fill("#waybill", "SF1000")
    page.fill("#reason", "packed in the browser")
    page.locator("form.admin-form [type=submit]").first.click()
    page.wait_for_url(re.compile(r".*/admin/orders/details/.*"), timeout=10_000)
    assert page.get_by_text(f"Order {order.number} is now shipped.").is_visible()
    page.screenshot(path=str(artifacts / "admin-order-shipped.png"), full_page=True)
    dbs.reread()
    from crm_core.models import Order

    assert dbs.get(Order, order.id).status == "shipped"

    page.click("#lang-zh")
    page.wait_for_url(re.compile(r".*lang=zh.*"), timeout=10_000)
    assert page.locator("nav").get_by_text("订单").first.is_visible()
    assert page.get_by_text("状态历史").is_visible()
    page.screenshot(path=str(artifacts / "admin-order-zh.png"), full_page=True)


def test_illegal_move_is_not_offered_and_agent_is_refused(page, live_server, order, artifacts):
    _login(page, live_server)
    page.goto(f"{live_server}/admin/orders/status/{order.id}?lang=en")
    options = page.locator("#to_status option")
    assert {options.nth(i).get_attribute("value") for i in range(options.count())} == {"shipped", "cancelled"}
    assert set(options.all_inner_texts()) == {"Shipped", "Cancelled"}  # the codes in words
    page.click("#logout")
    _login(page, live_server, "agent", "agent-demo")
    response = page.goto(f"{live_server}/admin/orders/")
    assert response.status == 403
    page.goto(f"{live_server}/admin/?lang=en")
    assert page.locator("#no-backoffice").is_visible()
    page.screenshot(path=str(artifacts / "admin-agent-home.png"))
