"""The preview panel of the agent desk in a real browser (Playwright + Debian chromium): "Next contact" shows the
number, the merge fields and the customer's card; Skip sends the reason and asks for the next one; Dial shows
the call. The engine's ``preview`` service is a fake with its interface on an inline bridge.
Screenshot: test-artifacts/desk-preview.png."""

from __future__ import annotations

import pytest

import factories
from crm_core.models import Campaign
from test_desk_preview import FakePreview, InlineBridge, desk_agent_id  # noqa: F401,F811  (fixture)

pytest.importorskip("playwright")

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("admin_db_url", ["sqlite"], indirect=True)  # one backend is enough for the browser
def test_agent_gets_skips_and_dials_preview_contacts(page, live_server, artifacts, app, dbs, desk_agent_id,
                                                     admin_db_url):
    campaign = Campaign(name=f"生日关怀 {factories.next_serial()}", mode="preview", status="running",
                        caller_id="+864008001234")
    dbs.add(campaign)
    customer = factories.make_customer(dbs, name="王丽")
    dbs.commit()
    number = customer.phones[0].e164
    service = FakePreview()
    service.known_attempts.add(42)
    contacts = [{"attempt_id": 41, "campaign_id": campaign.id, "campaign_name": campaign.name, "contact_id": 1,
                 "number": "+8613900000001", "fields": {"name": "<b>张伟</b>"}, "customer_id": None},
                {"attempt_id": 42, "campaign_id": campaign.id, "campaign_name": campaign.name, "contact_id": 2,
                 "number": number, "fields": {"name": "王丽", "product": "8801"}, "customer_id": customer.id}]
    app.extensions["hotline_engine"] = InlineBridge({"preview": service})
    try:
        page.goto(f"{live_server}/login?lang=en")
        page.fill("input[name=username]", "agent")
        page.fill("input[name=password]", "agent-demo")
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_url(f"{live_server}/admin/**")
        page.goto(f"{live_server}/admin/desk/?lang=en")
        page.locator("#preview").wait_for(state="visible")
        service.contact = contacts[0]
        page.click("#preview-next")
        page.locator("#preview-body").wait_for(state="visible")
        assert page.locator("#preview-number").inner_text() == "+8613900000001"
        assert page.locator("#preview-fields td").first.inner_text() == "<b>张伟</b>"  # text, never markup
        service.contact = contacts[1]
        page.select_option("#preview-reason", "wrong_number")
        page.click("#preview-skip")
        page.wait_for_function(f"document.querySelector('#preview-number').textContent === '{number}'")
        assert page.locator("#pop-name").inner_text() == "王丽"  # the desk's customer card
        page.click("#preview-dial")
        page.wait_for_function("document.querySelector('#preview-call').textContent === 'preview-42'")
        page.screenshot(path=str(artifacts / "desk-preview.png"), full_page=True)
    finally:
        del app.extensions["hotline_engine"]
    assert [c[0] for c in service.calls if c[0] != "next"] == ["skip", "dial"]
    assert ("skip", desk_agent_id, 41, "wrong_number") in service.calls
    assert ("dial", desk_agent_id, 42) in service.calls
