"""Revision 0008 on a database the old ACD store wrote: not_ready rows, queue lists in reasons and claims in notes
move into their columns; downgrade gives the old store back what it reads; the new CDR columns hold their values."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from crm_core import migrate
from crm_core.db import make_engine
from sql_rows import run_sql


_run = run_sql  # the shared helper of the migration tests


OLD_STORE_ROWS = (
    "INSERT INTO agents (id, login, name, extension, password_hash) VALUES (1, 'a1', 'Agent 1', '1001', 'x')",
    "INSERT INTO agents (id, login, name, extension, password_hash) VALUES (2, 'a2', 'Agent 2', '1002', 'x')",
    "INSERT INTO queues (id, name) VALUES (1, 'sales')",
    "INSERT INTO queues (id, name) VALUES (2, 'service')",
    # agent 1: available in two queues, then not ready the old way (break + not_ready:<code>), queue list appended
    "INSERT INTO agent_state_log (id, agent_id, state, reason) VALUES (1, 1, 'available', '|queues=sales,service')",
    "INSERT INTO agent_state_log (id, agent_id, state, reason) VALUES "
    "(2, 1, 'break', 'not_ready:no answer |queues=sales,service')",
    # agent 2: a real break, then logged out (its last queue list says where it was)
    "INSERT INTO agent_state_log (id, agent_id, state, reason) VALUES (3, 2, 'break', 'lunch |queues=gone,sales')",
    "INSERT INTO agent_state_log (id, agent_id, state, reason) VALUES (4, 2, 'logged_out', '|queues=sales')",
    "INSERT INTO callback_requests (id, number, status, note) VALUES "
    "(1, '+8613900000001', 'scheduled', 'virtual hold' || char(10) || 'claimed_by=2')",
    "INSERT INTO callback_requests (id, number, status, note) VALUES (2, '+8613900000002', 'pending', 'claimed_by=99')",
)


def test_0008_moves_the_old_stores_encodings_into_columns_and_downgrade_restores_them(fresh_db_url):
    migrate.upgrade(fresh_db_url, "0007")
    rows = OLD_STORE_ROWS
    if fresh_db_url.startswith("postgresql"):
        rows = tuple(r.replace("char(10)", "chr(10)") for r in rows)
    _run(fresh_db_url, *rows)
    migrate.upgrade(fresh_db_url, "0008")

    assert _run(fresh_db_url, "SELECT id, state, reason FROM agent_state_log ORDER BY id") == [
        (1, "available", None), (2, "not_ready", "no answer"), (3, "break", "lunch"), (4, "logged_out", None)]
    members = _run(fresh_db_url, "SELECT agent_id, queue_id, logged_in FROM agent_queues ORDER BY agent_id, queue_id")
    assert [(a, q, bool(li)) for a, q, li in members] == [(1, 1, True), (1, 2, True), (2, 1, False)]
    assert _run(fresh_db_url, "SELECT id, agent_id FROM callback_requests ORDER BY id") == [(1, 2), (2, None)]

    _run(fresh_db_url,
         "INSERT INTO media_plans (id, name, kind, dnis) VALUES (1, '湖南卫视', 'tv', '4008001001')",
         "INSERT INTO call_detail_records (uuid, entered_at, media_plan_id, ivr_outcome, ivr_exit_node, hangup_side,"
         " links) VALUES ('c-1', CURRENT_TIMESTAMP, 1, 'contained', 'order_status', 'caller', '{\"orders\": [\"1\"]}')")
    with pytest.raises(IntegrityError):
        _run(fresh_db_url, "INSERT INTO call_detail_records (uuid, entered_at, ivr_outcome) "
                           "VALUES ('c-2', CURRENT_TIMESTAMP, 'lost')")
    with pytest.raises(IntegrityError):
        _run(fresh_db_url, "INSERT INTO call_detail_records (uuid, entered_at, hangup_side) "
                           "VALUES ('c-3', CURRENT_TIMESTAMP, 'nobody')")

    migrate.downgrade(fresh_db_url, "0007")
    reasons = dict(_run(fresh_db_url, "SELECT id, reason FROM agent_state_log"))
    assert reasons[2] == "no answer |queues=sales,service"  # agent 1's latest row carries its logged-in queues
    assert reasons[4] is None  # agent 2 is logged in nowhere
    notes = dict(_run(fresh_db_url, "SELECT id, note FROM callback_requests"))
    assert notes[1].splitlines()[-1] == "claimed_by=2"
    engine = make_engine(fresh_db_url)
    try:
        columns = {c["name"] for c in inspect(engine).get_columns("call_detail_records")}
        assert not columns & {"media_plan_id", "ivr_outcome", "ivr_exit_node", "hangup_side", "links"}
    finally:
        engine.dispose()
    assert _run(fresh_db_url, "SELECT uuid FROM call_detail_records") == [("c-1",)]
    migrate.upgrade(fresh_db_url)
    assert migrate.current(fresh_db_url) == migrate.head()
