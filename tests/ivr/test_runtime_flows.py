"""Self-service flows through the simulator with a real database: order status, phone order, complaint, callback."""

from __future__ import annotations

import pytest_twisted
from sqlalchemy import func, select

import factories
from crm_core.db import transaction
from crm_core.models import Address, CallbackRequest, Complaint, Order, Voicemail
from crm_core.services.orders import place_order

from transcripts import prompts_heard
from test_runtime_menu import demo_menu, interactions

ANI = "13800138000"
START = "wait_prompt 2; wait 0.05; press 2; wait_prompt 1; wait 0.05; "  # greeting, language -> English


def seed(rig, *, stock=10):
    with transaction(rig.factory) as s:
        customer = factories.make_customer(s, name="Li Lei", phones=[ANI])
        s.add(Address(customer_id=customer.id, recipient="Li Lei", city="Shanghai", line1="1 Nanjing Road",
                      is_default=True))
        product = factories.make_product(s, phone_code="1234", name="Knife set", price="199.00", stock=stock)
        order = place_order(s, customer.id, [("1234", 1)]) if stock else None
        return customer.id, product.id, order.number if order else None


@pytest_twisted.ensureDeferred
async def test_runtime_order_status_by_keyed_number(rig):
    rig.publish(demo_menu())
    _, _, number = seed(rig)
    call = await rig.call(START + f"press 1; wait_prompt 1; wait 0.05; press 1; wait_prompt 1; wait 0.05; "
                          f"press {number}#; wait_prompt 2; wait 0.05; press *; wait_prompt 1; hangup")
    heard = prompts_heard(call)
    assert heard[0] == "greeting_named_name-Li-Lei"
    i = heard.index("order_enter_number")
    assert heard[i + 1].startswith("order_status_ordered_date-") and f"order_no-{number}" in heard[i + 1]
    assert heard[i + 2:i + 4] == ["order_sms_offer", "order_status_menu"]
    assert heard[i + 4] == "main_menu"
    assert "order_status" in [d["event"] for _, d in interactions(rig, call.uuid)]


@pytest_twisted.ensureDeferred
async def test_runtime_phone_order_places_a_real_order_with_the_dnis_as_media_source(rig):
    rig.publish(demo_menu())
    customer_id, _, _ = seed(rig)
    script = (START + "press 4; wait_prompt 1; wait 0.05; press 1234#; wait_prompt 1; wait 0.05; press 2#; "
              "wait_prompt 1; wait 0.05; press 2; wait_prompt 1; wait 0.05; press 1; wait_prompt 1; wait 0.05; press 3; "
              "wait_prompt 1; wait 0.05; press 1; wait_prompt 2; wait 0.05; press 1; wait_prompt 1; hangup")
    call = await rig.call(script)
    heard = prompts_heard(call)
    expected = ["ordering_enter_code", "ordering_enter_quantity", "ordering_more", "ordering_address_confirm",
                "ordering_payment_method", "ordering_delivery_method", "ordering_readback",
                "ordering_readback_total", "ordering_confirm"]
    got = heard[heard.index("ordering_enter_code"):][:9]
    assert all(h.startswith(e) for h, e in zip(got, expected, strict=True)), got
    placed = [h for h in heard if h.startswith("ordering_placed")]
    with transaction(rig.factory) as s:
        order = s.scalars(select(Order).where(Order.call_uuid == call.uuid)).one()
        assert (order.customer_id, order.media_source, order.payment_method, order.delivery_method) == (
            customer_id, "4008001234", "alipay", "courier")
        assert [(i.quantity, i.product.phone_code) for i in order.items] == [(2, "1234")]
        assert placed == [f"ordering_placed_order_no-{order.number}"]


@pytest_twisted.ensureDeferred
async def test_runtime_hangup_mid_order_writes_no_order(rig):
    rig.publish(demo_menu())
    seed(rig)
    with transaction(rig.factory) as s:
        before = s.scalar(select(func.count()).select_from(Order))
    call = await rig.call(START + "press 4; wait_prompt 1; wait 0.05; press 1234#; wait_prompt 1; wait 0.05; "
                          "press 2#; wait_prompt 1; hangup")
    with transaction(rig.factory) as s:
        assert s.scalar(select(func.count()).select_from(Order)) == before
    events = [d["event"] for _, d in interactions(rig, call.uuid)]
    assert events[-1] == "hangup" and "order_line" in events


