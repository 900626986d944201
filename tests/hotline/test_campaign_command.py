"""``hotline campaign``: list, status (--json), state changes through the audited service, clear errors.

Run through ``hotline.cli.main`` on a migrated SQLite database, as a user would.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from crm_core.db import make_engine, session_factory, transaction
from crm_core.models import AuditEntry, Campaign, DialerStatus
from hotline.cli import main

UTC = dt.timezone.utc


@pytest.fixture
def db(database_maker, monkeypatch):
    from crm_core.migrate import upgrade
    from crm_core.services.campaign_contacts import ContactRow, add_contacts
    from crm_core.services.campaigns import Actor, create_campaign

    url = database_maker("sqlite")
    upgrade(url)
    monkeypatch.setenv("HOTLINE_DB_URL", url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    with transaction(sessions) as s:
        row = create_campaign(s, "Birthday 2026", actor=Actor("manager"), mode="progressive",
                              caller_id="4008001234")
        add_contacts(s, row.id, [ContactRow("+8613800000001", {}), ContactRow("+8613800000002", {})])
        create_campaign(s, "Empty", actor=Actor("manager"))
    yield sessions
    engine.dispose()


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["campaign", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_shows_every_campaign(db, capsys):
    code, out, _err = run(capsys, "list")
    assert code == 0 and "Birthday 2026" in out and "Empty" in out and "draft" in out
    code, out, _err = run(capsys, "list", "--json")
    rows = json.loads(out)
    assert [(r["name"], r["status"], r["contacts"]) for r in rows] == [("Birthday 2026", "draft", 2),
                                                                         ("Empty", "draft", 0)]


def test_start_pause_resume_stop_are_audited_and_status_prints_figures(db, capsys):
    assert run(capsys, "start", "Birthday 2026")[0] == 0
    code, out, _err = run(capsys, "pause", "Birthday 2026")
    assert code == 0 and "running -> paused" in out
    code, out, _err = run(capsys, "status", "Birthday 2026")
    assert code == 0 and "2 total: 2 pending" in out and "engine not running" in out
    with transaction(db) as s:  # an engine reported 30 s ago: stale
        campaign = s.scalar(select(Campaign).where(Campaign.name == "Birthday 2026"))
        s.add(DialerStatus(campaign_id=campaign.id, engine_id="box-1", figures={"in_flight": 1},
                           updated_at=dt.datetime.now(UTC) - dt.timedelta(seconds=30)))
        campaign_id = campaign.id
    code, out, _err = run(capsys, "status", str(campaign_id), "--json")
    report = json.loads(out)
    assert code == 0 and report["status"] == "paused" and report["contacts_total"] == 2
    assert report["engines"][0]["stale"] and not report["engine_running"] and report["remaining"] == 2
    with transaction(db) as s:
        s.scalar(select(DialerStatus)).updated_at = dt.datetime.now(UTC)
    code, out, _err = run(capsys, "status", "Birthday 2026")
    assert "box-1: 1 in flight" in out
    assert run(capsys, "resume", "Birthday 2026")[0] == 0
    assert run(capsys, "stop", "Birthday 2026")[0] == 0
    with transaction(db) as s:
        moves = [(a.changes["from"], a.changes["to"], a.username) for a in s.scalars(
            select(AuditEntry).where(AuditEntry.action == "campaign-status").order_by(AuditEntry.id))]
    assert [(f, t) for f, t, _u in moves] == [("draft", "running"), ("running", "paused"), ("paused", "running"),
                                              ("running", "stopped")]
    assert all(u.startswith("cli:") for _f, _t, u in moves)


def test_unknown_campaign_and_illegal_transitions_exit_with_a_clear_message(db, capsys):
    code, _out, err = run(capsys, "pause", "Nope")
    assert code == 1 and "no campaign 'Nope'" in err
    assert run(capsys, "status", "999")[0] == 1
    code, _out, err = run(capsys, "pause", "Birthday 2026")
    assert code == 2 and "cannot go from draft to paused" in err
    code, _out, err = run(capsys, "resume", "Birthday 2026")
    assert code == 2 and "not paused" in err
    code, _out, err = run(capsys, "start", "Empty")
    assert code == 2 and "caller ID" in err
    with transaction(db) as s:
        assert s.scalar(select(Campaign.status).where(Campaign.name == "Birthday 2026")) == "draft"
