"""Demo mode is explicit: no well-known password exists unless demo data was loaded and demo mode is on.

* An install with no settings file is not in demo mode and its first start
  creates one admin with a random password, never the demo users.
* Outside demo mode the engine refuses to start while any account still has
  its demo password (one line naming ``hotline admin create-user``); giving
  each account a password of its own lets it start.
* Outside demo mode a real FreeSWITCH on its default event-socket password
  ``ClueCon`` is refused by the settings check.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_twisted
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from crm_core.db import make_engine
from crm_core.migrate import upgrade
from crm_core.models import AdminUser
from hotline.settings import SettingsError, load_settings

#: The documented demo passwords (docs/admin.md), spelled out so the test does not trust the code under test.
DOCUMENTED = {"admin": ("admin", "admin-demo"), "supervisor": ("supervisor", "supervisor-demo"),
              "campaign": ("campaign_manager", "campaign-demo"), "agent": ("agent", "agent-demo")}


def _env(tmp: Path, url: str, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update({"HOTLINE_DB_URL": url, "HOTLINE_CALLSERVER_PORT": "0", "HOTLINE_SWITCH_PORT": "0",
                "HOTLINE_ADMIN_PORT": "0", "HOTLINE_VAR_DIR": str(tmp / "var"), **overrides})
    return env


def _migrated(tmp: Path, with_demo_users: bool) -> str:
    url = f"sqlite:///{tmp / 'hotline.db'}"
    upgrade(url)
    if with_demo_users:
        engine = make_engine(url)
        with Session(engine) as session:
            for name, (role, password) in DOCUMENTED.items():
                session.add(AdminUser(username=name, role=role, password_hash=generate_password_hash(password)))
            session.commit()
        engine.dispose()
    return url


def _users(url: str, column: str = "password_hash") -> dict[str, str]:
    """username -> ``column`` of every admin user in the database at ``url``."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return dict(session.execute(select(AdminUser.username, getattr(AdminUser, column))).tuples().all())
    finally:
        engine.dispose()


def test_an_install_without_a_settings_file_is_not_in_demo_mode() -> None:
    assert load_settings(None, env={}).admin.demo_mode is False


async def _started(settings):  # type: ignore[no-untyped-def]
    """Start an engine (web UI, simulator, no call application) and stop it again; the engine, for its banner."""
    from twisted.internet import reactor

    from hotline.engine import Engine

    engine = Engine(settings, reactor, web_enabled=True)
    try:
        engine.start()
    finally:
        await engine.stop()
    return engine


@pytest_twisted.ensureDeferred
async def test_first_start_without_demo_data_creates_no_well_known_password(tmp_path: Path) -> None:
    url = _migrated(tmp_path, with_demo_users=False)
    engine = await _started(load_settings(None, env=_env(tmp_path, url)))
    users = _users(url)
    assert list(users) == ["admin"]
    for name, (_, password) in DOCUMENTED.items():
        assert not (name in users and check_password_hash(users[name], password))
    assert "created admin user 'admin', password: " in engine.web_banner


def _run(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hotline", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=env["HOTLINE_VAR_DIR"].rsplit("/", 1)[0])


def test_outside_demo_mode_the_engine_refuses_demo_passwords_then_starts_once_they_are_changed(
        tmp_path: Path) -> None:
    url = _migrated(tmp_path, with_demo_users=True)
    env = _env(tmp_path, url)
    refused = _run(env, "run", timeout=40)
    assert refused.returncode == 2, refused.stdout[-500:]
    lines = [line for line in refused.stderr.splitlines() if line.startswith("hotline:")]
    assert len(lines) == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert "admin, supervisor, campaign, agent" in lines[0] and "hotline admin create-user" in lines[0]
    assert "HOTLINE_ADMIN_DEMO_MODE=true" in lines[0]

    for name in DOCUMENTED:
        changed = _run(env, "admin", "create-user", name, "--password", f"{name}-own-pass-9")
        assert changed.returncode == 0, changed.stderr
    users = _users(url)
    assert all(not check_password_hash(users[n], p) for n, (_, p) in DOCUMENTED.items())
    roles = _users(url, "role")
    assert roles == {name: role for name, (role, _) in DOCUMENTED.items()}, "create-user kept each role"

    from admin.bootstrap import demo_password_accounts

    engine = make_engine(url)
    with Session(engine) as session:
        assert demo_password_accounts(session) == []
    engine.dispose()


@pytest_twisted.ensureDeferred
async def test_in_demo_mode_the_engine_starts_with_the_demo_users_and_lists_them(tmp_path: Path) -> None:
    url = _migrated(tmp_path, with_demo_users=True)
    engine = await _started(load_settings(None, env=_env(tmp_path, url, HOTLINE_ADMIN_DEMO_MODE="true")))
    assert engine.demo_accounts == list(DOCUMENTED)
    assert "admin / admin-demo (admin)" in engine.web_banner


def test_demo_data_creates_the_demo_users_and_says_they_need_demo_mode(tmp_path: Path, monkeypatch, capsys) -> None:
    from hotline.cli import main

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("HOTLINE_DB_URL", url)
    monkeypatch.delenv("HOTLINE_CONFIG", raising=False)
    monkeypatch.delenv("HOTLINE_ADMIN_DEMO_MODE", raising=False)
    assert main(["demo-data", "--scale", "0.05", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "admin / admin-demo (admin)" in out and "only in demo mode" in out
    users = _users(url)
    assert all(check_password_hash(users[n], p) for n, (_, p) in DOCUMENTED.items())


@pytest.mark.parametrize("password", ["ClueCon", ""])
def test_freeswitch_mode_refuses_the_default_event_socket_password_outside_demo_mode(password: str) -> None:
    env = {"HOTLINE_SWITCH_MODE": "freeswitch", "HOTLINE_SWITCH_PASSWORD": password}
    with pytest.raises(SettingsError, match=r"switch\.password \(HOTLINE_SWITCH_PASSWORD\)"):
        load_settings(None, env=env)
    assert load_settings(None, env={**env, "HOTLINE_SWITCH_PASSWORD": "a-real-secret-42"}).switch.mode == "freeswitch"


def test_freeswitch_mode_accepts_cluecon_in_demo_mode() -> None:
    env = {"HOTLINE_SWITCH_MODE": "freeswitch", "HOTLINE_SWITCH_PASSWORD": "ClueCon", "HOTLINE_ADMIN_DEMO_MODE": "1"}
    assert load_settings(None, env=env).switch.password == "ClueCon"


def test_freeswitch_refusal_through_the_cli_is_one_line(tmp_path: Path) -> None:
    env = _env(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", HOTLINE_SWITCH_MODE="freeswitch")
    (tmp_path / "var").mkdir()
    result = _run(env, "run", timeout=40)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "ClueCon" in result.stderr, result.stderr