@pytest_twisted.ensureDeferred
async def test_runtime_complaint_voicemail_saves_recording_complaint_and_ticket(rig, tmp_path):
    rig.publish(demo_menu())
    customer_id, _, _ = seed(rig)
    speech = tmp_path / "sounds" / "speech.wav"
    speech.parent.mkdir(parents=True, exist_ok=True)
    import math
    import struct
    import wave
    with wave.open(str(speech), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 3))) for i in range(8000 * 2)))
    script = (START + "press 5; wait_prompt 1; wait 0.05; press 2; wait_prompt 2; wait 0.1; "
              f"speak {speech}; wait 0.3; press #; wait_prompt 1; wait 0.05; press 3; wait_prompt 1; hangup")
    call = await rig.call(script)
    heard = prompts_heard(call)
    assert "complaint_record" in heard
    tickets = [h for h in heard if h.startswith("complaint_ticket")]
    assert len(tickets) == 1
    with transaction(rig.factory) as s:
        complaint = s.scalars(select(Complaint)).one()
        voicemail = s.get(Voicemail, complaint.voicemail_id)
        assert (complaint.category, complaint.customer_id) == ("logistics", customer_id)
        assert voicemail.call_uuid == call.uuid and voicemail.duration_seconds >= 1.5
        from pathlib import Path
        assert Path(voicemail.audio_path).exists()
        assert tickets[0].endswith(f"{complaint.id:06d}")


@pytest_twisted.ensureDeferred
async def test_runtime_callback_request_with_keyed_number_and_window(rig):
    rig.publish(demo_menu())
    seed(rig)
    call = await rig.call(START + "press 6; wait_prompt 1; wait 0.05; press 1; wait_prompt 1; wait 0.05; press 2; "
                          "wait_prompt 1; wait 0.05; press 13912345678#; wait_prompt 1; wait 0.05; press 1; "
                          "wait_prompt 1; wait 0.05; press 3; wait_prompt 1; wait 1; hangup")
    heard = prompts_heard(call)
    assert any(h.startswith("callback_request_done") for h in heard)
    with transaction(rig.factory) as s:
        request = s.scalars(select(CallbackRequest)).one()
        assert request.number == "+8613912345678" and request.call_uuid == call.uuid
        assert request.window_end > request.window_start


@pytest_twisted.ensureDeferred
async def test_runtime_database_failing_mid_order_apologises_and_hands_to_an_agent(rig):
    from twisted.internet import defer
    from sqlalchemy.exc import OperationalError

    rig.publish(demo_menu())
    seed(rig)
    rig.gateway.place_order = lambda *a, **kw: defer.fail(OperationalError("INSERT", {}, Exception("db down")))
    script = (START + "press 4; wait_prompt 1; wait 0.05; press 1234#; wait_prompt 1; wait 0.05; press 1#; "
              "wait_prompt 1; wait 0.05; press 2; wait_prompt 1; wait 0.05; press 1; wait_prompt 1; wait 0.05; press 1; "
              "wait_prompt 1; wait 0.05; press 1; wait_prompt 2; wait 0.05; press 1; wait 2; hangup")
    call = await rig.call(script)
    heard = prompts_heard(call)
    assert heard[heard.index("ordering_confirm") + 1] == "system_error"
    assert rig.handoff.requests[-1].reason == "system_error"
    assert any(e["event"] == "app" and e["app"] == "transfer" for e in call.transcript)
    with transaction(rig.factory) as s:
        assert s.scalars(select(Order).where(Order.call_uuid == call.uuid)).first() is None


def _sms_rows(rig):
    from crm_core.models import OutboxMessage

    with transaction(rig.factory) as s:
        return s.scalars(select(OutboxMessage).where(OutboxMessage.template == "order_details")).all()


@pytest_twisted.ensureDeferred
async def test_runtime_order_status_key_9_queues_one_sms_even_when_pressed_twice(rig):
    rig.publish(demo_menu())
    customer_id, _, number = seed(rig)
    call = await rig.call(START + "press 1; wait_prompt 1; wait 0.05; press 2; wait_prompt 3; wait 0.05; press 9; "
                          "wait_prompt 2; wait 0.05; press 1; wait_prompt 2; wait 0.05; press 9; wait_prompt 2; "
                          "hangup")
    heard = prompts_heard(call)
    assert heard.count("order_sms_sent") == 2
    [sms] = _sms_rows(rig)
    assert (sms.recipient, sms.call_uuid, sms.customer_id, sms.status) == ("+8613800138000", call.uuid, customer_id,
                                                                          "queued")
    assert sms.body == f"Order {number}: ordered  " and sms.language == "en"
    assert sms.idempotency_key == f"ivr-{call.uuid}-order-{number}"


@pytest_twisted.ensureDeferred
async def test_runtime_order_status_key_9_from_a_landline_says_it_cannot_text(rig):
    rig.publish(demo_menu())
    with transaction(rig.factory) as s:
        customer = factories.make_customer(s, phones=["02161234567"])
        product = factories.make_product(s)
        place_order(s, customer.id, [(product.phone_code, 1)])
    call = await rig.call(START + "press 1; wait_prompt 1; wait 0.05; press 2; wait_prompt 3; wait 0.05; press 9; "
                          "wait_prompt 2; hangup", ani="02161234567")
    assert "order_sms_unavailable" in prompts_heard(call) and "order_sms_sent" not in prompts_heard(call)
    assert _sms_rows(rig) == []
