"""Agents' SIP passwords: generated once per agent, kept, rotated on request, audited without the secret."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from crm_core.exceptions import UnknownAgent
from crm_core.models import AuditEntry
from crm_core.services.sip_accounts import sip_accounts


def test_every_active_agent_gets_its_own_password_kept_across_runs(db_session, make_agent):
    first, second = make_agent(), make_agent()
    gone = make_agent()
    gone.active = False
    accounts = {a.extension: a for a in sip_accounts(db_session)}
    assert set(accounts) >= {first.extension, second.extension} and gone.extension not in accounts
    mine = accounts[first.extension]
    assert (mine.agent_id, mine.name) == (first.id, first.name)
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}", mine.password)
    assert mine.password != accounts[second.extension].password
    assert first.sip_password == mine.password  # kept on the agent's row
    again = {a.extension: a for a in sip_accounts(db_session)}
    assert again[first.extension].password == mine.password


def test_rotate_renews_only_the_named_phone_and_audits_without_the_secret(db_session, make_agent):
    first, second = make_agent(), make_agent()
    before = {a.extension: a.password for a in sip_accounts(db_session)}
    after = {a.extension: a.password for a in sip_accounts(db_session, rotate=[first.extension], by="test")}
    assert after[first.extension] != before[first.extension]
    assert after[second.extension] == before[second.extension]
    entries = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "sip_password",
                                                          AuditEntry.pk == str(first.id))).all()
    assert [e.changes["password"] for e in entries] == ["generated", "rotated"]
    assert all(after[first.extension] not in str(e.changes) for e in entries)


def test_rotating_an_unknown_extension_is_refused(db_session, make_agent):
    make_agent()
    with pytest.raises(UnknownAgent):
        sip_accounts(db_session, rotate=["99999999"])
