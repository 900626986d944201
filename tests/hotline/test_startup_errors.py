"""Start-up failures through the real ``hotline`` entry point: one clear line naming the fix, non-zero exit.

Each case runs ``python -m hotline ...`` in a child process, as a deployer
would, with settings given as ``HOTLINE_*`` variables, and reads what it
prints: never a traceback, one line on stderr that says what to do.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TIMEOUT = 90


def _env(tmp: Path, url: str, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update({"HOTLINE_DB_URL": url, "HOTLINE_SWITCH_MODE": "sim", "HOTLINE_CALLSERVER_PORT": "0",
                "HOTLINE_SWITCH_PORT": "0", "HOTLINE_ADMIN_PORT": "0", "HOTLINE_VAR_DIR": str(tmp / "var"),
                "HOTLINE_SIM_SOUNDS_DIR": str(tmp / "snd"), "HOTLINE_SIM_RECORDINGS_DIR": str(tmp / "rec"),
                "HOTLINE_TTS_CACHE_DIR": str(tmp / "tts"), "HOTLINE_ADMIN_PASSWORD": "first-admin-pw-1"})
    env.update(overrides)
    return env


def _hotline(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hotline", *args], env=env, capture_output=True, text=True,
                          timeout=TIMEOUT, cwd=env["HOTLINE_VAR_DIR"].rsplit("/", 1)[0])


def _one_clear_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and " INFO " not in line]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port some other program already listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def migrated_url(tmp_path: Path) -> str:
    from crm_core.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    upgrade(url)
    return url


def test_run_on_an_unmigrated_database_names_hotline_db_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    line = _one_clear_line(_hotline(_env(tmp_path, url), "run"))
    assert "hotline db upgrade" in line, line


def test_run_on_a_database_behind_the_code_names_hotline_db_upgrade(tmp_path: Path) -> None:
    from crm_core.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0005")
    line = _one_clear_line(_hotline(_env(tmp_path, url), "run"))
    assert "hotline db upgrade" in line and "0005" in line, line


def test_admin_serve_on_an_unmigrated_database_names_hotline_db_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    line = _one_clear_line(_hotline(_env(tmp_path, url), "admin", "serve"))
    assert "hotline db upgrade" in line, line


@pytest.mark.parametrize("setting", ["HOTLINE_ADMIN_PORT", "HOTLINE_CALLSERVER_PORT"])
def test_run_with_a_port_in_use_names_the_port_and_the_setting(tmp_path: Path, migrated_url: str, busy_port: int,
                                                                setting: str) -> None:
    line = _one_clear_line(_hotline(_env(tmp_path, migrated_url, **{setting: str(busy_port)}), "run"))
    assert f"127.0.0.1:{busy_port}" in line and setting in line, line


def test_admin_serve_with_its_port_in_use_names_the_port(tmp_path: Path, migrated_url: str, busy_port: int) -> None:
    line = _one_clear_line(_hotline(_env(tmp_path, migrated_url, HOTLINE_ADMIN_PORT=str(busy_port)), "admin",
                                    "serve"))
    assert f"127.0.0.1:{busy_port}" in line and "HOTLINE_ADMIN_PORT" in line, line


def test_database_errors_name_the_database_as_configured_not_its_absolute_path(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "blocked").write_text("a file where the database folder should be")
    env = _env(tmp_path, "sqlite:///blocked/sub/hotline.db")
    for args in (("run",), ("db", "upgrade"), ("demo-data", "--no-progress")):
        result = _hotline(env, *args)
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
        assert str(tmp_path) not in result.stderr and "blocked/sub/hotline.db" in result.stderr, result.stderr


def test_the_standalone_wsgi_app_refuses_an_unmigrated_database_and_demo_passwords(tmp_path: Path) -> None:
    from sqlalchemy.orm import Session
    from werkzeug.security import generate_password_hash

    from crm_core.db import make_engine
    from crm_core.migrate import upgrade
    from crm_core.models import AdminUser

    def load_wsgi(url: str) -> subprocess.CompletedProcess[str]:
        env = _env(tmp_path, url)
        return subprocess.run([sys.executable, "-c", "import hotline.wsgi"], env=env, capture_output=True, text=True,
                              timeout=TIMEOUT, cwd=tmp_path)

    (tmp_path / "var").mkdir()
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    assert "hotline db upgrade" in _one_clear_line(load_wsgi(empty))
    demo = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(demo)
    engine = make_engine(demo)
    with Session(engine) as session:
        session.add(AdminUser(username="admin", role="admin", password_hash=generate_password_hash("admin-demo")))
        session.commit()
    engine.dispose()
    line = _one_clear_line(load_wsgi(demo))
    assert "admin" in line and "hotline admin create-user" in line, line
