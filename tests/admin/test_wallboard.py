"""The wallboard: the reactor-side feed pushes ACD snapshots on SSE topic ``wallboard`` (every 2 s and after
ACD events), the page falls back to database figures without the engine, and a real engine serves the stream
over HTTP."""

from __future__ import annotations

import datetime as dt
import http.client
import json

import pytest
import pytest_twisted
from twisted.internet import reactor, threads
from twisted.internet.task import Clock

import factories
from admin.reports.live import WallboardFeed, acd_wallboard
from crm_core.models import AdminUser, AgentQueue, AgentStateChange, CallDetailRecord, Queue

UTC = dt.timezone.utc


class Hub:
    def __init__(self) -> None:
        self.published: list[tuple[str, str, dict]] = []

    def publish(self, topic: str, event: str, data: dict) -> None:
        self.published.append((topic, event, data))


def _acd(clock: Clock):
    from acd import Acd
    from acd.queues import QueueConfig

    acd = Acd(clock)
    acd.configure_queue(QueueConfig("sales", sl_seconds=20, sl_percent=80))
    acd.add_agent(7, "1007", "Agent Seven", {})
    return acd


def test_feed_publishes_a_snapshot_every_two_seconds_on_the_clock():
    clock, hub = Clock(), Hub()
    clock.advance(1_700_000_000)
    feed = WallboardFeed(_acd(clock), hub, clock, interval=2.0)
    feed.start()
    assert len(hub.published) == 1  # at once
    clock.advance(2)
    clock.advance(2)
    assert len(hub.published) == 3
    topic, event, board = hub.published[-1]
    assert (topic, event, board["live"]) == ("wallboard", "snapshot", True)
    assert board["queues"][0]["queue"] == "sales" and board["queues"][0]["waiting"] == 0
    assert board["queues"][0]["sl_target_percent"] == 80
    feed.stop()
    clock.advance(10)
    assert len(hub.published) == 3


def test_feed_pushes_soon_after_an_agent_state_change_but_at_most_once_per_gap():
    clock, hub = Clock(), Hub()
    acd = _acd(clock)
    feed = WallboardFeed(acd, hub, clock, interval=2.0, min_gap=0.5)
    feed.start()
    acd.login(7, ["sales"])
    acd.bus.publish("acd.queue_changed", {"queue": "sales"})
    clock.advance(0.5)
    assert len(hub.published) == 2  # the initial push and one coalesced push for both events
    assert hub.published[-1][2]["queues"][0]["agents"]["available"] == 1
    assert acd_wallboard(acd)["agents"]["available"] == 1
    feed.stop()


def test_wallboard_without_the_engine_shows_database_figures_and_says_live_data_is_unavailable(as_role, dbs):
    now = dt.datetime.now(UTC)
    serial = factories.next_serial()
    queue = Queue(name=f"wb{serial}", sl_target_seconds=20, sl_target_percent=80)
    dbs.add(queue)
    agent = factories.make_agent(dbs)
    dbs.flush()
    dbs.add(AgentQueue(agent_id=agent.id, queue_id=queue.id, logged_in=True))
    dbs.add(AgentStateChange(agent_id=agent.id, state="on_call", at=now - dt.timedelta(seconds=30)))
    dbs.add(CallDetailRecord(uuid=f"wb-{serial}-1", queue_id=queue.id, entered_at=now - dt.timedelta(seconds=95),
                             queued_at=now - dt.timedelta(seconds=90)))
    dbs.add(CallDetailRecord(uuid=f"wb-{serial}-2", queue_id=queue.id, entered_at=now - dt.timedelta(seconds=60),
                             queued_at=now - dt.timedelta(seconds=60), answered_at=now - dt.timedelta(seconds=50),
                             agent_id=agent.id))
    dbs.commit()
    client = as_role("supervisor").client
    page = client.get("/admin/wallboard/?lang=en")
    assert page.status_code == 200
    assert 'id="wb-not-live"' in page.text and "Live data is unavailable" in page.text
    assert "EventSource" not in page.text
    board = client.get("/admin/wallboard/data").get_json()
    mine = next(q for q in board["queues"] if q["queue"] == queue.name)
    assert board["live"] is False
    assert mine["waiting"] == 1 and 85 <= mine["longest_wait"] <= 120
    assert mine["agents"] == {"on_call": 1}
    assert mine["answered"] == 1 and mine["service_level"] == 100.0  # answered in 10 s, target 20 s


def _seed_engine_db(url: str) -> None:
    from crm_core.db import make_engine, session_factory, transaction
    from crm_core.migrate import upgrade

    upgrade(url)
    engine = make_engine(url)
    with transaction(session_factory(engine)) as s:
        s.add(Queue(name="sales", sl_target_seconds=20, sl_target_percent=80))
        s.add(AdminUser(username="supervisor", role="supervisor", password_hash="!"))
    engine.dispose()


@pytest.fixture
def engine_with_web(tmp_path, database_maker):
    from hotline.engine import Engine
    from hotline.settings import load_settings
    from hotline.wiring import build_call_handler

    url = database_maker("sqlite")
    _seed_engine_db(url)
    env = {"HOTLINE_DB_URL": url, "HOTLINE_SWITCH_MODE": "sim", "HOTLINE_CALLSERVER_PORT": "0",
           "HOTLINE_SWITCH_PORT": "0", "HOTLINE_ADMIN_PORT": "0", "HOTLINE_ADMIN_SECRET_KEY": "wallboard-secret",
           "HOTLINE_SIM_SOUNDS_DIR": str(tmp_path / "snd"), "HOTLINE_SIM_RECORDINGS_DIR": str(tmp_path / "rec"),
           "HOTLINE_TTS_CACHE_DIR": str(tmp_path / "tts"), "HOTLINE_VAR_DIR": str(tmp_path / "var")}
    settings = load_settings(None, env=env)
    engine = Engine(settings, reactor, application=build_call_handler, web_enabled=True)
    engine.start()
    yield engine
    engine.acd.stop()
    pytest_twisted.blockon(engine.stop())


def _read_first_snapshot(port: int, token: str, timeout: float = 10.0) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", f"/events?token={token}&topic=wallboard")
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("content-type").startswith("text/event-stream")
        event = None
        for _ in range(200):  # bounded: a snapshot comes within 2 s
            line = response.fp.readline().decode("utf-8").rstrip("\n")
            if line.startswith("event: "):
                event = line[len("event: "):]
            elif line.startswith("data: ") and event == "snapshot":
                return json.loads(line[len("data: "):])
        raise AssertionError("no wallboard snapshot on the stream")
    finally:
        connection.close()


@pytest_twisted.ensureDeferred
async def test_running_engine_pushes_wallboard_snapshots_over_http_sse(engine_with_web):
    from admin.sse import make_stream_token

    token = make_stream_token("wallboard-secret", "supervisor", ["wallboard"], session=(1, 0))  # the first user
    board = await threads.deferToThread(_read_first_snapshot, engine_with_web.ports["admin"], token)
    assert board["topic"] == "wallboard" and board["live"] is True
    sales = next(q for q in board["queues"] if q["queue"] == "sales")
    assert sales["waiting"] == 0 and sales["sl_target_seconds"] == 20
