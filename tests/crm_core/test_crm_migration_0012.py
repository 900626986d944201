"""Revision 0012 on a database with campaigns: nothing cascades away, old statuses map, new rules hold,
one open attempt per number, and downgrade keeps what 0007 can hold."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from crm_core import migrate
from sql_rows import run_sql as _run
from sql_rows import sqlite_intact


SEED = (
    "INSERT INTO campaigns (id, name, mode, status) VALUES (1, 'Autumn', 'progressive', 'finished')",
    "INSERT INTO campaigns (id, name, mode, status) VALUES (2, 'Spring', 'predictive', 'running')",
    "INSERT INTO campaign_contacts (id, campaign_id, number, status, last_result) "
    "VALUES (1, 1, '+8613900000001', 'done', 'answered')",
    "INSERT INTO campaign_contacts (id, campaign_id, number, status, last_result) "
    "VALUES (2, 2, '+8613900000002', 'skipped', 'do_not_call')",
    "INSERT INTO call_detail_records (uuid, entered_at, campaign_id) VALUES ('u-1', '2026-11-01 10:00:00', 2)",
)


def test_0012_keeps_contacts_and_cdrs_maps_statuses_and_enforces_the_new_rules(fresh_db_url):
    migrate.upgrade(fresh_db_url, "0007")
    _run(fresh_db_url, *SEED)
    migrate.upgrade(fresh_db_url, "0012")

    assert _run(fresh_db_url, "SELECT id, status FROM campaigns ORDER BY id") == [(1, "completed"), (2, "running")]
    assert _run(fresh_db_url, "SELECT id, status, skip_reason FROM campaign_contacts ORDER BY id") == [
        (1, "done", None), (2, "skipped", "do_not_call")]
    assert _run(fresh_db_url, "SELECT campaign_id FROM call_detail_records") == [(2,)]
    assert _run(fresh_db_url, "SELECT amd_policy, ring_seconds, timezone, pacing_version FROM campaigns "
                              "WHERE id = 2") == [("off", 30, "Asia/Shanghai", 1)]
    _run(fresh_db_url, "UPDATE campaigns SET status = 'scheduled', mode = 'ratio' WHERE id = 2")
    for bad in ("UPDATE campaigns SET status = 'finished' WHERE id = 2",
                "UPDATE campaigns SET amd_policy = 'guess' WHERE id = 2",
                "UPDATE campaigns SET ring_seconds = 10 WHERE id = 2",
                "UPDATE campaigns SET segment_id = 999 WHERE id = 2"):
        with pytest.raises(IntegrityError):
            _run(fresh_db_url, bad)

    # one open attempt per number, whatever the campaign; closed ones do not count
    _run(fresh_db_url, "INSERT INTO campaign_attempts (campaign_id, contact_id, number, mode) "
                       "VALUES (2, 2, '+8613900000009', 'predictive')")
    with pytest.raises(IntegrityError):
        _run(fresh_db_url, "INSERT INTO campaign_attempts (campaign_id, contact_id, number, mode) "
                           "VALUES (1, 1, '+8613900000009', 'progressive')")
    _run(fresh_db_url, "UPDATE campaign_attempts SET ended_at = '2026-11-01 10:01:00', result = 'busy'",
         "INSERT INTO campaign_attempts (campaign_id, contact_id, number, mode) "
         "VALUES (1, 1, '+8613900000009', 'progressive')")
    with pytest.raises(IntegrityError):  # a closed attempt needs its result
        _run(fresh_db_url, "INSERT INTO campaign_attempts (campaign_id, contact_id, number, mode, ended_at) "
                           "VALUES (1, 1, '+8613900000008', 'progressive', '2026-11-01 10:01:00')")
    _run(fresh_db_url, "INSERT INTO customer_segments (id, name, definition) VALUES (1, 'VIP', '{}')",
         "UPDATE campaigns SET segment_id = 1 WHERE id = 2", "DELETE FROM customer_segments WHERE id = 1")
    assert _run(fresh_db_url, "SELECT segment_id FROM campaigns WHERE id = 2") == [(None,)]

    migrate.downgrade(fresh_db_url, "0007")
    assert _run(fresh_db_url, "SELECT id, status, mode FROM campaigns ORDER BY id") == [
        (1, "finished", "progressive"), (2, "draft", "progressive")]
    assert _run(fresh_db_url, "SELECT count(*) FROM campaign_contacts") == [(2,)]
    with pytest.raises(IntegrityError):
        _run(fresh_db_url, "UPDATE campaigns SET status = 'scheduled' WHERE id = 2")
    migrate.upgrade(fresh_db_url)  # and up again
    assert _run(fresh_db_url, "SELECT count(*) FROM campaign_contacts") == [(2,)]
    assert sqlite_intact(fresh_db_url)
