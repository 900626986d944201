"""Revision 0003 on a database with data: new states and columns work, downgrade keeps what 0002 can hold,
and an audit table the admin app created before 0003 is adopted, not re-created."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect
from sqlalchemy.exc import IntegrityError

from crm_core import migrate
from crm_core.db import make_engine
from sql_rows import run_sql as _run


SEED = (
    "INSERT INTO agents (id, login, name, extension, password_hash) VALUES (1, 'a1', 'Agent', '1001', 'x')",
    "INSERT INTO queues (id, name) VALUES (1, 'sales')",
    "INSERT INTO products (id, sku, phone_code, name, price, description) VALUES (1, 'S1', '101', '锅', 9.9, '好锅')",
    "INSERT INTO callback_requests (id, number, status) VALUES (1, '+8613900000001', 'pending')",
)


def test_0003_upgrade_accepts_new_values_and_downgrade_keeps_them_in_0002_form(fresh_db_url):
    migrate.upgrade(fresh_db_url, "0002")
    _run(fresh_db_url, *SEED)
    with pytest.raises(IntegrityError):  # 0002 has no not_ready
        _run(fresh_db_url, "INSERT INTO agent_state_log (agent_id, state) VALUES (1, 'not_ready')")
    migrate.upgrade(fresh_db_url, "0003")
    _run(
        fresh_db_url,
        "INSERT INTO agent_state_log (agent_id, state, reason) VALUES (1, 'not_ready', 'training')",
        "INSERT INTO agent_queues (agent_id, queue_id, penalty, logged_in) VALUES (1, 1, 2, true)",
        "UPDATE products SET description_en = 'A good pan', name_en = 'Pan' WHERE id = 1",
        "UPDATE callback_requests SET status = 'in_progress', attempts = 1, agent_id = 1 WHERE id = 1",
        "INSERT INTO admin_audit_log (action, model, pk) VALUES ('update', 'products', '1')",
    )
    with pytest.raises(IntegrityError):
        _run(fresh_db_url, "INSERT INTO agent_state_log (agent_id, state) VALUES (1, 'napping')")
    with pytest.raises(IntegrityError):
        _run(fresh_db_url, "INSERT INTO callback_requests (number, status) VALUES ('+8613900000002', 'lost')")

    migrate.downgrade(fresh_db_url, "0002")
    assert _run(fresh_db_url, "SELECT state, reason FROM agent_state_log") == [("break", "not_ready:training")]
    assert _run(fresh_db_url, "SELECT status, attempts FROM callback_requests") == [("scheduled", 1)]
    assert _run(fresh_db_url, "SELECT description FROM products") == [("好锅\nA good pan",)]
    engine = make_engine(fresh_db_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert "agent_queues" not in tables and "admin_audit_log" not in tables
        assert "name_en" not in {c["name"] for c in inspect(engine).get_columns("products")}
        assert {ix["name"] for ix in inspect(engine).get_indexes("call_detail_records")} >= {
            "ix_call_detail_records_ani"}
    finally:
        engine.dispose()
    assert _run(fresh_db_url, "SELECT count(*) FROM agents") == [(1,)]  # nothing referencing was lost
    migrate.upgrade(fresh_db_url)
    assert migrate.current(fresh_db_url) == migrate.head()


def test_0003_adopts_an_audit_table_the_admin_app_created_and_keeps_its_rows(fresh_db_url):
    migrate.upgrade(fresh_db_url, "0002")
    engine = make_engine(fresh_db_url)
    try:
        # What admin/audit.py's ensure_table built before 0003 existed (same names, remote_addr 20 wide).
        from sqlalchemy import JSON, DateTime, Index, func

        metadata = MetaData()
        table = Table(
            "admin_audit_log", metadata,
            Column("id", Integer, primary_key=True),
            Column("at", DateTime(timezone=True), server_default=func.now(), nullable=False),
            Column("user_id", Integer), Column("username", String(40)),
            Column("action", String(40), nullable=False), Column("model", String(100), nullable=False),
            Column("pk", String(40)), Column("changes", JSON), Column("remote_addr", String(20)),
        )
        Index("ix_admin_audit_log_at", table.c.at)
        Index("ix_admin_audit_log_model_pk", table.c.model, table.c.pk)
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(table.insert().values(action="login", model="admin_users", username="admin",
                                                     remote_addr="127.0.0.1"))
    finally:
        engine.dispose()
    migrate.upgrade(fresh_db_url)
    assert _run(fresh_db_url, "SELECT action, username, remote_addr FROM admin_audit_log") == [
        ("login", "admin", "127.0.0.1")]
    long_address = "2001:0db8:85a3:0000:0000:8a2e:0370:7334"
    _run(fresh_db_url, f"INSERT INTO admin_audit_log (action, model, remote_addr) VALUES ('x', 'y', '{long_address}')")
    engine = make_engine(fresh_db_url)
    try:
        indexes = {ix["name"] for ix in inspect(engine).get_indexes("admin_audit_log")}
        assert indexes == {"ix_admin_audit_log_at", "ix_admin_audit_log_model_pk"}
    finally:
        engine.dispose()
