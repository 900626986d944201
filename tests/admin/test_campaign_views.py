"""Campaigns, contacts and the do-not-call list: roles, CSRF, file import (UTF-8, GBK, xlsx, malformed
lines, duplicates merged), status changes only through the life-cycle service, live edits, attempts export."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

import factories
from crm_core.models import AuditEntry, Campaign, CampaignAttempt, CampaignContact, CustomerSegment, DoNotCall
from crm_core.types import utcnow


@pytest.fixture
def campaign(dbs):
    row = Campaign(name=f"Spring sale {factories.next_serial()}")
    dbs.add(row)
    dbs.commit()
    return row


def upload(actions, campaign_id: int, text: str | bytes, *, with_token: bool = True, name: str = "contacts.csv"):
    raw = text if isinstance(text, bytes) else text.encode("utf-8")
    data = {"campaign": str(campaign_id), "file": (io.BytesIO(raw), name)}
    if with_token:
        return actions.post("/admin/campaign_contacts/import/?lang=en", data=data,
                            content_type="multipart/form-data")
    return actions.client.post("/admin/campaign_contacts/import/?lang=en", data=data,
                               content_type="multipart/form-data")


def contacts_of(dbs, campaign_id: int) -> list[CampaignContact]:
    dbs.reread()
    return list(dbs.scalars(select(CampaignContact).where(CampaignContact.campaign_id == campaign_id)
                            .order_by(CampaignContact.id)))


def test_good_csv_imports_every_contact_with_merge_fields_and_skips_do_not_call_numbers(as_role, dbs, campaign):
    blocked = factories.new_mobile()
    dbs.add(DoNotCall(number=f"+86{blocked}", reason="asked"))
    dbs.commit()
    first, second = factories.new_mobile(), factories.new_mobile()
    text = f"\ufeffnumber,name,product\n{first},王丽,8801\n{second},Li Lei,8802\n\n{blocked},Zhang,8801\n"
    response = upload(as_role("campaign"), campaign.id, text)
    assert response.status_code == 302, response.text
    rows = contacts_of(dbs, campaign.id)
    assert [(r.number, r.status, r.skip_reason, r.data) for r in rows] == [
        (f"+86{first}", "pending", None, {"name": "王丽", "product": "8801"}),
        (f"+86{second}", "pending", None, {"name": "Li Lei", "product": "8802"}),
        (f"+86{blocked}", "skipped", "do_not_call", {"name": "Zhang", "product": "8801"}),
    ]
    entry = dbs.scalars(select(AuditEntry).where(AuditEntry.model == "campaign_contacts",
                                                 AuditEntry.action == "import").order_by(AuditEntry.id.desc())).first()
    assert entry.changes == {"campaign_id": campaign.id, "source": "file", "contacts": 3, "merged_in_file": 0,
                             "added": 3, "merged": 0, "skipped_do_not_call": 1}
    assert entry.username == "campaign"


def test_malformed_csv_lists_every_bad_line_and_imports_nothing(as_role, dbs, campaign):
    good = factories.new_mobile()
    text = (f"number;name\n{good};ok\n12;short number\n{good};duplicate\nnot-a-phone\n"
            f"{factories.new_mobile()};too;many\n")
    response = upload(as_role("admin"), campaign.id, text)
    assert response.status_code == 400
    html = response.text
    assert 'id="import-errors"' in html and "Nothing imported" in html
    assert "line 3: 12 is not a phone number" in html
    assert "line 4" not in html  # a duplicate is merged, not an error
    assert "line 5: 1 fields, the header has 2" in html
    assert "line 6: 3 fields, the header has 2" in html
    assert contacts_of(dbs, campaign.id) == []


def test_gbk_csv_from_chinese_excel_is_imported_and_duplicates_are_merged_and_reported(as_role, dbs, campaign):
    first, second = factories.new_mobile(), factories.new_mobile()
    data = f"手机,姓名\r\n{first},王丽\r\n{second},张伟\r\n{first},\r\n".encode("gbk")
    response = upload(as_role("campaign"), campaign.id, data)
    assert response.status_code == 302, response.text
    page = as_role("campaign").client.get("/admin/campaign_contacts/?lang=en")
    assert page.status_code == 200
    assert [(r.number, r.data) for r in contacts_of(dbs, campaign.id)] == [
        (f"+86{first}", {"姓名": "王丽"}), (f"+86{second}", {"姓名": "张伟"})]


def test_xlsx_upload_is_imported(as_role, dbs, campaign):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["number", "name"])
    mobile = factories.new_mobile()
    book.active.append([float(mobile), "王丽"])
    buffer = io.BytesIO()
    book.save(buffer)
    response = upload(as_role("campaign"), campaign.id, buffer.getvalue(), name="list.xlsx")
    assert response.status_code == 302, response.text
    assert [(r.number, r.data) for r in contacts_of(dbs, campaign.id)] == [(f"+86{mobile}", {"name": "王丽"})]


def test_undecodable_file_is_refused_with_the_reason(as_role, dbs, campaign):
    response = upload(as_role("campaign"), campaign.id, b"number\n\xff\xff\xff\n")
    assert response.status_code == 400 and "neither UTF-8 nor GB18030" in response.text


@pytest.mark.parametrize("text, message", [
    ("name\nx\n", "no &#39;number&#39; column"),
    ("", "the file is empty"),
])
def test_csv_without_a_number_column_or_empty_is_refused(as_role, dbs, campaign, text, message):
    response = upload(as_role("admin"), campaign.id, text)
    assert response.status_code == 400 and message in response.text
    assert contacts_of(dbs, campaign.id) == []


def test_import_without_csrf_token_is_rejected(as_role, dbs, campaign):
    response = upload(as_role("admin"), campaign.id, f"number\n{factories.new_mobile()}\n", with_token=False)
    assert response.status_code == 400
    assert contacts_of(dbs, campaign.id) == []


@pytest.mark.parametrize("username, expected", [("admin", 200), ("campaign", 200), ("supervisor", 403),
                                                 ("agent", 403)])
def test_campaign_views_are_for_admins_and_campaign_managers(as_role, username, expected):
    client = as_role(username).client
    for url in ("/admin/campaigns/", "/admin/campaign_contacts/", "/admin/do_not_call/",
                "/admin/campaign_contacts/import/", "/admin/campaigns/new/", "/admin/segments/"):
        assert client.get(url).status_code == expected, url
    # the attempt log is also for supervisors (read and export only)
    assert client.get("/admin/campaign_attempts/").status_code == (403 if username == "agent" else 200)


def test_do_not_call_entry_is_normalised_audited_and_records_who_added_it(as_role, dbs):
    actions = as_role("campaign")
    number = factories.new_mobile()
    response = actions.post("/admin/do_not_call/new/?lang=en", data={"number": number, "reason": "asked"})
    assert response.status_code == 302, response.text
    dbs.reread()
    row = dbs.get(DoNotCall, f"+86{number}")
    assert row is not None and row.added_by == "campaign"
    entry = dbs.scalars(select(AuditEntry).where(AuditEntry.model == "do_not_call", AuditEntry.pk == f"+86{number}")
                        ).one()
    assert entry.action == "create" and entry.username == "campaign"


def test_audit_entries_go_through_the_crm_core_model_with_ipv6_addresses_kept_whole(app, dbs):
    from admin import audit
    from admin.extensions import db

    address = "2001:0db8:85a3:0000:0000:8a2e:0370:7334"
    assert audit.AuditEntry is AuditEntry
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": address}):
        audit.record("other", "products", 4242, {"why": "test"})
        db.session.commit()
    dbs.reread()
    row = dbs.scalars(select(AuditEntry).where(AuditEntry.model == "products", AuditEntry.pk == "4242")).one()
    assert row.remote_addr == address and row.changes == {"why": "test"}


# -- the campaign itself: only through the life-cycle service --------------------------------------------------

def campaign_form(name: str, **extra: str) -> dict[str, str]:
    return {"name": name, "mode": "predictive", "caller_id": "4008001234", "calling_hours_start": "09:00",
            "calling_hours_end": "20:00", "timezone": "Asia/Shanghai", "holiday_country": "CN",
            "max_attempts": "3", "retry_minutes": "60", "ring_seconds": "30", "dial_ratio": "2",
            "abandon_cap_percent": "3", "amd_policy": "off", "blend_rule": "dedicated", **extra}


def test_campaign_is_created_through_the_service_and_its_form_has_no_status(as_role, dbs):
    actions = as_role("campaign")
    page = actions.client.get("/admin/campaigns/new/?lang=en")
    assert 'id="status"' not in page.text and 'name="retry_rules_json"' in page.text
    name = f"Care {factories.next_serial()}"
    response = actions.post("/admin/campaigns/new/?lang=en", data={
        **campaign_form(name), "status": "running", "retry_rules_json": '{"busy": {"retry_minutes": 5}}'})
    assert response.status_code == 302, response.text
    dbs.reread()
    row = dbs.scalars(select(Campaign).where(Campaign.name == name)).one()
    assert (row.status, row.caller_id, row.retry_rules) == ("draft", "+864008001234", {"busy": {"retry_minutes": 5}})
    entry = dbs.scalars(select(AuditEntry).where(AuditEntry.model == "campaigns", AuditEntry.pk == str(row.id))).one()
    assert entry.action == "create" and entry.username == "campaign"


def test_the_script_is_chosen_among_campaign_menus_only(as_role, dbs):
    from crm_core.models import IvrMenu

    serial = factories.next_serial()
    dbs.add_all([IvrMenu(name=f"care-{serial}", purpose="campaign"), IvrMenu(name=f"hotline-{serial}",
                                                                            purpose="inbound")])
    dbs.commit()
    actions = as_role("campaign")
    page = actions.client.get("/admin/campaigns/new/?lang=en")
    assert f'value="care-{serial}"' in page.text and f'value="hotline-{serial}"' not in page.text
    refused = actions.post("/admin/campaigns/new/?lang=en",
                           data=campaign_form(f"Inbound {serial}", mode="ivr", ivr_script=f"hotline-{serial}"))
    assert refused.status_code == 200 and "Not a valid choice" in refused.text
    name = f"No script {serial}"
    created = actions.post("/admin/campaigns/new/?lang=en", data=campaign_form(name, ivr_script=""))
    assert created.status_code == 302, created.text
    dbs.reread()
    assert dbs.scalars(select(Campaign).where(Campaign.name == name)).one().ivr_script is None
    assert dbs.scalars(select(Campaign).where(Campaign.name == f"Inbound {serial}")).first() is None


def test_calling_hours_wider_than_the_law_are_refused_in_the_form(as_role, dbs):
    name = f"Late {factories.next_serial()}"
    response = as_role("campaign").post("/admin/campaigns/new/?lang=en",
                                        data=campaign_form(name, calling_hours_end="22:00"))
    assert "calling hours must lie within 08:00-21:00" in response.text
    dbs.reread()
    assert dbs.scalars(select(Campaign).where(Campaign.name == name)).first() is None


def test_status_page_starts_pauses_and_stops_with_audit_and_refuses_illegal_moves(as_role, dbs, campaign):
    campaign.caller_id = "+864008001234"
    dbs.add(CampaignContact(campaign_id=campaign.id, number=f"+86{factories.new_mobile()}"))
    dbs.commit()
    actions = as_role("campaign")
    details = actions.client.get(f"/admin/campaigns/details/?id={campaign.id}&lang=en")
    assert details.status_code == 200 and f"/admin/campaigns/status/{campaign.id}" in details.text
    page = actions.client.get(f"/admin/campaigns/status/{campaign.id}?lang=en")
    assert page.status_code == 200 and 'value="running"' in page.text and 'value="completed"' not in page.text
    for target in ("running", "paused", "stopped"):
        response = actions.post(f"/admin/campaigns/status/{campaign.id}?lang=en",
                                data={"to_status": target, "reason": "test"})
        assert response.status_code == 302, response.text
    response = actions.post(f"/admin/campaigns/status/{campaign.id}?lang=en", data={"to_status": "running"})
    assert response.status_code == 400 and "cannot go from stopped to running" in response.text
    dbs.reread()
    assert dbs.get(Campaign, campaign.id).status == "stopped"
    moves = [e.changes["to"] for e in dbs.scalars(select(AuditEntry).where(
        AuditEntry.model == "campaigns", AuditEntry.pk == str(campaign.id), AuditEntry.action == "campaign-status")
        .order_by(AuditEntry.id))]
    assert moves == ["running", "paused", "stopped"]
    assert as_role("supervisor").client.get(f"/admin/campaigns/status/{campaign.id}").status_code == 403


def test_editing_a_running_campaign_bumps_its_pacing_version(as_role, dbs, campaign):
    campaign.caller_id = "+864008001234"
    campaign.status = "running"
    dbs.commit()
    version = campaign.pacing_version
    response = as_role("campaign").post(f"/admin/campaigns/edit/?id={campaign.id}&lang=en",
                                        data=campaign_form(campaign.name, dial_ratio="3", amd_policy="hangup"))
    assert response.status_code == 302, response.text
    dbs.reread()
    row = dbs.get(Campaign, campaign.id)
    assert (row.dial_ratio, row.amd_policy, row.pacing_version, row.status) == (3, "hangup", version + 1, "running")


def test_attempts_are_read_only_and_export_as_plain_csv(as_role, dbs, campaign):
    contact = CampaignContact(campaign_id=campaign.id, number=f"+86{factories.new_mobile()}")
    dbs.add(contact)
    dbs.flush()
    dbs.add(CampaignAttempt(campaign_id=campaign.id, contact_id=contact.id, number=contact.number,
                            mode="predictive", call_uuid=f"u-{factories.next_serial()}", result="busy",
                            ended_at=utcnow(), hangup_cause="USER_BUSY"))
    dbs.commit()
    actions = as_role("campaign")
    assert actions.client.get("/admin/campaign_attempts/new/").status_code in (302, 403)
    response = actions.client.get(f"/admin/campaign_attempts/export/csv/?flt0_0={campaign.id}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "USER_BUSY" in response.text and campaign.name in response.text


def test_segment_definitions_are_validated_by_crm_core(as_role, dbs):
    actions = as_role("campaign")
    name = f"VIP {factories.next_serial()}"
    bad = actions.post("/admin/segments/new/?lang=en", data={"name": name, "definition": '{"rules": [{"rule": "x"}]}'})
    assert "unknown rule" in bad.text
    good = actions.post("/admin/segments/new/?lang=en", data={"name": name,
                                                              "definition": '{"rules": [{"rule": "vip"}]}'})
    assert good.status_code == 302, good.text
    dbs.reread()
    row = dbs.scalars(select(CustomerSegment).where(CustomerSegment.name == name)).one()
    assert row.definition == {"match": "all", "rules": [{"rule": "vip", "levels": ["diamond", "gold", "platinum"]}]}
