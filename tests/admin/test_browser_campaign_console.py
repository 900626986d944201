"""The campaign console in a real browser (Playwright + Debian chromium, headless) against a real engine.

The engine serves the admin UI and ``/events``; ``hotline.campaign_events.attach`` publishes the campaign's
figures (database figures through the engine's DB gateway, live figures from a stand-in dialer's ``status``)
every half second. The campaign manager opens the console; attempts are then written to the database and the
dialer's calls in flight change; the figures on the page follow over SSE without a reload (a marker set on
the page's ``window`` survives). Screenshot: test-artifacts/campaign-console.png.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import reactor

from engine_rig import engine_settings, in_thread, start_engine

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason="browser tests need Debian chromium at /usr/bin/chromium"),
              pytest.mark.slow]
pytest.importorskip("playwright", reason="browser tests need playwright (pip)")


class StandInDialer:
    """What the campaign publisher asks of the dialer: ``status(campaign_id)``."""

    def __init__(self) -> None:
        self.in_flight = 0

    def status(self, campaign_id: int) -> dict[str, Any]:
        return {"campaign_id": campaign_id, "active": True, "in_flight": self.in_flight, "ringing": 0,
                "last_decision": 1, "target": 0.0225, "abandon_rate": 0.0, "agents": 2}


def seed(url: str) -> int:
    from crm_core.db import make_engine, session_factory, transaction
    from crm_core.migrate import upgrade
    from crm_core.models import Campaign, CampaignContact

    upgrade(url)
    engine = make_engine(url)
    try:
        with transaction(session_factory(engine)) as s:
            campaign = Campaign(name="回访 delivery care", status="running", caller_id="+864008001234")
            s.add(campaign)
            s.flush()
            for n in range(3):
                s.add(CampaignContact(campaign_id=campaign.id, number=f"+8613800000{n:03d}"))
            return campaign.id
    finally:
        engine.dispose()


def dial_two(url: str, campaign_id: int) -> None:
    """Two finished attempts, as the dialer would have written them (answered + connected, no answer)."""
    from sqlalchemy import select

    from crm_core.db import make_engine, session_factory, transaction
    from crm_core.models import CampaignAttempt, CampaignContact

    now = dt.datetime.now(dt.timezone.utc)
    engine = make_engine(url)
    try:
        with transaction(session_factory(engine)) as s:
            contacts = s.scalars(select(CampaignContact).where(CampaignContact.campaign_id == campaign_id)
                                 .order_by(CampaignContact.id)).all()
            for contact, result in zip(contacts, ("answered", "no_answer")):
                s.add(CampaignAttempt(campaign_id=campaign_id, contact_id=contact.id, number=contact.number,
                                      mode="predictive", started_at=now, ended_at=now, result=result,
                                      answered_at=now if result == "answered" else None,
                                      connected_at=now if result == "answered" else None))
                contact.status = "done"
    finally:
        engine.dispose()


@pytest.fixture
def hotline(tmp_path, database_maker):
    from hotline.campaign_events import attach

    url = database_maker("sqlite")
    campaign_id = seed(url)
    engine = start_engine(engine_settings(url, tmp_path), web=True)
    dialer = StandInDialer()
    engine.campaign_events.stop()  # the engine's own publisher (its idle dialer) gives way to this stand-in's
    events = attach(engine, dialer, engine.acd.gateway, reactor, interval=0.5)  # after start: starts at once
    assert events is not None and events.running
    yield engine, url, campaign_id, dialer
    engine.acd.stop()
    pytest_twisted.blockon(engine.stop())


def drive_browser(base: str, campaign_id: int, ready: threading.Event, go_on: threading.Event) -> dict[str, str]:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--disable-gpu", "--no-first-run", "--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.goto(f"{base}/login?next=/admin/campaign_console/{campaign_id}/%3Flang%3Den")
            page.fill("#username", "campaign")
            page.fill("#password", "campaign-demo")
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(rf".*/admin/campaign_console/{campaign_id}/.*"), timeout=10_000)
            expect(page.locator("#cc-live")).to_be_visible()
            expect(page.locator('#cc-figures [data-field="dialled"]')).to_have_text("0")
            expect(page.locator('#cc-figures [data-field="remaining"]')).to_have_text("3")
            page.evaluate("window.__sameDocument = 'still here'")
            ready.set()
            assert go_on.wait(15), "the attempts were not written"
            expect(page.locator('#cc-figures [data-field="dialled"]')).to_have_text("2", timeout=15_000)
            expect(page.locator('#cc-figures [data-field="in_flight"]')).to_have_text("7", timeout=15_000)
            expect(page.locator('#cc-figures [data-field="remaining"]')).to_have_text("1")
            expect(page.locator('#cc-figures [data-field="abandon_percent"]')).to_have_text("0.00%")
            page.screenshot(path=str(ARTIFACTS / "campaign-console.png"), full_page=True)
            return {"marker": page.evaluate("window.__sameDocument") or "",
                    "connected": page.locator('#cc-figures [data-field="connected"]').inner_text()}
        finally:
            browser.close()


@pytest.mark.timeout(90)
@pytest_twisted.ensureDeferred
async def test_console_figures_update_over_sse_without_a_reload(hotline):
    from engine_rig import wait_for

    engine, url, campaign_id, dialer = hotline
    base = f"http://127.0.0.1:{engine.ports['admin']}"
    ready, go_on = threading.Event(), threading.Event()
    browser = in_thread(drive_browser, base, campaign_id, ready, go_on)
    browser.addErrback(lambda f: (ready.set(), f)[1])  # a browser failure must not leave us waiting
    await wait_for(lambda: ready.is_set(), timeout=40, what="the console to open")
    await in_thread(dial_two, url, campaign_id)
    dialer.in_flight = 7
    go_on.set()
    seen = await browser.addTimeout(45, reactor)
    assert seen == {"marker": "still here", "connected": "1"}
    assert (ARTIFACTS / "campaign-console.png").stat().st_size > 10_000
