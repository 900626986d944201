"""Messaging services beside the outbox: SMS parts, templates, opt-outs, inbound SMS, order notifications,
the IVR's old requests, gateway settings, received faxes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.enums import Direction
from crm_core.exceptions import InvalidInput, InvalidTemplate, UnknownCustomer
from crm_core.models import InboundMessage, Interaction, MessageTemplate, OutboxMessage
from crm_core.services.faxes import ReceivedFax, assign_fax, file_inbound_fax, unmatched_faxes
from crm_core.services.gateways import gateway_configs, gateway_view, save_gateway
from crm_core.services.inbound import opt_out_keyword, receive_sms
from crm_core.services.message_requests import adopt_requested_interactions
from crm_core.services.message_templates import check_template, ensure_default_templates, placeholders, save_template
from crm_core.services.notifications import notify_order, notify_status_change
from crm_core.services.orders import change_order_status, place_order
from crm_core.services.outbox import enqueue
from crm_core.services.sms_segments import sms_size
from crm_core.services.support import log_interaction


@pytest.mark.parametrize("text, encoding, units, segments", [
    ("", "gsm7", 0, 1),
    ("a" * 160, "gsm7", 160, 1),
    ("a" * 161, "gsm7", 161, 2),
    ("a" * 306, "gsm7", 306, 2),
    ("a" * 307, "gsm7", 307, 3),
    ("€" * 80, "gsm7", 160, 1),          # extension table: two septets each
    ("€" * 81, "gsm7", 162, 2),
    ("中" * 70, "ucs2", 70, 1),           # Chinese: 70 a part ...
    ("中" * 71, "ucs2", 71, 2),           # ... 67 once concatenated
    ("中" * 134, "ucs2", 134, 2),
    ("中" * 135, "ucs2", 135, 3),
    ("😀" * 35, "ucs2", 70, 1),          # outside the BMP: two UTF-16 units each
    ("Hello 你好", "ucs2", 8, 1),
])
def test_sms_segments_gsm7_and_ucs2(text, encoding, units, segments):
    size = sms_size(text)
    assert (size.encoding, size.units, size.segments) == (encoding, units, segments)


def test_placeholders_only_plain_names():
    assert placeholders("{a} and {b_2} {{literal}}") == ["a", "b_2"]
    for bad in ("{a.b}", "{a[0]}", "{a!r}", "{a:>10}", "{ }", "{", "}"):
        with pytest.raises(InvalidTemplate):
            placeholders(bad)


def test_template_checks_on_save(db_session):
    with pytest.raises(InvalidTemplate, match="unknown merge field {tracking}"):
        save_template(db_session, name="order_shipped", channel="sms", language="zh", body="{tracking}")
    with pytest.raises(InvalidTemplate, match="sent on"):
        save_template(db_session, name="opt_out_confirmation", channel="fax", language="zh", body="x")
    with pytest.raises(InvalidTemplate, match="needs a subject"):
        save_template(db_session, name="own_mail", channel="email", language="zh", body="x")
    with pytest.raises(InvalidTemplate, match="lower-case"):
        save_template(db_session, name="Bad Name", channel="sms", language="zh", body="x")
    row = save_template(db_session, name="own_promo", channel="sms", language="en", body="Hi {first}", fields="first")
    check_template(row)
    assert ensure_default_templates(db_session) > 0 and ensure_default_templates(db_session) == 0
    edited = db_session.scalars(select(MessageTemplate).where(MessageTemplate.name == "order_shipped",
                                                              MessageTemplate.channel == "sms",
                                                              MessageTemplate.language == "zh")).one()
    edited.body = "改过的{order_no}"
    db_session.flush()
    ensure_default_templates(db_session)
    assert edited.body == "改过的{order_no}"  # an admin's edit is never written over


@pytest.mark.parametrize("text, keyword", [("TD", "TD"), (" td ", "TD"), ("退订", "退订"), ("退订。", "退订"),
                                           ("STOP", "STOP"), ("stop!", "STOP"), ("ＴＤ", "TD"),
                                           ("please stop", None), ("TDD", None), ("好的", None)])
def test_opt_out_keywords(text, keyword):
    assert opt_out_keyword(text) == keyword


def test_inbound_reply_attaches_and_stop_opts_out_once_with_one_confirmation(db_session, make_customer):
    ensure_default_templates(db_session)
    customer = make_customer()
    number = customer.phones[0].e164
    sent = enqueue(
        db_session, "sms", number, body="your order shipped", key="in-1")
    sent.status = "delivered"
    db_session.flush()
    reply = receive_sms(db_session, number, "thanks", provider="http", provider_message_id="mo-1")
    assert (reply.message.customer_id, reply.message.outbox_message_id, reply.opted_out) == (customer.id, sent.id,
                                                                                           False)
    stop = receive_sms(db_session, number, "STOP", provider="http", provider_message_id="mo-2")
    again = receive_sms(db_session, number, "STOP", provider="http", provider_message_id="mo-2")
    assert stop.opted_out and again.duplicate and again.message.id == stop.message.id
    assert stop.confirmation.language == "en" and stop.confirmation.status == "queued"
    later = receive_sms(db_session, number, "退订", provider="http", provider_message_id="mo-3")
    assert later.confirmation.status == "queued"  # each keyword gets its own answer, exempt from the opt-out
    timeline = db_session.scalars(select(Interaction).where(Interaction.customer_id == customer.id,
                                                            Interaction.channel == "sms")).all()
    assert [t.direction for t in timeline] == ["inbound"] * 3
    stranger = receive_sms(db_session, "not a number", "hello")
    assert stranger.message.customer_id is None and stranger.message.sender == "not a number"


def test_order_notifications_on_the_preferred_channel_with_fallback_and_idempotency(db_session, make_customer,
                                                                                    make_product):
    ensure_default_templates(db_session)
    product = make_product(name="Knife set")
    customer = make_customer(name="Li Lei")
    customer.language, customer.notify_channel, customer.email = "en", "email", "li@example.com"
    order = place_order(db_session, customer.id, [(product.phone_code, 2)])
    created = notify_order(db_session, order, "created", by="desk")
    assert (created.channel, created.recipient, created.language) == ("email", "li@example.com", "en")
    assert created.subject == f"Order {order.number} confirmed" and "Knife set x2" in created.body
    assert notify_order(db_session, order, "created").id == created.id  # one message per event
    customer.email = None  # no e-mail on file: SMS instead
    change_order_status(db_session, order.number, "shipped", by="t", courier="SF", waybill="W1")
    shipped = notify_status_change(db_session, order)
    assert (shipped.channel, shipped.template) == ("sms", "order_shipped") and "W1" in shipped.body
    change_order_status(db_session, order.number, "delivered", by="t")
    change_order_status(db_session, order.number, "returned", by="t")
    assert notify_status_change(db_session, order).template == "order_return_received"
    assert notify_status_change(db_session, place_order(db_session, customer.id, [(product.phone_code, 1)])) is None


def test_rolled_back_order_leaves_no_notification(engine, factories):
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        ensure_default_templates(session)
        session.commit()
    with Session(engine) as session:
        customer = factories.make_customer(session)
        product = factories.make_product(session)
        order = place_order(session, customer.id, [(product.phone_code, 1)])
        key = notify_order(session, order, "created").idempotency_key
        session.rollback()  # the order fails later in its transaction
    with Session(engine) as session:
        assert session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).first() is None


def test_ivr_requested_interactions_are_queued_once(db_session, make_customer):
    ensure_default_templates(db_session)
    customer = make_customer()
    rows = [log_interaction(db_session, "sms", customer_id=customer.id, direction=Direction.OUTBOUND,
                            address="13800138000", detail={"status": "requested", "kind": "order_details",
                                                            "text": "Order 1: shipped"}),
            log_interaction(db_session, "fax", direction=Direction.OUTBOUND, address="02112345678",
                            detail={"status": "requested", "kind": "fax_catalogue", "text": "catalogue"}),
            log_interaction(db_session, "sms", direction=Direction.OUTBOUND, address="02112345678",
                            detail={"status": "requested", "kind": "order_details", "text": "x"}),
            log_interaction(db_session, "sms", direction=Direction.OUTBOUND, address="13800138000",
                            detail={"status": "sent"})]
    assert adopt_requested_interactions(db_session) == 3
    assert adopt_requested_interactions(db_session) == 0
    by_key = {m.idempotency_key: m for m in db_session.scalars(select(OutboxMessage))}
    sms, fax, landline = (by_key[f"ivr-request-{r.id}"] for r in rows[:3])
    assert (sms.status, sms.body, sms.customer_id) == ("queued", "Order 1: shipped", customer.id)
    assert (fax.status, fax.template, fax.recipient) == ("queued", "fax_catalogue", "+862112345678")
    assert landline.status == "failed" and "cannot receive SMS" in landline.last_error
    assert rows[0].detail["status"] == "queued" and rows[0].detail["outbox_id"] == sms.id
    assert rows[2].detail["status"] == "refused" and rows[3].detail == {"status": "sent"}


def test_gateway_settings_secret_kept_unless_replaced(db_session):
    save_gateway(db_session, "sms", "http", {"url": "https://x", "api_key": "k"}, secret="s1", by="a")
    row = save_gateway(db_session, "sms", "http", {"url": "https://y", "api_key": "k"}, by="b")
    assert row.secret == "s1" and gateway_configs(db_session)["sms"].secret == "s1"
    assert "secret" not in gateway_view(row) and gateway_view(row)["secret_set"] is True
    assert save_gateway(db_session, "sms", "http", {"url": "https://y", "api_key": "k"}, secret="").secret is None
    with pytest.raises(InvalidInput, match="cannot send fax"):
        save_gateway(db_session, "fax", "smpp", {})
    with pytest.raises(InvalidInput, match="unknown smtp option"):
        save_gateway(db_session, "email", "smtp", {"pasword": "x"})


def test_received_faxes_filed_once_matched_or_unmatched_then_assigned(db_session, make_customer):
    customer = make_customer()
    mine = file_inbound_fax(db_session, ReceivedFax("uuid-1", True, sender=customer.phones[0].e164.lstrip("+"),
                                                    pages=2, result_text="OK"))
    assert file_inbound_fax(db_session, ReceivedFax("uuid-1", False)).id == mine.id
    other = file_inbound_fax(db_session, ReceivedFax("uuid-2", False, sender="anonymous", result_code=49,
                                                     result_text="The call dropped prematurely",
                                                     error="reception failed: The call dropped prematurely"))
    assert (mine.customer_id, mine.status) == (customer.id, "received")
    assert (other.customer_id, other.status, other.sender_e164) == (None, "failed", None)
    assert other in unmatched_faxes(db_session) and mine not in unmatched_faxes(db_session)
    assign_fax(db_session, other.id, customer.id, by="sup")
    assert other.customer_id == customer.id and other not in unmatched_faxes(db_session)
    with pytest.raises(UnknownCustomer):
        assign_fax(db_session, other.id, 10**9, by="sup")
    logged = db_session.scalars(select(Interaction).where(Interaction.customer_id == customer.id,
                                                          Interaction.channel == "fax")).all()
    assert [d.detail["fax_id"] for d in logged] == [mine.id, other.id]
    assert db_session.scalars(select(InboundMessage)).all() == []


def test_campaign_blast_queues_one_message_per_contact_once(db_session, make_customer):
    from crm_core.models import Campaign, CampaignContact
    from crm_core.services.campaign_messages import queue_campaign_messages

    save_template(db_session, name="promo_1111", channel="sms", language="zh", body="{customer_name}，{offer}",
                  fields="customer_name offer")
    known = make_customer(name="王芳")
    campaign = Campaign(name=f"blast-{known.id}")
    db_session.add(campaign)
    db_session.flush()
    contacts = [CampaignContact(campaign_id=campaign.id, customer_id=known.id, number=known.phones[0].e164,
                                data={"offer": "五折"}),
                CampaignContact(campaign_id=campaign.id, number="13800000001", data={"offer": "八折",
                                                                                    "customer_name": "李先生"}),
                CampaignContact(campaign_id=campaign.id, number="02161234567", data={"offer": "x",
                                                                                    "customer_name": "y"}),
                CampaignContact(campaign_id=campaign.id, number="13800000002", data={}),
                CampaignContact(campaign_id=campaign.id, number="13800000003", status="skipped", data={})]
    db_session.add_all(contacts)
    db_session.flush()
    result = queue_campaign_messages(db_session, campaign.id, "sms", template="promo_1111", by="cm")
    assert result.created == 2 and [i for i, _ in result.refused] == [2, 3]  # landline; no merge data
    assert "not a mobile number" in result.refused[0][1] and "customer_name" in result.refused[1][1]
    assert queue_campaign_messages(db_session, campaign.id, "sms", template="promo_1111").created == 0
    bodies = sorted(m.body for m in db_session.scalars(select(OutboxMessage).where(
        OutboxMessage.campaign_id == campaign.id)))
    assert bodies == ["李先生，八折", "王芳，五折"]
