"""``hotline db``: migrations from the command line, and a clear one-line error when the DB is unreachable."""

from __future__ import annotations

import pytest

from crm_core.migrate import head
from hotline.cli import main as hotline


@pytest.fixture
def sqlite_env(tmp_path, monkeypatch):
    monkeypatch.delenv("HOTLINE_CONFIG", raising=False)
    monkeypatch.setenv("HOTLINE_DB_URL", f"sqlite:///{tmp_path / 'cli.db'}")


def test_db_upgrade_current_downgrade_round_trip(sqlite_env, capsys):
    assert hotline(["db", "current"]) == 0
    assert "base (empty)" in capsys.readouterr().out
    assert hotline(["db", "upgrade"]) == 0
    assert f"at revision {head()}" in capsys.readouterr().out
    assert hotline(["db", "current"]) == 0
    assert f"{head()} (up to date)" in capsys.readouterr().out
    assert hotline(["db", "downgrade", "base"]) == 0
    assert "at revision base" in capsys.readouterr().out


def test_db_downgrade_to_unknown_revision_is_a_one_line_error(sqlite_env, capsys):
    assert hotline(["db", "downgrade", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hotline db: ") and err.count("\n") == 1 and "Traceback" not in err


def test_unreachable_database_prints_one_line_and_returns_non_zero(monkeypatch, capsys):
    monkeypatch.delenv("HOTLINE_CONFIG", raising=False)
    monkeypatch.setenv("HOTLINE_DB_URL", "postgresql+psycopg://nobody:secret@127.0.0.1:1/none?connect_timeout=2")
    assert hotline(["db", "upgrade"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("hotline db: cannot use database") and err.count("\n") == 1
    assert "secret" not in err and "Traceback" not in err
