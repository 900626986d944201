"""Messaging in the admin UI: outbox (filters, retry, cancel), templates (checked, previewed), gateways (secret
write-only), fax inbox (unmatched, assign, documents), test SMS, order notifications from the order view."""

from __future__ import annotations

import uuid

from sqlalchemy import select

import factories
from crm_core.models import AuditEntry, InboundFax, MessageGateway, MessageOptOut, MessageTemplate, OutboxMessage
from crm_core.services.faxes import ReceivedFax, file_inbound_fax
from crm_core.services.outbox import enqueue
from crm_core.services.orders import place_order
from freeswitch.sim.fax import write_fax_tiff
from messaging.fax_convert import convert_received_fax


def _key() -> str:
    return f"admin-{uuid.uuid4().hex[:10]}"


def test_outbox_lists_filters_retries_and_cancels_with_audit(dbs, as_role):
    failed = enqueue(dbs, "sms", "13800138000", body="failed one", key=_key())
    failed.status, failed.last_error = "failed", "attempt 5/5: gateway unreachable"
    queued = enqueue(dbs, "email", "a@example.com", subject="hi", body="queued one", key=_key())
    dbs.commit()
    admin = as_role("admin")
    page = admin.client.get("/admin/outbox/?flt0_0=sms&lang=en")  # first filter: channel equals sms
    assert page.status_code == 200 and failed.idempotency_key not in page.text  # keys show on details only
    assert "failed one" not in page.text and "+8613800138000" in page.text and "a@example.com" not in page.text
    details = admin.client.get(f"/admin/outbox/details/?id={failed.id}&lang=en").text
    assert "failed one" in details and "gsm7, 10 units, 1 part(s)" in details
    response = admin.post("/admin/outbox/action/", {"action": "retry", "rowid": [str(failed.id), str(queued.id)]})
    assert response.status_code == 302
    response = admin.post("/admin/outbox/action/", {"action": "cancel", "rowid": str(queued.id)})
    assert response.status_code == 302
    dbs.reread()
    assert dbs.get(OutboxMessage, failed.id).status == "queued" and dbs.get(OutboxMessage, failed.id).attempts == 0
    assert dbs.get(OutboxMessage, queued.id).status == "cancelled"
    actions = dbs.scalars(select(AuditEntry.action).where(AuditEntry.model == "outbox_messages",
                                                          AuditEntry.pk.in_([str(failed.id), str(queued.id)]))).all()
    assert sorted(actions) == ["message-cancel", "message-retry"]
    campaign = as_role("campaign")
    assert campaign.client.get("/admin/outbox/").status_code == 200
    assert campaign.post("/admin/outbox/action/", {"action": "retry", "rowid": str(failed.id)}).status_code in (302,
                                                                                                              403)
    dbs.reread()
    assert dbs.get(OutboxMessage, failed.id).status == "queued"  # campaign managers only read


def test_template_with_an_unknown_merge_field_is_refused_when_saved(dbs, as_role):
    admin = as_role("admin")
    name = f"promo_{uuid.uuid4().hex[:6]}"
    bad = admin.post("/admin/message_templates/new/?lang=en", {
        "name": "order_shipped", "channel": "sms", "language": "zh", "body": "订单{order_no}由{couier}发出",
        "active": "y"})
    assert bad.status_code == 200 and "unknown merge field {couier}" in bad.text
    assert "available: courier, customer_name, order_no, waybill" in bad.text
    undeclared = admin.post("/admin/message_templates/new/?lang=en", {
        "name": name, "channel": "sms", "language": "zh", "body": "{name}，双十一五折！", "active": "y"})
    assert "unknown merge field {name}" in undeclared.text
    ok = admin.post("/admin/message_templates/new/?lang=en", {
        "name": name, "channel": "sms", "language": "zh", "body": "{name}，双十一五折！回TD退订", "fields": "name",
        "active": "y"})
    assert ok.status_code == 302
    row = dbs.scalars(select(MessageTemplate).where(MessageTemplate.name == name)).one()
    assert row.updated_by == "admin"
    details = admin.client.get(f"/admin/message_templates/details/?id={row.id}&lang=en").text
    preview = "刀具套装，双十一五折！回TD退订"  # the example value of {name}
    assert preview in details and f"ucs2: {len(preview)} / 70 units per part, 1 part(s)" in details
    assert dbs.scalars(select(MessageTemplate).where(MessageTemplate.body.like("%couier%"))).first() is None


