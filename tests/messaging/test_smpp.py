"""The SMPP adapter (smpplib on its thread) against an SMSC the test runs on loopback."""

from __future__ import annotations

import pytest
import pytest_twisted
from sqlalchemy import select
from twisted.internet import reactor

from crm_core.models import InboundMessage, MessageOptOut
from crm_core.services.outbox import enqueue
from crm_core.services.sms_segments import sms_size
from messaging.channels.smpp import parse_receipt_text, split_text, with_udh
from messaging.dispatcher import Dispatcher, DispatchPolicy
from messaging.channels.smpp import SmppAdapter

from messaging_rig import wait_for
from smsc import Smsc

LONG_ZH = "您好，" + "您的订单已经发货，请注意查收。" * 10  # 153 characters: 3 parts of at most 67
LONG_GSM = "Order 1234567890 shipped with SF Express {waybill SF123}. " * 4  # extension chars cost two septets


def test_split_agrees_with_the_segment_counter():
    for text in (LONG_ZH, LONG_GSM, "short", "你好", "€" * 80, "😀" * 40):
        coding, parts = split_text(text)
        size = sms_size(text)
        assert len(parts) == size.segments, text
        assert coding == (0 if size.encoding == "gsm7" else 8)
        if coding == 8:
            assert b"".join(parts).decode("utf-16-be") == text  # no surrogate pair split
        else:
            assert all(not p.endswith(b"\x1b") for p in parts)  # no escape pair split
    parts = with_udh([b"a", b"b", b"c"], 0x42)
    assert parts[1][:6] == bytes([5, 0, 3, 0x42, 3, 2])
    assert with_udh([b"x"], 1) == [b"x"]


def test_receipt_text_fields():
    fields = parse_receipt_text("id:abc123 sub:001 dlvrd:001 submit date:2612011000 done date:2612011001 "
                                "stat:UNDELIV err:021 text:hello")
    assert (fields["id"], fields["stat"], fields["err"]) == ("abc123", "UNDELIV", "021")


@pytest.fixture
def smsc():
    center = Smsc()
    port = center.listen()
    yield center, port.getHost().port
    pytest_twisted.blockon(port.stopListening())


async def _dispatcher(db, port, password="secret", **options):
    adapter = SmppAdapter(reactor, "127.0.0.1", port, "hotline", password, source_addr="10690000", timeout=2,
                          reconnect_max=0.5, **options)
    dispatcher = Dispatcher(db.gateway, clock=reactor, policy=DispatchPolicy(poll_interval=0.05, retry_base=0.2,
                                                                             retry_max=0.4))
    dispatcher.on_inbound = lambda sms: _file(db, sms)
    dispatcher.add_lane("sms", adapter, rate=100)
    await dispatcher.start()
    return dispatcher, adapter


def _file(db, sms):
    from crm_core.services.inbound import receive_sms

    return db.gateway.run(lambda s: receive_sms(s, sms.sender, sms.body, provider=sms.provider).message.id)


@pytest_twisted.ensureDeferred
async def test_submit_long_chinese_text_in_ucs2_parts_with_receipt(sqlite_outbox_db, smsc):
    center, port = smsc
    db = sqlite_outbox_db
    dispatcher, adapter = await _dispatcher(db, port)
    try:
        msg = db.do(lambda s: enqueue(s, "sms", "13800138000", body=LONG_ZH, key="smpp-1"))
        assert msg.segments == 3
        dispatcher.wake("sms")
        await wait_for(lambda: db.message(msg.id).status == "delivered", what="delivered by receipt")
        assert center.binds == [("hotline", "secret", 0)]
        parts = center.submits
        assert [(p.destination, p.data_coding, p.esm_class, p.registered_delivery) for p in parts] == \
            [("8613800138000", 8, 0x40, 1)] * 3
        assert [p.udh[-2:] for p in parts] == [bytes([3, 1]), bytes([3, 2]), bytes([3, 3])]
        assert "".join(p.text() for p in parts) == LONG_ZH
        row = db.message(msg.id)
        assert (row.provider, row.provider_message_id) == ("smpp", "smsc-1")
        assert row.result["parts"] == 3 and row.result["receipt"] == "delivered"
        # a receipt per part, each acknowledged (deliver_sm_resp OK); the message counts delivered after the last
        await wait_for(lambda: center.deliver_acks == [0, 0, 0], what="three receipts acknowledged")
    finally:
        await dispatcher.stop()


