"""The HTTP SMS adapter against a provider the test runs on loopback: signed sends, receipts, inbound, errors."""

from __future__ import annotations

import pytest
import pytest_twisted
from sqlalchemy import select
from twisted.internet import reactor
from twisted.web import server
from twisted.web.resource import Resource

from crm_core.models import InboundMessage, MessageOptOut
from crm_core.services.outbox import enqueue
from hotline.settings import load_settings
from messaging.service import MessagingService

import factories
from messaging_rig import wait_for
from sms_provider import API_KEY, SECRET, Provider, post_signed, serve


def _settings(url: str, callback: str, **extra: str):
    env = {"HOTLINE_SMS_GATEWAY": "http", "HOTLINE_SMS_HTTP_URL": url, "HOTLINE_SMS_HTTP_API_KEY": API_KEY,
           "HOTLINE_SMS_HTTP_SECRET": SECRET, "HOTLINE_SMS_HTTP_SENDER_ID": "HOTLINE",
           "HOTLINE_SMS_HTTP_CALLBACK_URL": callback, "HOTLINE_SMS_HTTP_TIMEOUT": "2",
           "HOTLINE_SMS_RATE_PER_SECOND": "100", "HOTLINE_MESSAGING_POLL_INTERVAL": "0.05",
           "HOTLINE_MESSAGING_RETRY_BASE": "0.1", "HOTLINE_MESSAGING_RETRY_MAX": "0.2",
           "HOTLINE_MESSAGING_SWEEP_INTERVAL": "60", **extra}
    return load_settings(None, env=env)


@pytest.fixture
def rig(sqlite_outbox_db, tmp_path):
    """Provider + engine web root; ``start(**settings)`` builds and starts the messaging service."""
    provider = Provider()
    provider_port, url = serve(provider)
    root = Resource()
    engine_port = reactor.listenTCP(0, server.Site(root), interface="127.0.0.1")
    base = f"http://127.0.0.1:{engine_port.getHost().port}"
    services = []

    class Rig:
        db, prov, api, engine_url = sqlite_outbox_db, provider, url, base

        async def start(self, api_url=None, **extra):
            settings = _settings(api_url or url, f"{base}/messaging/sms/receipts",
                                 HOTLINE_FAX_STORE_DIR=str(tmp_path / "fax"), **extra)
            service = MessagingService(settings, self.db.gateway, reactor)
            root.putChild(b"messaging", service.resource)
            await service.start()
            services.append(service)
            return service

    yield Rig()
    for service in services:
        pytest_twisted.blockon(service.stop())
    pytest_twisted.blockon(provider_port.stopListening())
    pytest_twisted.blockon(engine_port.stopListening())


@pytest_twisted.ensureDeferred
async def test_signed_send_id_back_then_delivery_receipt_by_callback(rig):
    service = await rig.start()
    msg = rig.db.do(lambda s: enqueue(s, "sms", "13800138000", body="您的订单已发货", key="http-1").id)
    service.wake("sms")
    await wait_for(lambda: rig.db.message(msg).status == "sent", what="sent")
    row = rig.db.message(msg)
    assert (row.provider, row.provider_message_id) == ("http", "prov-1")
    sent = rig.prov.requests[0]
    assert sent == {"key": "http-1", "to": "+8613800138000", "text": "您的订单已发货", "client_ref": "http-1",
                    "from": "HOTLINE", "callback_url": f"{rig.engine_url}/messaging/sms/receipts"}
    assert rig.prov.bad_signatures == 0
    code, answer = await post_signed(sent["callback_url"], {"message_id": "prov-1", "status": "delivered"})
    assert (code, answer) == (200, {"ok": True, "matched": True})
    row = rig.db.message(msg)
    assert row.status == "delivered" and row.delivered_at is not None


@pytest_twisted.ensureDeferred
async def test_receipt_callbacks_with_a_bad_signature_old_timestamp_or_replay_are_refused(rig):
    await rig.start()
    url = f"{rig.engine_url}/messaging/sms/receipts"
    assert (await post_signed(url, {"message_id": "x", "status": "delivered"}, secret="wrong"))[0] == 401
    assert (await post_signed(url, {"message_id": "x", "status": "delivered"}, timestamp=1))[0] == 401
    assert (await post_signed(url, {"message_id": "x", "status": "delivered"}, nonce="once"))[0] == 200
    assert (await post_signed(url, {"message_id": "x", "status": "delivered"}, nonce="once"))[0] == 401
    assert (await post_signed(url, {"message_id": "x", "status": "weird"}, nonce="n2"))[0] == 400


