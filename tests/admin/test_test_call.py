"""The test-call page. Without an engine it says so; inside a REAL engine (``hotline run`` on the real reactor,
port 0 everywhere, simulator + CallServer + IVR + Switch, admin web served by Twisted) its endpoints place a
call over HTTP, press keys and hang up, and the transcript arrives as server-sent events on /events."""

from __future__ import annotations

import http.cookiejar
import json
import re
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import threads

from engine_rig import engine_settings, start_engine
from crm_core.db import transaction

MENU = """
name: main
entry: main
languages: [zh, en]
default_language: zh
nodes:
  main:
    type: menu
    text: {zh: 查询新闻请按一。, en: For news press 1.}
    timeout: 8
    options:
      "1": {target: news, label: news}
  news:
    type: announcement
    text: {zh: 全国包邮。, en: Free delivery nationwide.}
    next: main
"""


# -- without the engine ---------------------------------------------------------------------

@pytest.mark.parametrize("username,status", [("admin", 200), ("supervisor", 200), ("campaign", 403), ("agent", 403)])
def test_page_for_admin_and_supervisor_says_the_engine_is_not_running(as_role, username, status):
    auth = as_role(username)
    auth.client.get("/admin/?lang=en")
    response = auth.client.get("/admin/test_call/?lang=en")
    assert response.status_code == status
    if status == 200:
        assert 'id="testcall-unavailable"' in response.text and "The engine is not running" in response.text
        placed = auth.post("/admin/test_call/call", {"dnis": "4008001234", "ani": "13800000000"})
        assert placed.status_code == 503 and "not running" in placed.json["error"]
    else:
        assert auth.post("/admin/test_call/call", {"dnis": "4008001234"}).status_code == 403


@pytest.mark.parametrize("path", ["call", "dtmf", "speak", "hangup"])
def test_every_test_call_post_without_csrf_token_is_refused(as_role, path):
    response = as_role("admin").client.post(f"/admin/test_call/{path}", json={"uuid": "x" * 36, "digits": "1"})
    assert response.status_code == 400


def test_relay_republishes_sim_transcript_events_to_the_call_topic():
    from admin.views.test_call import TranscriptRelay
    from freeswitch.esl.events import Event

    published = []

    class Hub:
        def publish(self, topic, event, data):
            published.append((topic, event, data))

    event = Event({"Event-Name": "CUSTOM", "Event-Subclass": "sim::transcript", "Unique-ID": "u-1",
                   "Sim-Event": "prompt", "Sim-Data": json.dumps({"t": 1.5, "file": "a.wav", "text": "你好"})})
    TranscriptRelay(Hub())(event)
    assert published == [("testcall:u-1", "transcript",
                          {"t": 1.5, "file": "a.wav", "text": "你好", "uuid": "u-1", "event": "prompt"})]


# -- inside a real engine ---------------------------------------------------------------------

def short_greeting(path: Path, text: str, seconds: float = 0.4) -> None:
    """An 8 kHz mono WAV with its transcript text beside it."""
    import wave

    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x01" * int(8000 * seconds))
    path.with_name(path.name + ".txt").write_text(text, encoding="utf-8")


def seed(url: str, tmp: Path) -> None:
    from crm_core.db import make_engine, session_factory
    from crm_core.migrate import upgrade
    from ivr.menu import load_yaml
    from ivr.menu.store import import_and_publish

    upgrade(url)
    engine = make_engine(url)
    with transaction(session_factory(engine)) as s:
        import_and_publish(s, load_yaml(MENU), by="test")
    engine.dispose()


@pytest.fixture(scope="session")
def engine_tts_cache(tmp_path_factory):
    """One TTS cache for every engine of the admin tests: each text is rendered once per session."""
    return tmp_path_factory.mktemp("engine-tts")


@pytest.fixture
def hotline(tmp_path, database_maker, engine_tts_cache, monkeypatch):
    """A real engine (simulator, CallServer with the IVR, Switch, admin web) with port 0 everywhere."""
    from ivr.prompts.tts import EspeakCliSynthesizer

    from ivr.prompts.cache import OverrideStore

    # The espeak-ng command line instead of pyttsx3's driver: same voices and audio, no flaky driver loop.
    monkeypatch.setattr("ivr.prompts.renderer.make_synthesizer", lambda engine="pyttsx3": EspeakCliSynthesizer())
    # A short studio recording replaces the 10-second greeting (as an admin upload would), in a folder of the test's.
    recordings = tmp_path / "recordings"
    short_greeting(recordings / "zh" / "greeting.wav", "您好，欢迎。")
    monkeypatch.setattr("ivr.prompts.renderer.OverrideStore",
                        lambda directory=None, cache_dir=None: OverrideStore(recordings, cache_dir))
    url = database_maker("sqlite")
    seed(url, tmp_path)
    settings = engine_settings(url, tmp_path, HOTLINE_TTS_CACHE_DIR=str(engine_tts_cache),
                               HOTLINE_ADMIN_SECRET_KEY="k" * 32)
    engine = start_engine(settings, web=True)
    pytest_twisted.blockon(engine.switch.when_connected())
    yield engine
    engine.acd.stop()
    pytest_twisted.blockon(engine.stop())


