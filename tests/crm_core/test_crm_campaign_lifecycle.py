"""The campaign life cycle service: transitions by the table, start conditions, live pacing edits, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from crm_core.enums import CAMPAIGN_TRANSITIONS, CampaignStatus
from crm_core.exceptions import IllegalTransition, InvalidInput
from crm_core.models import AuditEntry, CampaignContact
from crm_core.services.campaign_contacts import ContactRow, add_contacts
from crm_core.services.campaigns import (
    Actor,
    change_campaign_status,
    create_campaign,
    set_questions,
    start_due_campaigns,
    update_campaign,
)
from crm_core.types import utcnow

ME = Actor("manager", user_id=7, remote_addr="2001:db8::1")
NOW = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.timezone.utc)


def audit_of(session, campaign_id):
    return list(session.scalars(select(AuditEntry).where(AuditEntry.model == "campaigns",
                                                         AuditEntry.pk == str(campaign_id))
                                .order_by(AuditEntry.id)))


@pytest.fixture
def campaign(db_session, factories):
    row = create_campaign(db_session, f"Care call {factories.next_serial()}", actor=ME, mode="predictive",
                          caller_id="4008001234")
    add_contacts(db_session, row.id, [ContactRow(f"+86{factories.new_mobile()}", {"name": "王丽"})])
    return row


def test_every_move_outside_the_table_is_refused(db_session, campaign):
    all_pairs = {(a, b) for a in CampaignStatus for b in CampaignStatus}
    for source, target in sorted(all_pairs - CAMPAIGN_TRANSITIONS):
        campaign.status = source.value
        db_session.flush()
        with pytest.raises(IllegalTransition) as info:
            change_campaign_status(db_session, campaign.id, target, actor=ME)
        assert info.value.details["from_status"] == source.value


def test_run_pause_resume_stop_are_audited_with_who_and_from_where(db_session, campaign):
    for target in ("running", "paused", "running", "stopped"):
        change = change_campaign_status(db_session, campaign.id, target, actor=ME, reason="test", at=NOW)
        assert change.to_status == target
    assert campaign.status == "stopped" and campaign.status_changed_at == NOW
    entries = [e for e in audit_of(db_session, campaign.id) if e.action == "campaign-status"]
    assert [(e.changes["from"], e.changes["to"]) for e in entries] == [
        ("draft", "running"), ("running", "paused"), ("paused", "running"), ("running", "stopped")]
    assert {(e.username, e.user_id, e.remote_addr) for e in entries} == {("manager", 7, "2001:db8::1")}
    with pytest.raises(InvalidInput):  # a stopped campaign is final
        update_campaign(db_session, campaign.id, {"dial_ratio": 3}, actor=ME)


def test_start_needs_a_caller_id_contacts_and_a_script_for_automated_campaigns(db_session, factories):
    bare = create_campaign(db_session, f"Bare {factories.next_serial()}", actor=ME)
    with pytest.raises(InvalidInput, match="caller ID"):
        change_campaign_status(db_session, bare.id, "running", actor=ME)
    update_campaign(db_session, bare.id, {"caller_id": "+86 400 800 1234"}, actor=ME)
    assert bare.caller_id == "+864008001234"
    with pytest.raises(InvalidInput, match="no contacts"):
        change_campaign_status(db_session, bare.id, "running", actor=ME)
    update_campaign(db_session, bare.id, {"mode": "ivr"}, actor=ME)
    add_contacts(db_session, bare.id, [ContactRow(f"+86{factories.new_mobile()}", {})])
    with pytest.raises(InvalidInput, match="IVR script or a voice file"):
        change_campaign_status(db_session, bare.id, "running", actor=ME)
    update_campaign(db_session, bare.id, {"voice_file": "campaigns/reminder.wav", "amd_policy": "leave_message"},
                    actor=ME)
    assert change_campaign_status(db_session, bare.id, "running", actor=ME).to_status == "running"


def test_pacing_edits_on_a_running_campaign_bump_the_version_and_setup_edits_are_refused(db_session, campaign):
    change_campaign_status(db_session, campaign.id, "running", actor=ME)
    version = campaign.pacing_version
    update_campaign(db_session, campaign.id, {"dial_ratio": "2.5", "abandon_cap_percent": 2,
                                              "calling_hours_start": "10:00", "amd_policy": "hangup",
                                              "retry_rules": {"busy": {"retry_minutes": 5}}}, actor=ME)
    assert campaign.pacing_version == version + 1
    entry = audit_of(db_session, campaign.id)[-1]
    assert entry.action == "update"
    assert entry.changes["calling_hours_start"] == ["09:00:00", "10:00:00"]
    assert entry.changes["pacing_version"] == [version, version + 1]
    update_campaign(db_session, campaign.id, {"dial_ratio": "2.50"}, actor=ME)  # no change, no new version
    assert campaign.pacing_version == version + 1
    with pytest.raises(InvalidInput, match="once the campaign has started"):
        update_campaign(db_session, campaign.id, {"name": "renamed"}, actor=ME)


@pytest.mark.parametrize("changes, field", [
    ({"calling_hours_start": "07:30"}, "calling_hours"),  # wider than the legal 08:00-21:00
    ({"calling_hours_end": "21:30"}, "calling_hours"),
    ({"calling_hours_start": "20:00", "calling_hours_end": "19:00"}, "calling_hours"),
    ({"ring_seconds": 10}, "ring_seconds"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"retry_rules": {"busy": {"retry_minutes": 0}}}, "retry_rules"),
    ({"retry_rules": {"sunny": {"retry_minutes": 5}}}, "retry_rules"),
    ({"dial_ratio": 0.5}, "dial_ratio"),
    ({"abandon_cap_percent": 101}, "abandon_cap_percent"),
    ({"mode": "telepathy"}, "mode"),
    ({"voice_file": "a.wav\nhangup"}, "voice_file"),
    ({"holiday_country": "XX"}, "holiday_country"),
])
def test_bad_settings_are_refused_with_the_field_named(db_session, campaign, changes, field):
    with pytest.raises(InvalidInput) as info:
        update_campaign(db_session, campaign.id, changes, actor=ME)
    assert info.value.details.get("field") == field


def test_scheduled_campaigns_start_when_due_and_failures_are_audited(db_session, campaign, factories):
    update_campaign(db_session, campaign.id, {"starts_at": NOW + dt.timedelta(hours=1)}, actor=ME)
    with pytest.raises(InvalidInput, match="future"):
        change_campaign_status(db_session, campaign.id, "scheduled", actor=ME, at=NOW + dt.timedelta(hours=2))
    change_campaign_status(db_session, campaign.id, "scheduled", actor=ME, at=NOW)
    empty = create_campaign(db_session, f"Empty {factories.next_serial()}", actor=ME, caller_id="4008001234",
                            starts_at=NOW + dt.timedelta(minutes=30))
    change_campaign_status(db_session, empty.id, "scheduled", actor=ME, at=NOW)
    assert start_due_campaigns(db_session, actor=Actor("scheduler"), now=NOW + dt.timedelta(minutes=45)) == []
    started = start_due_campaigns(db_session, actor=Actor("scheduler"), now=NOW + dt.timedelta(hours=1))
    assert campaign.id in started and empty.id not in started
    assert campaign.status == "running" and empty.status == "scheduled"
    failed = [e for e in audit_of(db_session, empty.id) if e.action == "campaign-start-failed"]
    assert failed and "no contacts" in failed[0].changes["error"]


def test_completed_only_when_nothing_remains(db_session, campaign):
    change_campaign_status(db_session, campaign.id, "running", actor=ME)
    with pytest.raises(InvalidInput, match="stop the campaign instead"):
        change_campaign_status(db_session, campaign.id, "completed", actor=ME)
    for contact in db_session.scalars(select(CampaignContact).where(CampaignContact.campaign_id == campaign.id)):
        contact.status = "done"
    db_session.flush()
    assert change_campaign_status(db_session, campaign.id, "completed", actor=ME).to_status == "completed"


def test_survey_questions_are_ordered_validated_and_versioned(db_session, campaign):
    version = campaign.pacing_version
    rows = set_questions(db_session, campaign.id, [
        {"key": "satisfied", "prompt": "满意请按1，不满意请按2", "valid_digits": "12"},
        {"key": "again", "prompt": "还会再买吗？会请按1，不会请按2", "valid_digits": "12"}], actor=ME)
    assert [(r.position, r.key) for r in rows] == [(1, "satisfied"), (2, "again")]
    rows = set_questions(db_session, campaign.id, [
        {"key": "again", "prompt": "还会再买吗？", "valid_digits": "12"},
        {"key": "satisfied", "prompt": "满意吗？", "valid_digits": "123"}], actor=ME)
    assert [(r.position, r.key, r.valid_digits) for r in rows] == [(1, "again", "12"), (2, "satisfied", "123")]
    assert campaign.pacing_version == version + 2
    with pytest.raises(InvalidInput):
        set_questions(db_session, campaign.id, [{"key": "x", "prompt": "p", "valid_digits": "1a"}], actor=ME)
    with pytest.raises(InvalidInput):
        set_questions(db_session, campaign.id, [{"key": "x", "prompt": "p"}, {"key": "x", "prompt": "q"}],
                      actor=ME)


def test_create_refuses_unknown_settings_and_audits_the_new_campaign(db_session, factories):
    with pytest.raises(InvalidInput):
        create_campaign(db_session, "x", actor=ME, status="running")
    row = create_campaign(db_session, f"Promo {factories.next_serial()}", actor=ME, mode="ratio", dial_ratio=3)
    assert row.status == "draft" and row.created_by == "manager"
    assert audit_of(db_session, row.id)[0].action == "create"
    assert utcnow() >= row.created_at