@pytest_twisted.ensureDeferred
async def test_receipt_by_polling_when_no_callback_comes(rig):
    service = await rig.start(HOTLINE_SMS_RECEIPT_POLL_AFTER="0", HOTLINE_MESSAGING_SWEEP_INTERVAL="0.2")
    msg = rig.db.do(lambda s: enqueue(s, "sms", "13800138001", body="poll me", key="http-poll").id)
    service.wake("sms")
    await wait_for(lambda: rig.db.message(msg).status == "sent", what="sent")
    rig.prov.by_id[rig.db.message(msg).provider_message_id]["status"] = "undelivered"
    await wait_for(lambda: rig.db.message(msg).status == "failed", what="polled receipt")
    assert rig.db.message(msg).result["polled"] is True


@pytest_twisted.ensureDeferred
async def test_unreachable_gateway_retries_then_fails_with_the_reason(rig):
    service = await rig.start(api_url="http://127.0.0.1:9/api")  # discard port: nothing listens
    msg = rig.db.do(lambda s: enqueue(s, "sms", "13800138002", body="x", key="http-down", max_attempts=3).id)
    service.wake("sms")
    await wait_for(lambda: rig.db.message(msg).status == "failed", timeout=15, what="failed after retries")
    row = rig.db.message(msg)
    assert row.attempts == 3 and row.last_error.startswith("attempt 3/3: gateway unreachable")
    assert service.dispatcher.counts["retry"] == 3


@pytest_twisted.ensureDeferred
async def test_provider_errors_permanent_and_transient(rig):
    rig.prov.fail_with = (400, {"error": "content rejected by carrier"}, {})
    service = await rig.start()
    bad = rig.db.do(lambda s: enqueue(s, "sms", "13800138003", body="x", key="http-400").id)
    service.wake("sms")
    await wait_for(lambda: rig.db.message(bad).status == "failed", what="refused")
    assert rig.db.message(bad).attempts == 1
    assert "refused the message (400): content rejected by carrier" in rig.db.message(bad).last_error
    rig.prov.fail_with = (503, {"error": "busy"}, {"Retry-After": "0.1"})
    busy = rig.db.do(lambda s: enqueue(s, "sms", "13800138004", body="y", key="http-503").id)
    service.wake("sms")
    await wait_for(lambda: rig.db.message(busy).attempts >= 1 and rig.db.message(busy).status == "queued",
                   what="retry scheduled")
    assert "gateway busy (503): busy" in rig.db.message(busy).last_error
    rig.prov.fail_with = None
    await wait_for(lambda: rig.db.message(busy).status == "sent", what="sent on retry")


@pytest_twisted.ensureDeferred
async def test_inbound_reply_attaches_to_customer_and_td_opts_out_with_confirmation(rig):
    service = await rig.start()
    customer_id = rig.db.do(lambda s: factories.make_customer(s, phones=["13900139000"]).id)
    url = f"{rig.engine_url}/messaging/sms/inbound"
    code, _ = await post_signed(url, {"from": "+8613900139000", "to": "10690000", "text": "收到，谢谢",
                                      "message_id": "mo-1"}, nonce="a")
    assert code == 200
    code, answer = await post_signed(url, {"from": "+8613900139000", "text": " td ", "message_id": "mo-2"},
                                     nonce="b")
    assert (code, answer["filed"]) == (200, True)
    # the provider retries a callback: filed once
    assert (await post_signed(url, {"from": "+8613900139000", "text": " td ", "message_id": "mo-2"},
                              nonce="c"))[0] == 200
    rows = rig.db.do(lambda s: list(s.scalars(select(InboundMessage).order_by(InboundMessage.id))))
    assert [(r.kind, r.customer_id, r.body) for r in rows] == [("reply", customer_id, "收到，谢谢"),
                                                               ("opt_out", customer_id, " td ")]
    assert rig.db.do(lambda s: s.get(MessageOptOut, ("sms", "+8613900139000"))) is not None
    await wait_for(lambda: any(r["to"] == "+8613900139000" for r in rig.prov.requests), what="confirmation sent")
    confirmation = [r for r in rig.prov.requests if r["to"] == "+8613900139000"]
    assert len(confirmation) == 1 and "退订" in confirmation[0]["text"]
    promo = rig.db.do(lambda s: enqueue(s, "sms", "13900139000", body="sale!", key="promo").status)
    assert promo == "cancelled"  # opted out: nothing more goes to this number
    service.wake("sms")
