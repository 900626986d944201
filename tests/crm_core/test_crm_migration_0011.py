"""Revision 0011 on a database with agents: the SIP password column arrives empty and leaves without loss."""

from __future__ import annotations

from sqlalchemy import inspect, text

from crm_core import migrate
from crm_core.db import make_engine


def _run(url: str, sql: str) -> list:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            rows = connection.execute(text(sql))
            return rows.all() if rows.returns_rows else []
    finally:
        engine.dispose()


def _columns(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {c["name"] for c in inspect(engine).get_columns("agents")}
    finally:
        engine.dispose()


def test_0011_adds_an_empty_sip_password_and_downgrade_keeps_the_agents(fresh_db_url):
    migrate.upgrade(fresh_db_url, "0007")
    _run(fresh_db_url, "INSERT INTO agents (id, login, name, extension, password_hash) VALUES (1, 'a1', 'A', '1001', 'x')")
    migrate.upgrade(fresh_db_url, "0011")
    assert _run(fresh_db_url, "SELECT extension, sip_password FROM agents") == [("1001", None)]
    _run(fresh_db_url, "UPDATE agents SET sip_password = 'Abcdefghijkl_-123456789' WHERE id = 1")
    migrate.downgrade(fresh_db_url, "0007")
    assert "sip_password" not in _columns(fresh_db_url)
    assert _run(fresh_db_url, "SELECT id, extension FROM agents") == [(1, "1001")]
    migrate.upgrade(fresh_db_url, "head")
    assert "sip_password" in _columns(fresh_db_url)
