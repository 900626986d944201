"""Revision 0015 on a database with skipped preview contacts: the old rows become ``skipped`` attempts with the
bare reason, the new result is allowed only from 0015, and downgrade puts the rows back the way 0014 stored them."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from crm_core import migrate
from sql_rows import run_sql as _run
from sql_rows import sqlite_intact

SEED = (
    "INSERT INTO campaigns (id, name, mode, status) VALUES (1, 'Preview', 'preview', 'running')",
    "INSERT INTO campaign_contacts (id, campaign_id, number, status) VALUES (1, 1, '+8613900000001', 'skipped')",
    "INSERT INTO campaign_contacts (id, campaign_id, number, status) VALUES (2, 1, '+8613900000002', 'skipped')",
    "INSERT INTO campaign_contacts (id, campaign_id, number, status) VALUES (3, 1, '+8613900000003', 'pending')",
    "INSERT INTO campaign_contacts (id, campaign_id, number, status) VALUES (4, 1, '+8613900000004', 'done')",
) + tuple(
    "INSERT INTO campaign_attempts (id, campaign_id, contact_id, number, mode, started_at, ended_at, result, "
    f"hangup_cause) VALUES ({i}, 1, {i}, '+861390000000{i}', 'preview', '2026-12-01 10:00:00', "
    f"'2026-12-01 10:00:05', '{result}', '{cause}')"
    for i, result, cause in ((1, "failed", "skipped:wrong_number"), (2, "blocked_dnc", "skipped:do_not_call"),
                             (3, "failed", "skipped:later"), (4, "failed", "NO_ROUTE_DESTINATION")))
ROWS = "SELECT id, result, hangup_cause FROM campaign_attempts ORDER BY id"
OLD = [(1, "failed", "skipped:wrong_number"), (2, "blocked_dnc", "skipped:do_not_call"),
       (3, "failed", "skipped:later"), (4, "failed", "NO_ROUTE_DESTINATION")]


def test_0015_moves_skipped_preview_attempts_to_their_own_result_and_back(fresh_db_url):
    migrate.upgrade(fresh_db_url, "0014")
    _run(fresh_db_url, *SEED)
    with pytest.raises(IntegrityError):  # 0014 has no such result
        _run(fresh_db_url, "UPDATE campaign_attempts SET result = 'skipped' WHERE id = 4")

    migrate.upgrade(fresh_db_url, "0015")
    assert _run(fresh_db_url, ROWS) == [(1, "skipped", "wrong_number"), (2, "skipped", "do_not_call"),
                                        (3, "skipped", "later"), (4, "failed", "NO_ROUTE_DESTINATION")]
    with pytest.raises(IntegrityError):  # the CHECK still holds the list
        _run(fresh_db_url, "UPDATE campaign_attempts SET result = 'bored' WHERE id = 4")

    migrate.downgrade(fresh_db_url, "0014")
    assert _run(fresh_db_url, ROWS) == OLD
    with pytest.raises(IntegrityError):
        _run(fresh_db_url, "UPDATE campaign_attempts SET result = 'skipped' WHERE id = 4")
    migrate.upgrade(fresh_db_url)
    assert _run(fresh_db_url, "SELECT count(*) FROM campaign_attempts WHERE result = 'skipped'") == [(3,)]
    assert sqlite_intact(fresh_db_url)
