"""The agent desk in a real browser (Playwright + Debian chromium, headless) against a real engine.

The agent logs in, logs into the queues and goes ready with the desk's buttons; a simulated caller
(the engine's simulator) presses 0; the screen pop renders the customer's name. Screenshots go to
test-artifacts/. Playwright's sync API runs in a thread of its own: the reactor (this thread) serves
the pages, the event stream and the call.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import reactor

from test_desk_engine import CALLER, CUSTOMER_NAME, _agent_id, in_thread, start_engine, wait_for

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason="browser tests need Debian chromium at /usr/bin/chromium")]
pytest.importorskip("playwright", reason="browser tests need playwright (pip)")


@pytest.fixture
def hotline(tmp_path, database_maker):
    engine = start_engine(tmp_path, database_maker)
    pytest_twisted.blockon(engine.switch.when_connected())
    engine.simulator.directory.register("1001", answer_after=1.0, talk_seconds=5.0)
    yield engine
    engine.acd.stop()
    pytest_twisted.blockon(engine.stop())


def drive_browser(base: str, ready: threading.Event, go_on: threading.Event) -> dict[str, str]:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/login?next=/admin/desk/%3Flang%3Den")
            page.fill("#username", "agent")
            page.fill("#password", "agent-demo")
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r".*/admin/desk/.*"), timeout=10_000)
            expect(page.locator("#agent-state")).to_have_attribute("data-state", "logged_out", timeout=10_000)
            page.click("#btn-login")
            expect(page.locator("#agent-state")).to_have_attribute("data-state", "not_ready", timeout=10_000)
            page.click("#btn-ready")
            expect(page.locator("#agent-state")).to_have_attribute("data-state", "available", timeout=10_000)
            page.screenshot(path=str(ARTIFACTS / "desk-ready.png"), full_page=True)
            ready.set()
            assert go_on.wait(10), "the call was not placed"
            expect(page.locator("#pop-name")).to_have_text(CUSTOMER_NAME, timeout=25_000)
            expect(page.locator("#flag-vip")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "desk-screen-pop.png"), full_page=True)
            return {"level": page.locator("#pop-level").inner_text(),
                    "state": page.locator("#agent-state").get_attribute("data-state") or ""}
        finally:
            browser.close()


@pytest.mark.timeout(90)
@pytest_twisted.ensureDeferred
async def test_agent_goes_ready_in_the_browser_and_sees_the_screen_pop_of_a_simulated_call(hotline):
    base = f"http://127.0.0.1:{hotline.ports['admin']}"
    acd = hotline.acd.acd
    agent_id = await in_thread(lambda: _agent_id(hotline))
    if acd.board.get(agent_id).state.value != "logged_out":  # the demo wiring logged everyone in
        acd.logout(agent_id)
    ready, go_on = threading.Event(), threading.Event()
    browser = in_thread(drive_browser, base, ready, go_on)
    browser.addErrback(lambda f: (ready.set(), f)[1])  # a browser failure must not leave us waiting
    await wait_for(lambda: ready.is_set(), timeout=40, what="the desk to be ready")
    assert acd.board.get(agent_id).state.value == "available"
    call = hotline.simulator.place_call(CALLER, "4008001234", "wait_prompt 2; wait 0.2; press 0; wait_hangup")
    go_on.set()
    seen = await browser.addTimeout(45, reactor)
    assert seen["level"] == "gold" and seen["state"] in ("ringing", "on_call", "wrap_up")
    assert any(e["event"] == "bridge" for e in call.transcript) or acd.board.get(agent_id).call_uuid == call.uuid
    assert (ARTIFACTS / "desk-screen-pop.png").stat().st_size > 10_000
