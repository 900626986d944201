"""Campaigns, contacts and the do-not-call list: roles, CSRF, CSV import (good file, malformed file), audit."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

import factories
from crm_core.models import AuditEntry, Campaign, CampaignContact, DoNotCall


@pytest.fixture
def campaign(dbs):
    row = Campaign(name=f"Spring sale {factories.next_serial()}")
    dbs.add(row)
    dbs.commit()
    return row


def upload(actions, campaign_id: int, text: str, *, with_token: bool = True):
    data = {"campaign": str(campaign_id), "file": (io.BytesIO(text.encode("utf-8")), "contacts.csv")}
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
    assert [(r.number, r.status, r.data) for r in rows] == [
        (f"+86{first}", "pending", {"name": "王丽", "product": "8801"}),
        (f"+86{second}", "pending", {"name": "Li Lei", "product": "8802"}),
        (f"+86{blocked}", "skipped", {"name": "Zhang", "product": "8801"}),
    ]
    entry = dbs.scalars(select(AuditEntry).where(AuditEntry.model == "campaign_contacts",
                                                 AuditEntry.action == "import").order_by(AuditEntry.id.desc())).first()
    assert entry.changes == {"campaign_id": campaign.id, "contacts": 3, "do_not_call": 1}
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
    assert f"line 4: +86{good} is already on line 2" in html
    assert "line 5: 1 fields, the header has 2" in html
    assert "line 6: 3 fields, the header has 2" in html
    assert contacts_of(dbs, campaign.id) == []


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
                "/admin/campaign_contacts/import/", "/admin/campaigns/new/"):
        assert client.get(url).status_code == expected, url


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