def test_gateway_secret_is_write_only_and_never_logged(dbs, as_role):
    admin = as_role("admin")
    secret = "sk-live-" + uuid.uuid4().hex
    dbs.execute(MessageGateway.__table__.delete().where(MessageGateway.channel == "sms"))
    dbs.commit()
    refused = admin.post("/admin/message_gateways/new/?lang=en", {
        "channel": "sms", "kind": "smtp", "enabled": "y", "options_text": "", "new_secret": secret})
    assert "a smtp gateway cannot send sms" in refused.text
    unknown = admin.post("/admin/message_gateways/new/?lang=en", {
        "channel": "sms", "kind": "http", "enabled": "y", "options_text": "url=https://sms.example.com/v1\npassword=x"})
    assert "unknown http option(s): password" in unknown.text
    created = admin.post("/admin/message_gateways/new/?lang=en", {
        "channel": "sms", "kind": "http", "enabled": "y", "new_secret": secret,
        "options_text": "url=https://sms.example.com/v1\napi_key=acct-1\ntimeout=5"})
    assert created.status_code == 302
    row = dbs.scalars(select(MessageGateway).where(MessageGateway.channel == "sms")).one()
    assert (row.secret, row.options) == (secret, {"url": "https://sms.example.com/v1", "api_key": "acct-1",
                                                  "timeout": 5})
    for url in ("/admin/message_gateways/", f"/admin/message_gateways/details/?id={row.id}",
                f"/admin/message_gateways/edit/?id={row.id}", "/admin/message_gateways/export/csv/"):
        page = admin.client.get(url)
        assert page.status_code in (200, 403) and secret not in page.get_data(as_text=True), url
    kept = admin.post(f"/admin/message_gateways/edit/?id={row.id}", {
        "channel": "sms", "kind": "http", "enabled": "y", "new_secret": "",
        "options_text": "url=https://sms.example.com/v2\napi_key=acct-1"})
    assert kept.status_code == 302
    dbs.reread()
    row = dbs.get(MessageGateway, row.id)
    assert row.secret == secret and row.options["url"].endswith("/v2")
    logged = dbs.scalars(select(AuditEntry.changes).where(AuditEntry.model == "message_gateways")).all()
    assert logged and all(secret not in str(c) for c in logged)
    assert any((c or {}).get("secret") == ["***", "***"] for c in logged)
    assert as_role("supervisor").client.get("/admin/message_gateways/").status_code == 403


def _fax(dbs, tmp_path, sender):
    call = str(uuid.uuid4())
    tif = write_fax_tiff(tmp_path / f"{call}.tif", ["Purchase order"])
    converted = convert_received_fax(tif, tmp_path / "store", call)
    row = file_inbound_fax(dbs, ReceivedFax(call, True, sender=sender, pages=1, result_text="OK",
                                            tiff_path=str(converted.tiff), pdf_path=str(converted.pdf),
                                            thumbnail_path=str(converted.thumbnail)))
    dbs.commit()
    return row


def test_fax_inbox_unmatched_assign_and_documents_for_agents(dbs, as_role, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "FAX_DIRS", [str(tmp_path / "store")])
    customer = factories.make_customer(dbs)
    dbs.commit()
    fax = _fax(dbs, tmp_path, "02155550123")
    assert fax.customer_id is None
    supervisor = as_role("supervisor")
    inbox = supervisor.client.get("/admin/fax_inbox/?flt0_0=1&lang=en")  # "Unmatched" filter
    assert inbox.status_code == 200 and "02155550123" in inbox.text and "unmatched" in inbox.text
    phone = customer.phones[0].e164
    response = supervisor.post(f"/admin/fax_inbox/assign/{fax.id}", {"customer": phone})
    assert response.status_code == 302
    dbs.reread()
    assigned = dbs.get(InboundFax, fax.id)
    assert (assigned.customer_id, assigned.assigned_by) == (customer.id, "supervisor")
    pdf = as_role("agent").client.get(f"/admin/fax_files/in/{fax.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    assert as_role("agent").client.get("/admin/fax_inbox/").status_code == 403
    card = supervisor.client.get(f"/admin/customers/details/?id={customer.id}&lang=en").text
    assert f"/admin/fax_files/in/{fax.id}.pdf" in card
    monkeypatch.setitem(app.config, "FAX_DIRS", [str(tmp_path / "elsewhere")])
    assert as_role("agent").client.get(f"/admin/fax_files/in/{fax.id}.pdf").status_code == 404


def test_admin_files_a_test_sms_and_td_opts_the_number_out(dbs, as_role):
    customer = factories.make_customer(dbs)
    dbs.commit()
    number = customer.phones[0].e164
    admin = as_role("admin")
    assert admin.post("/admin/inbound_messages/test", {"sender": number, "body": "退订"}).status_code == 302
    dbs.reread()
    assert dbs.get(MessageOptOut, ("sms", number)).customer_id == customer.id
    confirmation = dbs.scalars(select(OutboxMessage).where(OutboxMessage.recipient == number,
                                                           OutboxMessage.template == "opt_out_confirmation")).one()
    assert confirmation.status == "queued"
    assert as_role("supervisor").client.get("/admin/inbound_messages/test").status_code == 403


def test_shipping_an_order_in_the_admin_queues_its_notification_in_the_same_commit(dbs, as_role):
    customer = factories.make_customer(dbs)
    product = factories.make_product(dbs)
    order = place_order(dbs, customer.id, [(product.phone_code, 1)])
    dbs.commit()
    admin = as_role("admin")
    missing = admin.post(f"/admin/orders/status/{order.id}", {"to_status": "shipped", "courier": "", "waybill": ""})
    assert missing.status_code == 400  # refused (no courier): no order change, no message
    dbs.reread()
    assert dbs.scalars(select(OutboxMessage).where(OutboxMessage.order_id == order.id)).all() == []
    shipped = admin.post(f"/admin/orders/status/{order.id}", {"to_status": "shipped", "courier": "SF Express",
                                                             "waybill": "SF99"})
    assert shipped.status_code == 302
    dbs.reread()
    message = dbs.scalars(select(OutboxMessage).where(OutboxMessage.order_id == order.id)).one()
    assert (message.template, message.channel, message.idempotency_key) == (
        "order_shipped", "sms", f"order-{order.number}-shipped-SF99")
    assert "SF99" in message.body and message.created_by == "admin"
