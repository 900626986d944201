"""The agent desk inside a real engine (``hotline run`` parts on the real reactor, port 0 everywhere).

The demo user ``agent`` (mapped to the agent with login ``agent``) logs in on the desk over HTTP, goes
ready; a simulated caller presses 0 in the IVR; the desk's event stream (``/events`` read over HTTP)
gets the screen pop with the caller's customer record; after the call the agent saves a wrap-up code,
which lands on the CDR, and goes ready again.

HTTP runs in plain threads (``requests``): the reactor thread must stay free to serve it.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any, Callable

import pytest
import pytest_twisted
from sqlalchemy import select
from twisted.internet import reactor

from engine_rig import engine_settings, in_thread, publish_menu, wait_for
from engine_rig import start_engine as start_test_engine
from crm_core.db import transaction
from crm_core.models import Agent, AgentSkill, CallDetailRecord, Queue, QueueSkill, Skill

requests = pytest.importorskip("requests")

CALLER = "13912345678"
CUSTOMER_NAME = "王丽"


def seed(url: str, tmp: Path) -> None:
    from crm_core.db import make_engine, session_factory
    from crm_core.migrate import upgrade
    from crm_core.services import create_customer

    upgrade(url)
    engine = make_engine(url)
    with transaction(session_factory(engine)) as s:
        sales = Skill(name="sales")
        s.add(sales)
        agent = Agent(login="agent", name="演示坐席", extension="1001", password_hash="x")
        agent.skills = [AgentSkill(skill=sales, level=5)]
        s.add(agent)
        queue = Queue(name="sales", strategy="longest-idle-agent", wrapup_seconds=60, sl_target_seconds=20,
                      sl_target_percent=80)
        queue.required_skills = [QueueSkill(skill=sales, min_level=1)]
        s.add(queue)
        customer = create_customer(s, CUSTOMER_NAME, [CALLER])
        customer.member_level = "gold"
        publish_menu(s, tmp)
    engine.dispose()


def start_engine(tmp_path: Path, database_maker: Callable[[str], str]) -> Any:
    url = database_maker("sqlite")
    seed(url, tmp_path)
    return start_test_engine(engine_settings(url, tmp_path), web=True)


@pytest.fixture
def hotline(tmp_path, database_maker):
    engine = start_engine(tmp_path, database_maker)
    pytest_twisted.blockon(engine.switch.when_connected())
    engine.simulator.directory.register("1001", answer_after=0.3, talk_seconds=1.0)
    yield engine
    engine.acd.stop()
    pytest_twisted.blockon(engine.stop())


class DeskClient:
    """The agent's browser, minus the browser: a requests session with the page's CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.csrf = ""

    def login(self, username: str, password: str) -> None:
        page = self.http.get(f"{self.base}/login", timeout=10).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = self.http.post(f"{self.base}/login", data={"username": username, "password": password,
                                                               "csrf_token": token}, timeout=10,
                                  allow_redirects=False)
        assert response.status_code == 302, response.text

    def desk_page(self) -> str:
        page = self.http.get(f"{self.base}/admin/desk/?lang=en", timeout=10)
        assert page.status_code == 200, page.text
        self.csrf = re.search(r"var CSRF = '([^']+)'", page.text).group(1)
        return page.text

    def post(self, path: str, **data: Any) -> dict[str, Any]:
        response = self.http.post(f"{self.base}/admin/desk{path}", data={"csrf_token": self.csrf, **data},
                                  headers={"X-CSRFToken": self.csrf}, timeout=15)
        body = response.json()
        assert response.status_code == 200, body
        return body


def read_events(url: str, wanted: str, timeout: float, opened: threading.Event) -> dict[str, Any]:
    """Read a text/event-stream until an event named ``wanted``; its JSON data."""
    with requests.get(url, stream=True, timeout=(5, timeout)) as response:
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/event-stream")
        opened.set()
        event = None
        for raw in response.iter_lines(decode_unicode=False):
            line = raw.decode("utf-8")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == wanted:
                return json.loads(line[6:])
    raise AssertionError(f"stream ended before {wanted}")


@pytest.mark.timeout(60)
@pytest_twisted.ensureDeferred
async def test_desk_login_ready_screen_pop_over_sse_and_wrap_up_in_a_real_engine(hotline):
    base = f"http://127.0.0.1:{hotline.ports['admin']}"
    acd = hotline.acd.acd
    agent_id = await in_thread(lambda: _agent_id(hotline))
    desk = DeskClient(base)
    await in_thread(desk.login, "agent", "agent-demo")
    page = await in_thread(desk.desk_page)
    assert f'data-agent="{agent_id}"' in page

    if acd.board.get(agent_id).state.value != "logged_out":  # the demo wiring logs agents in at start
        await in_thread(desk.post, "/state", action="logout")
    assert acd.board.get(agent_id).state.value == "logged_out"
    logged = await in_thread(desk.post, "/state", action="login")
    assert (logged["state"], logged["queues"]) == ("not_ready", ["sales"])
    ready = await in_thread(desk.post, "/state", action="ready")
    assert ready["state"] == "available" and acd.board.get(agent_id).state.value == "available"

    token = re.search(r"var TOKEN = '([^']+)'", page).group(1)
    opened = threading.Event()
    stream = in_thread(read_events, f"{base}/events?token={token}&topic=desk:{agent_id}", "screen_pop", 30.0,
                       opened)
    await wait_for(opened.is_set, what="the event stream to open")
    await wait_for(lambda: hotline.events.stream_count >= 1, what="the stream to subscribe")

    call = hotline.simulator.place_call(CALLER, "4008001234", "wait_prompt 2; wait 0.2; press 0; wait_hangup")
    pop = await stream.addTimeout(20.0, reactor)
    assert pop["call_uuid"] == call.uuid and pop["agent_id"] == agent_id and pop["queue"] == "sales"
    assert pop["customer"]["name"] == CUSTOMER_NAME
    assert pop["customer"]["member_level"] == "gold" and pop["customer"]["vip"] is True
    assert pop["customer"]["phones"] == ["+86" + CALLER] and pop["ivr_path"] == "main>agent"  # the menu nodes the caller went through

    await wait_for(lambda: acd.board.get(agent_id).state.value == "wrap_up", timeout=20, what="wrap-up")
    row = await wait_for(lambda: (r := _cdr(hotline, call.uuid)) is not None and r.ended_at is not None and r,
                         what="the CDR to end")
    assert row.agent_id == agent_id
    done = await in_thread(desk.post, "/wrapup", call_uuid=call.uuid, disposition="sale", ready="y")
    assert done["state"] == "available"
    assert _cdr(hotline, call.uuid).disposition == "sale"


def _agent_id(engine: Any) -> int:
    with transaction(engine.sessions) as s:
        return s.scalar(select(Agent.id).where(Agent.login == "agent"))


def _cdr(engine: Any, uuid: str) -> CallDetailRecord | None:
    with transaction(engine.sessions) as s:
        return s.scalar(select(CallDetailRecord).where(CallDetailRecord.uuid == uuid))
