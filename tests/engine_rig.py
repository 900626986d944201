"""A real Hotline engine for end-to-end tests: ports 0, the simulator, a migrated SQLite file.

Shared by the engine, agent-desk and test-call tests so they start the same
engine the same way (settings as environment overrides, exactly as a user
would set them) and poll the same way (bounded, never a fixed sleep).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

from twisted.internet import defer, reactor, task

#: The head of a Chinese test menu named ``main``, open every hour of the week; its nodes follow.
OPEN_ALL_WEEK = """
name: main
entry: main
languages: [zh]
default_language: zh
business_hours:
  timezone: Asia/Shanghai
  weekly: {mon: ["00:00-23:59"], tue: ["00:00-23:59"], wed: ["00:00-23:59"], thu: ["00:00-23:59"],
           fri: ["00:00-23:59"], sat: ["00:00-23:59"], sun: ["00:00-23:59"]}
  after_hours: main
"""

#: A menu whose only choice is "0 for an agent".
AGENT_MENU = OPEN_ALL_WEEK + """settings:
  agent_queue: general
nodes:
  main:
    type: menu
    text: {zh: 人工请按零。}
    timeout: 4
    options:
      "0": {target: agent, label: agent}
  agent: {type: queue, text: {zh: 请稍候。}, queue: general, skills: [sales]}
"""


def publish_menu(session: Any, tmp: Path, text: str = AGENT_MENU) -> None:
    """Import ``text`` (menu YAML) and publish it in this transaction."""
    from ivr.menu import load_yaml
    from ivr.menu.store import import_and_publish

    path = tmp / "menu.yaml"
    path.write_text(text, encoding="utf-8")
    import_and_publish(session, load_yaml(path), by="test")


def engine_settings(url: str, tmp: Path, **overrides: str) -> Any:
    """Settings for a test engine: every port 0, files under ``tmp``, demo mode (like ``make run``);
    ``overrides`` are more HOTLINE_* values."""
    from hotline.settings import load_settings

    env = {"HOTLINE_DB_URL": url, "HOTLINE_SWITCH_MODE": "sim", "HOTLINE_CALLSERVER_PORT": "0",
           "HOTLINE_CALLSERVER_LINGER": "1", "HOTLINE_SWITCH_PORT": "0", "HOTLINE_SIM_SOUNDS_DIR": str(tmp / "snd"),
           "HOTLINE_SIM_RECORDINGS_DIR": str(tmp / "rec"), "HOTLINE_TTS_CACHE_DIR": str(tmp / "tts"),
           "HOTLINE_SWITCH_COMMAND_TIMEOUT": "10", "HOTLINE_ADMIN_PORT": "0", "HOTLINE_ADMIN_HOST": "127.0.0.1",
           "HOTLINE_VAR_DIR": str(tmp / "var"), "HOTLINE_ADMIN_DEMO_MODE": "true", **overrides}
    return load_settings(None, env=env)


def load_demo_users(settings: Any) -> None:
    """The admin UI's demo users in the engine's database, as ``hotline demo-data`` makes them."""
    from admin.bootstrap import create_demo_users
    from crm_core.db import make_engine, session_factory, transaction
    from hotline.settings import database_url

    engine = make_engine(database_url(settings))
    try:
        with transaction(session_factory(engine)) as session:
            create_demo_users(session)
    finally:
        engine.dispose()


def start_engine(settings: Any, web: bool) -> Any:
    """Build and start the engine with the real application wiring (with the web UI: and the demo users)."""
    from hotline.engine import Engine
    from hotline.wiring import build_call_handler

    if web:
        load_demo_users(settings)
    engine = Engine(settings, reactor, application=build_call_handler, web_enabled=web)
    engine.start()
    return engine


async def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition",
                   call: Any = None) -> Any:
    """Poll ``predicate`` every 50 ms, at most ``timeout`` seconds (``call``: its transcript goes in the failure)."""
    for _ in range(int(timeout / 0.05)):
        value = predicate()
        if value:
            return value
        await task.deferLater(reactor, 0.05, lambda: None)
    heard = [(e["event"], e.get("app") or e.get("file") or e.get("digit") or e.get("cause"))
             for e in (call.transcript if call is not None else [])]
    raise AssertionError(f"timed out waiting for {what}; transcript: {heard}")


def in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> defer.Deferred:
    """Run blocking ``fn`` (an HTTP client, a socket) in a thread of its own, not the reactor's pool (which
    serves the WSGI app); its result or exception arrives on the reactor thread."""
    d: defer.Deferred = defer.Deferred()

    def work() -> None:
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 -- handed to the Deferred
            reactor.callFromThread(d.errback, exc)
        else:
            reactor.callFromThread(d.callback, result)

    threading.Thread(target=work, daemon=True).start()
    return d