@pytest_twisted.ensureDeferred
async def test_gsm7_text_refused_destination_and_inbound_stop(sqlite_outbox_db, smsc):
    center, port = smsc
    db = sqlite_outbox_db
    center.reject["8613800138009"] = 0x0B  # invalid destination address: permanent
    dispatcher, adapter = await _dispatcher(db, port)
    try:
        ok = db.do(lambda s: enqueue(s, "sms", "13800138001", body="Order 42 shipped {SF1}", key="smpp-2").id)
        bad = db.do(lambda s: enqueue(s, "sms", "13800138009", body="x", key="smpp-3").id)
        dispatcher.wake("sms")
        await wait_for(lambda: db.message(ok).status == "delivered" and db.message(bad).status == "failed",
                       what="outcomes")
        gsm = [p for p in center.submits if p.destination == "8613800138001"][0]
        assert (gsm.data_coding, gsm.esm_class, gsm.payload) == (0, 0, b"Order 42 shipped \x1b(SF1\x1b)")
        assert "0x0000000B" in db.message(bad).last_error and db.message(bad).attempts == 1
        await wait_for(lambda: adapter.bound.is_set(), what="bound")
        center.send_mo("8613800138001", "STOP")
        await wait_for(lambda: db.do(lambda s: s.get(MessageOptOut, ("sms", "+8613800138001"))), what="opt-out")
        inbound = db.do(lambda s: s.scalars(select(InboundMessage)).one())
        assert (inbound.kind, inbound.sender, inbound.body) == ("opt_out", "+8613800138001", "STOP")
    finally:
        await dispatcher.stop()


@pytest_twisted.ensureDeferred
async def test_unreachable_smsc_retries_then_fails_and_rebinds_after_a_drop(sqlite_outbox_db, smsc):
    center, port = smsc
    db = sqlite_outbox_db
    dispatcher, adapter = await _dispatcher(db, 9)  # nothing listens on the discard port
    try:
        msg = db.do(lambda s: enqueue(s, "sms", "13800138002", body="x", key="smpp-down", max_attempts=2).id)
        dispatcher.wake("sms")
        await wait_for(lambda: db.message(msg).status == "failed", timeout=15, what="failed")
        assert "SMSC unreachable" in db.message(msg).last_error
    finally:
        await dispatcher.stop()
    dispatcher, adapter = await _dispatcher(db, port)
    try:
        await wait_for(lambda: adapter.bound.is_set(), what="bound")
        center.drop_all()
        await wait_for(lambda: len(center.binds) == 2, timeout=10, what="rebind after the drop")
        msg = db.do(lambda s: enqueue(s, "sms", "13800138003", body="after", key="smpp-after").id)
        dispatcher.wake("sms")
        await wait_for(lambda: db.message(msg).status == "delivered", what="delivered after rebind")
    finally:
        await dispatcher.stop()


@pytest_twisted.ensureDeferred
async def test_wrong_password_is_a_clear_transient_error(sqlite_outbox_db, smsc):
    center, port = smsc
    db = sqlite_outbox_db
    dispatcher, adapter = await _dispatcher(db, port, password="nope")
    try:
        msg = db.do(lambda s: enqueue(s, "sms", "13800138004", body="x", key="smpp-pw", max_attempts=1).id)
        dispatcher.wake("sms")
        await wait_for(lambda: db.message(msg).status == "failed", timeout=10, what="failed")
        assert center.binds[0][2] == 0x0E
        assert "SMSC unreachable" in db.message(msg).last_error
    finally:
        await dispatcher.stop()