class Browser:
    """A tiny cookie-keeping HTTP client (runs in a worker thread: the reactor serves the requests)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = ""

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=20) as response:
            text = response.read().decode("utf-8")
        found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"|data-csrf="([^"]+)"', text)
        if found:
            self.csrf = found.group(1) or found.group(2)
        return text

    def login(self, username: str = "supervisor", password: str = "supervisor-demo") -> None:
        self.get("/login")
        data = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": self.csrf})
        with self.opener.open(self.base + "/login", data=data.encode(), timeout=20) as response:
            assert "/login" not in response.url, "login failed"

    def post_json(self, path: str, body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(self.base + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json", "X-CSRFToken": self.csrf})
        try:
            with self.opener.open(request, timeout=20) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")


class EventReader:
    """Reads an SSE stream in a thread, keeping each ``transcript`` event's data."""

    def __init__(self, url: str) -> None:
        self.events: list[dict] = []
        self.response = urllib.request.urlopen(url, timeout=30)
        assert self.response.headers["Content-Type"].startswith("text/event-stream")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        kind = None
        try:
            for raw in self.response:
                line = raw.decode("utf-8").rstrip("\n")
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "transcript":
                    self.events.append(json.loads(line[6:]))
        except Exception:  # closed at the end of the test
            pass

    def close(self) -> None:
        """Shut the socket (``response.close()`` would wait for the reader thread's pending read)."""
        import socket

        try:
            self.response.fp.raw._sock.shutdown(socket.SHUT_RDWR)
        except (AttributeError, OSError):
            pass
        self.thread.join(timeout=5)


def wait_until(predicate, timeout: float = 15.0, what: str = "condition"):
    """Poll (in a worker thread) every 50 ms, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def drive_test_call(base: str) -> dict:
    """What a browser does on the test-call page, over HTTP; returns what it saw."""
    web = Browser(base)
    web.login()
    page = web.get("/admin/test_call/?lang=en")
    assert 'id="testcall"' in page and "testcall-unavailable" not in page
    status, bad = web.post_json("/admin/test_call/call", {"dnis": "40O8", "ani": "1"})
    assert status == 400 and "digits" in bad["error"]
    status, placed = web.post_json("/admin/test_call/call", {"dnis": "4008001234", "ani": "13912345678"})
    assert status == 200, placed
    uuid, topic = placed["uuid"], placed["topic"]
    assert topic == f"testcall:{uuid}"
    stream = EventReader(f"{base}{placed['events']}?token={urllib.parse.quote(placed['token'])}"
                         f"&topic={urllib.parse.quote(topic)}")
    try:
        # the token is for this call only
        try:
            urllib.request.urlopen(f"{base}/events?token={urllib.parse.quote(placed['token'])}&topic=wallboard",
                                   timeout=5)
            raise AssertionError("a topic outside the token was served")
        except urllib.error.HTTPError as exc:
            assert exc.code == 403
        backfill = web.get(f"/admin/test_call/transcript/{uuid}")
        assert json.loads(backfill)["uuid"] == uuid
        wait_until(lambda: any(e["event"] == "prompt" and "查询新闻请按一" in (e.get("text") or "")
                               for e in stream.events), what="the menu prompt on /events")
        status, _ = web.post_json("/admin/test_call/dtmf", {"uuid": uuid, "digits": "1"})
        assert status == 200
        wait_until(lambda: any(e["event"] == "press" and e.get("digit") == "1" for e in stream.events),
                   what="the key press on /events")
        wait_until(lambda: any(e["event"] == "prompt" and "全国包邮" in (e.get("text") or "")
                               for e in stream.events), what="the announcement the key led to")
        status, refused = web.post_json("/admin/test_call/dtmf", {"uuid": uuid, "digits": "1; rm"})
        assert status == 400
        status, spoken = web.post_json("/admin/test_call/speak", {"uuid": uuid, "phrase": "你好", "lang": "zh"})
        assert status == 200 and spoken["file"].startswith("tts-cache/"), spoken  # no server path
        status, _ = web.post_json("/admin/test_call/hangup", {"uuid": uuid})
        assert status == 200
        wait_until(lambda: any(e["event"] == "hangup" for e in stream.events), what="the hangup on /events")
        status, gone = web.post_json("/admin/test_call/dtmf", {"uuid": uuid, "digits": "2"})
        assert status == 502 and "No such channel" in gone["error"]
        backfill = json.loads(web.get(f"/admin/test_call/transcript/{uuid}"))
        shown = [e.get("file") for e in list(stream.events) + backfill["transcript"] if e.get("file")]
        assert shown and not [f for f in shown if f.startswith("/")], shown  # files inside their folders only
        return {"uuid": uuid, "events": list(stream.events)}
    finally:
        stream.close()


@pytest_twisted.ensureDeferred
async def test_test_call_page_places_a_call_into_the_running_engine_and_streams_its_transcript(hotline):
    base = f"http://127.0.0.1:{hotline.ports['admin']}"
    import time as _t; _t0 = _t.monotonic(); seen = await threads.deferToThread(drive_test_call, base); print("TOOK", _t.monotonic() - _t0)
    for e in seen["events"]: print(e.get("t"), e["event"], e.get("app"), (e.get("text") or e.get("file") or "")[:60])
    kinds = [e["event"] for e in seen["events"]]
    assert kinds.index("press") < kinds.index("hangup")
    assert all(e["uuid"] == seen["uuid"] and e["topic"] == f"testcall:{seen['uuid']}" for e in seen["events"])
    # the engine's Switch asked for the events on the wire, once
    assert "sim::transcript" in hotline.switch._custom
