"""More self-service flows through the simulator on a migrated SQLite file: what the caller heard + what the DB holds.

Points, product lookup into ordering, promotions and announcements, the
voicemail node, blacklist policies, the VIP greeting, after-hours routing on an
injected clock, DNIS entry points, and subscription / poll / fax requests.
Prompt words come from the catalogue (``texts_heard``), so wording and values
are checked as a caller would hear them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import struct
import wave
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest_twisted
from sqlalchemy import select

import factories
from crm_core.db import transaction
from crm_core.enums import MemberLevel
from crm_core.models import Address, CallbackRequest, Complaint, Customer, CustomerTag, Interaction, Order, \
    OutboxMessage, Voicemail
from crm_core.services.customers import mark_blacklist
from crm_core.services.points import earn_points, redeem_points
from ivr.menu import load_yaml
from ivr.menu.model import BlacklistPolicy, Option, VoicemailNode

from transcripts import prompts_heard, texts_heard
from test_runtime_menu import DEMO, demo_menu, interactions

ANI = "13800138000"
STEP = "wait 0.05; "
EN = "wait_prompt 2; wait 0.05; press 2; wait_prompt 1; wait 0.05; "  # greeting, language -> English, main menu
ZH = "wait_prompt 2; wait 0.05; press 1; wait_prompt 1; wait 0.05; "  # greeting, language -> Mandarin, main menu
SHANGHAI = ZoneInfo("Asia/Shanghai")
ORDERING_ENTER_CODE_ZH = "请输入您要订购的商品编号，以井号键结束。"


def seed(rig, *, name="Li Lei", level=None, marks=0, points=(), stock=10, description=None):
    """A known caller with an address, and product 1234 ("Knife set")."""
    with transaction(rig.factory) as s:
        customer = factories.make_customer(s, name=name, phones=[ANI])
        if level:
            customer.member_level = level
        s.add(Address(customer_id=customer.id, recipient=name, city="Shanghai", line1="1 Nanjing Road",
                      is_default=True))
        for delta in points:
            (earn_points if delta > 0 else redeem_points)(s, customer.id, abs(delta), reason="test")
        for _ in range(marks):
            mark_blacklist(s, customer.id, marked_by="agent", reason="abusive")
        product = factories.make_product(s, phone_code="1234", name="Knife set", price="199.00", stock=stock,
                                         description=description)
        return customer.id, product


def detail_events(rig, call_uuid):
    """The IVR's own step records of a call (outbound SMS/fax requests carry no ``event``)."""
    return [d for _, d in interactions(rig, call_uuid) if d and "event" in d]


