"""Browser (Playwright on Debian chromium): the reports page draws its SVG charts, the wallboard renders.

Screenshots go to test-artifacts/. Without the engine the wallboard says live
data is unavailable (the live push is covered over HTTP in test_wallboard.py).
"""

from __future__ import annotations

import pytest

pytest.importorskip("playwright")

pytestmark = pytest.mark.slow


def _login(page, live_server: str, username: str = "supervisor", password: str = "supervisor-demo") -> None:
    page.goto(f"{live_server}/login?lang=en")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{live_server}/admin/**")


@pytest.mark.parametrize("admin_db_url", ["sqlite"], indirect=True)  # one backend is enough for the browser
def test_reports_page_shows_a_drawn_chart_and_the_wallboard_renders(page, live_server, artifacts, admin_db_url):
    _login(page, live_server)
    page.goto(f"{live_server}/admin/reports/?lang=en")
    chart = page.locator("#report-volume_by_hour svg.report-chart")
    chart.wait_for(state="visible")
    box = chart.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 50
    assert page.locator("#report-volume_by_hour svg title").first.text_content()
    page.screenshot(path=str(artifacts / "reports.png"), full_page=True)

    page.goto(f"{live_server}/admin/reports/?start=2024-02-10&end=2024-02-01&lang=en")
    assert "before the start date" in page.locator("#range-error").text_content()

    page.goto(f"{live_server}/admin/wallboard/?lang=en")
    page.locator("#wb-not-live").wait_for(state="visible")
    assert page.locator("#wb-agents").is_visible()
    page.screenshot(path=str(artifacts / "wallboard.png"), full_page=True)
