"""Automated campaigns in the record: the script must be a campaign menu, the do-not-call list, a DNC key press."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from crm_core.exceptions import InvalidInput
from crm_core.models import AuditEntry, CampaignContact, DoNotCall
from crm_core.models.ivr_menus import IvrMenu, IvrMenuVersion
from crm_core.services.campaign_contacts import ContactRow, add_contacts
from crm_core.services.campaigns import Actor, change_campaign_status, create_campaign, update_campaign
from crm_core.services.dialing import claim_due_contacts, close_attempt
from crm_core.services.do_not_call import add_to_do_not_call

ME = Actor("manager")
NOW = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.timezone.utc)


def menu(session, name, purpose, *, published=True):
    row = IvrMenu(name=name, purpose=purpose)
    session.add(row)
    session.flush()
    session.add(IvrMenuVersion(menu_id=row.id, version=1, status="published" if published else "draft",
                               document={"name": name, "entry": "a", "nodes": {}}))
    session.flush()
    return row


def test_an_ivr_script_must_be_an_existing_campaign_menu(db_session, factories):
    n = factories.next_serial()
    menu(db_session, f"hotline{n}", "inbound")
    menu(db_session, f"care{n}", "campaign")
    with pytest.raises(InvalidInput, match="answers inbound calls") as refused:
        create_campaign(db_session, f"A {n}", actor=ME, mode="ivr", ivr_script=f"hotline{n}")
    assert refused.value.details.get("field") == "ivr_script"
    with pytest.raises(InvalidInput, match="no IVR menu named"):
        create_campaign(db_session, f"B {n}", actor=ME, mode="ivr", ivr_script=f"nothing{n}")
    campaign = create_campaign(db_session, f"C {n}", actor=ME, mode="ivr", ivr_script=f"care{n}")
    with pytest.raises(InvalidInput, match="answers inbound calls"):
        update_campaign(db_session, campaign.id, {"ivr_script": f"hotline{n}"}, actor=ME)


def test_a_script_without_a_published_version_cannot_start(db_session, factories):
    n = factories.next_serial()
    menu(db_session, f"draft{n}", "campaign", published=False)
    campaign = create_campaign(db_session, f"D {n}", actor=ME, mode="ivr", ivr_script=f"draft{n}",
                               caller_id="4008001234")
    add_contacts(db_session, campaign.id, [ContactRow(f"+86{factories.new_mobile()}", {})])
    with pytest.raises(InvalidInput, match="no published version"):
        change_campaign_status(db_session, campaign.id, "running", actor=ME)


def test_add_to_do_not_call_is_idempotent_and_renews_an_expired_entry(db_session, factories):
    number = f"+86{factories.new_mobile()}"
    first = add_to_do_not_call(db_session, number[3:], reason="pressed 9", source="campaign", at=NOW)
    again = add_to_do_not_call(db_session, number, reason="pressed 9", source="campaign", at=NOW)
    assert first is again and first.number == number
    assert db_session.scalar(select(DoNotCall).where(DoNotCall.number == number)) is first
    first.expires_at = NOW - dt.timedelta(days=1)
    add_to_do_not_call(db_session, number, reason="asked an agent", source="agent", at=NOW)
    assert first.expires_at is None and first.reason.startswith("asked an agent (again; before: pressed 9")
    actions = db_session.scalars(select(AuditEntry.action).where(AuditEntry.model == "do_not_call",
                                                                 AuditEntry.pk == number)).all()
    assert actions == ["do-not-call-add", "do-not-call-renewed"]
    with pytest.raises(InvalidInput):
        add_to_do_not_call(db_session, "not a number", reason="x", source="campaign")


def test_closing_an_attempt_with_do_not_call_lists_the_number_and_skips_the_contact(db_session, factories):
    n = factories.next_serial()
    number = f"+86{factories.new_mobile()}"
    campaign = create_campaign(db_session, f"E {n}", actor=ME, mode="predictive", caller_id="4008001234",
                               calling_hours_start=dt.time(8, 0))
    add_contacts(db_session, campaign.id, [ContactRow(number, {"name": "王芳"})])
    change_campaign_status(db_session, campaign.id, "running", actor=ME, at=NOW)
    (claim,) = claim_due_contacts(db_session, campaign.id, 1, now=NOW).claims
    closed = close_attempt(db_session, claim.attempt_id, "answered", at=NOW, do_not_call=True)
    contact = db_session.get(CampaignContact, claim.contact_id)
    assert (closed.contact_status, contact.skip_reason) == ("skipped", "do_not_call")
    assert db_session.get(DoNotCall, number).added_by == "campaign"
    assert close_attempt(db_session, claim.attempt_id, "answered", at=NOW, do_not_call=True).already_closed