class FixedClock:
    """An IReactorTime-ish clock for ``session.now()`` (calls still run on the real reactor)."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def seconds(self) -> float:
        return self.at.timestamp()


@pytest_twisted.ensureDeferred
async def test_runtime_points_balance_and_recent_changes(rig):
    rig.publish(demo_menu())
    customer_id, _ = seed(rig, points=(500, -200))
    call = await rig.call(EN + "press 2; wait_prompt 2; hangup")
    heard, texts = prompts_heard(call), texts_heard(call)
    i = heard.index("points_balance_points-300")
    assert heard[i + 1] == "points_recent_intro" and heard[-1] == "main_menu"
    assert texts[i] == "Your current points balance is three hundred points."
    changes = texts[i + 2:i + 4]
    assert len(changes) == 2 and all(t.startswith("On ") for t in changes)
    assert {("earned five hundred" in t, "used two hundred" in t) for t in changes} == {(True, False), (False, True)}
    logged = [d for d in detail_events(rig, call.uuid) if d["event"] == "points"]
    assert logged == [{"event": "points", "lang": "en", "balance": 300}]
    assert rig.app.stats.actions["points_balance"] == 1


@pytest_twisted.ensureDeferred
async def test_runtime_points_for_an_unknown_caller_says_not_a_member(rig):
    rig.publish(demo_menu())
    call = await rig.call(ZH + "press 2; wait_prompt 2; hangup", ani="13911112222")
    heard = prompts_heard(call)
    assert heard[heard.index("main_menu") + 1:] == ["not_a_member", "main_menu"]
    assert texts_heard(call)[heard.index("not_a_member")].startswith("对不起，您的来电号码尚未注册会员")


@pytest_twisted.ensureDeferred
async def test_runtime_product_lookup_then_press_1_orders_it_by_phone(rig):
    rig.publish(demo_menu())
    customer_id, _ = seed(rig, description="Seven stainless steel knives with a wooden block.")
    script = (EN + "press 3; wait_prompt 1; " + STEP + "press 1; wait_prompt 1; " + STEP + "press 1234#; "
              "wait_prompt 2; " + STEP + "press 1; wait_prompt 1; " + STEP + "press 2#; wait_prompt 1; " + STEP +
              "press 2; wait_prompt 1; " + STEP + "press 1; wait_prompt 1; " + STEP + "press 2; wait_prompt 1; " +
              STEP + "press 2; wait_prompt 2; " + STEP + "press 1; wait_prompt 2; hangup")
    call = await rig.call(script)
    heard, texts = prompts_heard(call), texts_heard(call)
    i = heard.index("product_enter_code")
    assert heard[i + 1].startswith("product_info_name-Knife-set_price-199")
    assert heard[i + 2:i + 5] == ["product_description_words-Seven-stainless-steel-knives-with-a-wooden-block.",
                                  "product_in_stock", "product_press_to_order"]
    assert texts[i + 1].startswith("The product you asked about is Knife set, priced at ")
    assert texts[i + 2] == "Seven stainless steel knives with a wooden block."
    assert heard[i + 5] == "ordering_enter_quantity"  # straight into ordering with the product chosen
    with transaction(rig.factory) as s:
        order = s.scalars(select(Order).where(Order.call_uuid == call.uuid)).one()
        assert (order.customer_id, order.payment_method, order.delivery_method, order.media_source) == (
            customer_id, "wechat", "express", "4008001234")
        assert [(item.product.phone_code, item.quantity) for item in order.items] == [("1234", 2)]
    assert heard[-2] == f"ordering_placed_order_no-{order.number}"
    assert texts[-2].startswith("Your order is placed! Your order number is ")
    assert heard[-1].startswith("text-")  # back in the products menu (inline text)
    assert rig.app.stats.products["1234"] == 1
    events = detail_events(rig, call.uuid)
    assert {"event": "product", "lang": "en", "code": "1234"} in events
    assert [d["quantity"] for d in events if d["event"] == "order_line"] == [2]


@pytest_twisted.ensureDeferred
async def test_runtime_promotions_running_now_then_the_news_announcement(rig):
    rig.publish(demo_menu())
    now = dt.datetime.now(dt.timezone.utc)
    _, product = seed(rig)
    with transaction(rig.factory) as s:
        product = s.merge(product)
        factories.make_promotion(s, [product], percent="20", starts_at=now - dt.timedelta(days=1),
                                 ends_at=now + dt.timedelta(days=6), announcement="Knife set: 20 percent off this week.")
        factories.make_promotion(s, [product], percent="50", starts_at=now - dt.timedelta(days=9),
                                 ends_at=now - dt.timedelta(days=2), announcement="Old half-price sale.")
    call = await rig.call(EN + "press 3; wait_prompt 1; " + STEP + "press 2; wait_prompt 2; " + STEP +
                          "press 3; wait_prompt 2; hangup")
    heard, texts = prompts_heard(call), texts_heard(call)
    i = heard.index("promotions_intro")
    assert texts[i:i + 2] == ["Here are this week's special offers:", "Knife set: 20 percent off this week."]
    assert "Old half-price sale." not in texts
    assert texts[i + 3].startswith("We have served shoppers since 2008")  # the news announcement (inline text)
    assert heard[i + 2] == heard[i + 4]  # back to the products menu after each
    events = detail_events(rig, call.uuid)
    assert [d["count"] for d in events if d["event"] == "promotions"] == [1]
    assert [d["node"] for d in events if d["event"] == "announcement"] == ["news"]


@pytest_twisted.ensureDeferred
async def test_runtime_voicemail_node_saves_the_message_in_its_mailbox(rig, tmp_path):
    menu = demo_menu()
    nodes = dict(menu.nodes)
    nodes["services"] = dataclasses.replace(nodes["services"], options={
        **nodes["services"].options, "5": Option("leave_message", label="message for sales")})
    nodes["leave_message"] = VoicemailNode(id="leave_message", mailbox="sales", max_seconds=10, next="main")
    rig.publish(dataclasses.replace(menu, nodes=nodes))
    customer_id, _ = seed(rig)
    speech = tmp_path / "sounds" / "message.wav"
    speech.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(speech), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 3))) for i in range(8000 * 2)))
    script = (ZH + "press 6; wait_prompt 1; " + STEP + "press 5; wait_prompt 2; wait 0.1; "
              f"speak {speech}; wait 0.3; press #; wait_prompt 1; " + STEP + "press 3; wait_prompt 2; hangup")
    call = await rig.call(script)
    heard, texts = prompts_heard(call), texts_heard(call)
    i = heard.index("voicemail_record")
    assert texts[i] == "请在提示音后留言，按井号键结束。"
    assert heard[i + 1:] == ["complaint_review", "voicemail_saved", "main_menu"]
    assert texts[i + 2] == "您的留言已保存，谢谢。"
    with transaction(rig.factory) as s:
        voicemail = s.scalars(select(Voicemail)).one()
        assert (voicemail.mailbox, voicemail.customer_id, voicemail.call_uuid) == ("sales", customer_id, call.uuid)
        assert voicemail.duration_seconds >= 1.5 and Path(voicemail.audio_path).exists()
        assert s.scalars(select(Complaint)).first() is None


def with_blacklist(action: str, prompt: str | None = "blacklist_notice"):
    menu = demo_menu()
    return dataclasses.replace(menu, settings=dataclasses.replace(
        menu.settings, blacklist=BlacklistPolicy(action=action, prompt=prompt)))


@pytest_twisted.ensureDeferred
async def test_runtime_blacklist_warn_agent_marks_the_call_for_the_agent(rig):
    rig.publish(with_blacklist("warn_agent"))
    customer_id, _ = seed(rig, marks=3)
    call = await rig.call(ZH + "press 0; wait_prompt 1; wait 0.3; hangup")
    heard = prompts_heard(call)
    assert heard[0] == "greeting_named_name-Li-Lei" and "blacklist_notice" not in heard
    assert call.channel.variables.get("hotline_blacklisted") == "true"
    request = rig.handoff.requests[-1]
    assert (request.blacklisted, request.customer_id) == (True, customer_id)
    blacklist = [d for d in detail_events(rig, call.uuid) if d["event"] == "blacklist"]
    assert blacklist == [{"event": "blacklist", "lang": "zh", "action": "warn_agent", "marks": 3}]


@pytest_twisted.ensureDeferred
async def test_runtime_blacklist_message_plays_the_notice_then_serves(rig):
    rig.publish(with_blacklist("message"))
    seed(rig, marks=3)
    call = await rig.call("wait_prompt 3; wait 0.05; press 1; wait_prompt 1; " + STEP + "press 0; "
                          "wait_prompt 1; wait 0.3; hangup")
    heard, texts = prompts_heard(call), texts_heard(call)
    assert heard[:3] == ["blacklist_notice", "greeting_named_name-Li-Lei", "language_menu"]
    assert texts[0] == "您的来电已被记录。请文明通话，谢谢合作。"
    assert call.channel.variables.get("hotline_blacklisted") == "true"
    assert rig.handoff.requests[-1].blacklisted


@pytest_twisted.ensureDeferred
async def test_runtime_blacklist_reject_hangs_up_with_call_rejected_before_answer(rig):
    rig.publish(with_blacklist("reject"))
    seed(rig, marks=3)
    call = await rig.call("wait 5")
    assert prompts_heard(call) == ["blacklist_reject"]
    assert texts_heard(call) == ["对不起，本热线暂时无法为您服务。再见。"]
    assert not [e for e in call.transcript if e["event"] == "answer"]
    assert [e["cause"] for e in call.transcript if e["event"] == "hangup"] == ["CALL_REJECTED"]
    events = [d["event"] for d in detail_events(rig, call.uuid)]
    assert events == ["blacklist"] and not rig.handoff.requests


@pytest_twisted.ensureDeferred
async def test_runtime_blacklist_below_the_threshold_is_served_normally(rig):
    rig.publish(with_blacklist("reject"))
    seed(rig, marks=2)
    call = await rig.call(ZH + "press 0; wait_prompt 1; wait 0.3; hangup")
    assert prompts_heard(call)[0] == "greeting_named_name-Li-Lei"
    assert "blacklist" not in [d["event"] for d in detail_events(rig, call.uuid)]


@pytest_twisted.ensureDeferred
async def test_runtime_vip_is_greeted_by_name_and_flagged_for_priority(rig):
    rig.publish(demo_menu())
    customer_id, _ = seed(rig, name="王芳", level=MemberLevel.GOLD.value)
    call = await rig.call(ZH + "press 0; wait_prompt 1; wait 0.3; hangup")
    heard, texts = prompts_heard(call), texts_heard(call)
    assert heard[0] == "greeting_vip_name-王芳"
    assert texts[0] == "尊敬的VIP会员王芳，您好！您已进入会员专属服务通道。"
    assert call.channel.variables.get("hotline_vip") == "true"
    request = rig.handoff.requests[-1]
    assert (request.vip, request.customer_id, request.language) == (True, customer_id, "zh")
    with transaction(rig.factory) as s:
        assert s.get(Customer, customer_id).member_level == "gold"


@pytest_twisted.ensureDeferred
async def test_runtime_after_hours_routes_to_the_after_hours_menu_and_books_a_callback(rig):
    menu = dataclasses.replace(demo_menu(), business_hours=load_yaml(DEMO).business_hours)  # 08:00-22:00 Shanghai
    rig.publish(menu)
    late = dt.datetime(2026, 11, 24, 23, 30, tzinfo=SHANGHAI)  # a Tuesday, after closing
    rig.app.clock = FixedClock(late)
    customer_id, _ = seed(rig)
    call = await rig.call("wait_prompt 2; " + STEP + "press 1; wait_prompt 1; " + STEP + "press 1; wait_prompt 1; "
                          + STEP + "press 3; wait_prompt 2; wait 0.3")
    heard, texts = prompts_heard(call), texts_heard(call)
    assert heard[:2] == ["greeting_named_name-Li-Lei", "after_hours"]
    assert "language_menu" not in heard and texts[1].startswith("您好，现在是非工作时间")
    assert heard[2:4] == ["callback_choose_number", "callback_request_time"]
    assert heard[4].startswith("callback_request_done") and heard[5] == "goodbye"
    with transaction(rig.factory) as s:
        request = s.scalars(select(CallbackRequest)).one()
        start = request.window_start if request.window_start.tzinfo else request.window_start.replace(
            tzinfo=dt.timezone.utc)
        assert start.astimezone(SHANGHAI) == dt.datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI)
        assert (request.number, request.customer_id, request.call_uuid) == ("+8613800138000", customer_id, call.uuid)
    start_event = [d for d in detail_events(rig, call.uuid) if d["event"] == "start"][0]
    assert start_event["node"] == "after_hours"


@pytest_twisted.ensureDeferred
async def test_runtime_open_hours_and_holidays_on_the_injected_clock(rig):
    menu = dataclasses.replace(demo_menu(), business_hours=load_yaml(DEMO).business_hours)
    rig.publish(menu)
    rig.app.clock = FixedClock(dt.datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI))
    open_call = await rig.call("wait_prompt 2; hangup")
    rig.app.clock = FixedClock(dt.datetime(2027, 1, 1, 10, 0, tzinfo=SHANGHAI))  # New Year's Day, a holiday
    holiday_call = await rig.call("wait_prompt 2; hangup")
    assert prompts_heard(open_call)[:2] == ["greeting", "language_menu"]
    assert prompts_heard(holiday_call)[:2] == ["greeting", "after_hours"]


@pytest_twisted.ensureDeferred
async def test_runtime_tv_ad_dnis_starts_its_own_node_and_is_the_orders_media_source(rig):
    rig.publish(demo_menu())
    customer_id, _ = seed(rig)
    script = ("wait_prompt 2; " + STEP + "press 1234#; wait_prompt 1; " + STEP + "press 1#; wait_prompt 1; " + STEP +
              "press 2; wait_prompt 1; " + STEP + "press 1; wait_prompt 1; " + STEP + "press 1; wait_prompt 1; " + STEP +
              "press 1; wait_prompt 2; " + STEP + "press 1; wait_prompt 2; hangup")
    call = await rig.call(script, dnis="4008005678")
    heard, texts = prompts_heard(call), texts_heard(call)
    assert heard[:2] == ["greeting_named_name-Li-Lei", "ordering_enter_code"]  # no language or main menu first
    assert texts[1] == ORDERING_ENTER_CODE_ZH
    with transaction(rig.factory) as s:
        order = s.scalars(select(Order).where(Order.call_uuid == call.uuid)).one()
        assert (order.media_source, order.customer_id, order.payment_method) == ("4008005678", customer_id, "cod")
    assert f"ordering_placed_order_no-{order.number}" in heard
    start = [d for d in detail_events(rig, call.uuid) if d["event"] == "start"][0]
    assert (start["node"], start["dnis"]) == ("tv_ad_kitchen", "4008005678")


@pytest_twisted.ensureDeferred
async def test_runtime_subscription_poll_and_fax_request_record_their_outcomes(rig):
    rig.publish(demo_menu())
    customer_id, _ = seed(rig)
    script = (EN + "press 6; wait_prompt 1; " + STEP + "press 2; wait_prompt 1; " + STEP + "press 1; wait_prompt 2; "
              + STEP + "press 3; wait_prompt 2; " + STEP + "press 4; wait_prompt 2; " + STEP + "press 4; "
              "wait_prompt 1; " + STEP + "press 02112345678#; wait_prompt 1; " + STEP + "press 1; wait_prompt 2; hangup")
    call = await rig.call(script)
    heard, texts = prompts_heard(call), texts_heard(call)
    i = heard.index("subscription_offer")
    assert heard[i + 1:i + 3] == ["subscription_done", "services_menu"]
    assert texts[i + 1] == "You are now subscribed. Thank you."
    j = heard.index("poll_intro")
    assert heard[j + 1:j + 4] == ["poll_question_rating", "poll_thanks", "services_menu"]
    assert texts[j + 2] == "Thank you for your feedback!"
    k = heard.index("fax_request")
    assert heard[k + 1] == "fax_confirm_fax-02112345678"
    assert heard[k + 2:] == ["fax_queued", "services_menu"]
    with transaction(rig.factory) as s:
        assert s.get(CustomerTag, (customer_id, "news_subscriber")) is not None
        fax = s.scalars(select(OutboxMessage).where(OutboxMessage.channel == "fax")).one()
        assert (fax.recipient, fax.call_uuid, fax.customer_id, fax.status) == ("+862112345678", call.uuid,
                                                                               customer_id, "queued")
        assert fax.template == "fax_catalogue" and "1234" in fax.body  # the catalogue lists the seeded product
        assert not s.scalars(select(Interaction).where(Interaction.channel == "fax")).all()  # no "requested" rows
    events = detail_events(rig, call.uuid)
    assert [(d["question"], d["answer"]) for d in events if d["event"] == "poll"] == [("rating", 4)]
    assert [d["event"] for d in events if d["event"] == "subscription"] == ["subscription"]
    assert rig.app.stats.options[("poll", "4")] == 1


@pytest_twisted.ensureDeferred
async def test_runtime_fax_back_refuses_a_bad_number_and_asks_again(rig):
    rig.publish(demo_menu())
    customer_id, _ = seed(rig)
    script = (EN + "press 6; wait_prompt 1; " + STEP + "press 4; wait_prompt 1; " + STEP + "press 1234567#; "
              "wait_prompt 1; " + STEP + "press 1; wait_prompt 2; " + STEP + "press 02161234567#; wait_prompt 1; "
              + STEP + "press 1; wait_prompt 2; hangup")
    call = await rig.call(script)
    heard = prompts_heard(call)
    k = heard.index("fax_number_invalid")
    assert heard[k - 1] == "fax_confirm_fax-1234567" and heard[k + 1] == "fax_request"
    assert heard[-2:] == ["fax_queued", "services_menu"]
    with transaction(rig.factory) as s:
        [fax] = s.scalars(select(OutboxMessage).where(OutboxMessage.channel == "fax")).all()
        assert (fax.recipient, fax.customer_id, fax.template) == ("+862161234567", customer_id, "fax_catalogue")
