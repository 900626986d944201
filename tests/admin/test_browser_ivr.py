"""The IVR editor and the test-call page in a real browser (Playwright + Debian chromium, headless) against a
REAL engine serving the admin: edit a menu node's text, listen to it, publish, see the new version; place a
test call, hear the edited text in the live transcript, press a key on the keypad, hang up.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import threads

from test_test_call import engine_tts_cache, hotline  # noqa: F401 - the real-engine fixtures

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="browser tests need Debian chromium at /usr/bin/chromium (apt-get install chromium)"),
]
pytest.importorskip("playwright", reason="browser tests need playwright (pip)")

NEW_TEXT = "浏览器改过的欢迎词，新闻请按一。"


def browse(base: str, artifacts: Path) -> None:
    """The whole visit, in a worker thread (the reactor, on the test's thread, serves the pages)."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            page.goto(f"{base}/admin/?lang=en")
            page.fill("#username", "admin")
            page.fill("#password", "admin-demo")
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r".*/admin/(\?.*)?$"))

            # -- the editor: tree, inline edit, listen, publish
            page.goto(f"{base}/admin/ivr_editor/?menu=main&lang=en")
            expect(page.locator("#published-version")).to_have_text("1")
            main = page.locator("#node-main")
            expect(main.locator(":scope > .ivr-node-head .ivr-text[data-lang=zh]")).to_contain_text("查询新闻请按一")
            news_toggle = main.locator(":scope > .ivr-node-head .ivr-toggle")
            news_toggle.click()  # collapse: the announcement under key 1 disappears, then comes back
            expect(page.locator("#node-news")).to_be_hidden()
            news_toggle.click()
            expect(page.locator("#node-news")).to_be_visible()
            main.locator(":scope > .ivr-node-head .ivr-edit-toggle").click()
            editor = main.locator(":scope > .ivr-edit")
            expect(editor).to_be_visible()
            editor.locator("textarea[name=text-zh]").fill(NEW_TEXT)
            page.screenshot(path=str(artifacts / "ivr-editor-inline-edit.png"), full_page=True)
            editor.locator(".ivr-save").click()
            expect(page.get_by_text("Draft saved.")).to_be_visible()
            expect(page.locator("#node-main > .ivr-node-head .ivr-text[data-lang=zh]")).to_have_text(
                re.compile(NEW_TEXT))
            page.locator("#node-main > .ivr-node-head .ivr-listen").first.click()
            expect(page.locator("#ivr-player")).to_have_attribute("data-loaded", re.compile(r"listen\?.*node=main"))
            page.click("#publish")
            expect(page.get_by_text("Version 2 published: new calls use it.")).to_be_visible()
            expect(page.locator("#published-version")).to_have_text("2")
            expect(page.locator('#version-history tr[data-version="2"]')).to_contain_text("published")
            expect(page.locator('#version-history tr[data-version="2"]')).to_contain_text("admin")
            expect(page.locator('#version-history tr[data-version="1"]')).to_contain_text("retired")
            page.screenshot(path=str(artifacts / "ivr-editor-published.png"), full_page=True)

            # -- the test call: the caller hears the published text, presses 1 on the keypad
            page.goto(f"{base}/admin/test_call/?lang=en")
            page.fill("#dnis", "4008001234")
            page.click("#call-button")
            transcript = page.locator("#transcript")
            expect(transcript.locator('li[data-event="prompt"]', has_text=NEW_TEXT)).to_be_visible()
            page.click('.keypad-key[data-key="1"]')
            expect(transcript.locator('li[data-event="press"]')).to_contain_text("1")
            expect(transcript.locator('li[data-event="prompt"]', has_text="全国包邮")).to_be_visible()
            page.screenshot(path=str(artifacts / "ivr-test-call-transcript.png"), full_page=True)
            page.click("#hangup-button")
            expect(transcript.locator('li[data-event="hangup"]')).to_be_visible()
            expect(page.locator('.keypad-key[data-key="1"]')).to_be_disabled()
            page.screenshot(path=str(artifacts / "ivr-test-call-ended.png"), full_page=True)
        finally:
            browser.close()


@pytest_twisted.ensureDeferred
async def test_edit_publish_then_test_call_hears_the_new_text_and_keypad_works(hotline, artifacts,  # noqa: F811
                                                                                 monkeypatch):
    from ivr.prompts.tts import EspeakCliSynthesizer

    monkeypatch.setattr("admin.views.ivr_audio.make_synthesizer", lambda engine="pyttsx3": EspeakCliSynthesizer())
    await threads.deferToThread(browse, f"http://127.0.0.1:{hotline.ports['admin']}", artifacts)
