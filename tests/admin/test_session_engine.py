"""In a real engine, an event-stream token lives only as long as the session it was issued with.

A supervisor logs in over HTTP, opens the live wallboard (its page carries a
stream token), reads ``/events`` with it; after logout the open stream is
closed and the same token is refused; a new log-in gets a new token that works.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from engine_rig import engine_settings, in_thread, start_engine, wait_for
from crm_core.db import make_engine, session_factory, transaction
from crm_core.migrate import upgrade
from crm_core.models import Queue

requests = pytest.importorskip("requests")


@pytest.fixture
def hotline(tmp_path: Path, database_maker):  # type: ignore[no-untyped-def]
    url = database_maker("sqlite")
    upgrade(url)
    engine = make_engine(url)
    with transaction(session_factory(engine)) as s:
        s.add(Queue(name="sales", sl_target_seconds=20, sl_target_percent=80))
    engine.dispose()
    running = start_engine(engine_settings(url, tmp_path), web=True)
    yield running
    running.acd.stop()
    pytest_twisted.blockon(running.stop())


class Browser:
    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def login(self) -> None:
        page = self.http.get(f"{self.base}/login", timeout=10).text
        self.csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = self.http.post(f"{self.base}/login", data={"username": "supervisor",
                                                               "password": "supervisor-demo", "csrf_token": self.csrf},
                                  timeout=10, allow_redirects=False)
        assert response.status_code == 302, response.text

    def stream_token(self) -> str:
        page = self.http.get(f"{self.base}/admin/wallboard/", timeout=10)
        assert page.status_code == 200
        return re.search(r"/events\?token=([^&']+)&", page.text).group(1)

    def logout(self) -> None:
        assert self.http.post(f"{self.base}/logout", data={"csrf_token": self.csrf}, timeout=10,
                              allow_redirects=False).status_code == 302


def open_stream(base: str, token: str) -> tuple[int, Any]:
    response = requests.get(f"{base}/events?token={token}&topic=wallboard", stream=True, timeout=(5, 20))
    return response.status_code, response


def read_until_closed(response: Any) -> bool:
    """Whether the server ended the stream (reading stops at end of body; a timeout raises)."""
    for _ in response.iter_lines():
        pass
    return True


@pytest.mark.timeout(90)
@pytest_twisted.ensureDeferred
async def test_logout_closes_open_streams_and_refuses_the_old_token(hotline) -> None:
    base = f"http://127.0.0.1:{hotline.ports['admin']}"
    browser = Browser(base)
    await in_thread(browser.login)
    token = await in_thread(browser.stream_token)
    status, stream = await in_thread(open_stream, base, token)
    assert status == 200
    await wait_for(lambda: hotline.events.stream_count == 1, what="stream attached")
    closed = in_thread(read_until_closed, stream)
    await in_thread(browser.logout)
    assert await closed
    status, refused = await in_thread(open_stream, base, token)
    assert status == 403 and b"ended session" in refused.content
    await in_thread(browser.login)
    status, again = await in_thread(open_stream, base, await in_thread(browser.stream_token))
    assert status == 200
    again.close()
