"""Codes are words in both UI languages (agent states, payment methods, complaint categories, dispositions...) and
the wallboard's clock is the center's."""

from __future__ import annotations

import datetime as dt

import factories
from admin.labels import CODE_LABELS
from admin.reports.live import stamp
from crm_core.enums import AgentState, ComplaintCategory, DeliveryMethod, IvrOutcome, OrderStatus, PaymentMethod
from crm_core.models import AgentQueue, AgentStateChange, Queue


def test_every_code_the_ui_shows_has_words():
    for vocabulary in (AgentState, PaymentMethod, DeliveryMethod, ComplaintCategory, OrderStatus, IvrOutcome):
        assert {c.value for c in vocabulary} <= set(CODE_LABELS), vocabulary.__name__


def test_the_wallboard_says_agent_states_in_words_in_english_and_chinese(as_role, dbs, monkeypatch, app):
    queue = Queue(name=f"words{factories.next_serial()}", sl_target_seconds=20, sl_target_percent=80)
    dbs.add(queue)
    agent = factories.make_agent(dbs)
    dbs.flush()
    dbs.add(AgentQueue(agent_id=agent.id, queue_id=queue.id, logged_in=True))
    dbs.add(AgentStateChange(agent_id=agent.id, state="on_call", at=dt.datetime.now(dt.timezone.utc)))
    dbs.commit()
    client = as_role("supervisor").client
    english = client.get("/admin/wallboard/?lang=en").text
    assert "On call" in english and "Wrap-up" in english and ">on_call<" not in english
    chinese = client.get("/admin/wallboard/?lang=zh").text
    assert "通话中" in chinese and "话后整理" in chinese


def test_the_desk_offers_payment_delivery_and_categories_in_words(as_role, probe_engine):
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from crm_core.models import Agent

    with Session(probe_engine) as s:  # the demo user "agent" is the agent whose login is "agent"
        if s.scalars(select(Agent).where(Agent.login == "agent")).first() is None:
            s.add(Agent(login="agent", name="演示 坐席", extension=f"7{factories.next_serial():04d}", password_hash="x"))
            s.commit()
    client = as_role("agent").client
    english = client.get("/admin/desk/?lang=en").text
    for words in ("Cash on delivery", "WeChat Pay", "Express delivery", "Product quality", "Wrong number"):
        assert words in english
    assert '<option value="cod">Cash on delivery</option>' in english
    chinese = client.get("/admin/desk/?lang=zh").text
    for words in ("货到付款", "微信支付", "加急快递", "产品质量"):
        assert words in chinese


def test_the_wallboard_clock_is_the_center_time_zones():
    moment = dt.datetime(2026, 11, 24, 17, 30, tzinfo=dt.timezone.utc)
    assert stamp(moment, "Asia/Shanghai") == {"at": "2026-11-25T01:30:00+08:00", "clock": "2026-11-25 01:30:00"}
    assert stamp(moment, "Europe/London")["clock"] == "2026-11-24 17:30:00"
