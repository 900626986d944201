"""The caller hears what is stored: every amount, date and number spoken in a phone order, its status and the
points it earned, held against the database row it describes (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest_twisted
from sqlalchemy import select

import factories
from crm_core.db import transaction
from crm_core.models import Address, Customer, Order, OutboxMessage, Promotion
from ivr.prompts.catalogue import Catalogue
from test_runtime_flows import ANI, START
from test_runtime_menu import demo_menu
from transcripts import prompts_heard, texts_heard

STEP = "wait_prompt 1; wait 0.05; "


def seed_shop(rig) -> tuple[int, str, str, str]:
    """A customer with an address, a knife set with fifty off each, tea at buy two get one; their codes."""
    now = dt.datetime.now(dt.timezone.utc)
    with transaction(rig.factory) as s:
        customer = factories.make_customer(s, name="Li Lei", phones=[ANI])
        s.add(Address(customer_id=customer.id, recipient="Li Lei", city="Shanghai", line1="1 Nanjing Road",
                      is_default=True))
        knife = factories.make_product(s, phone_code="1234", name="Knife set", price="199.00", stock=10)
        tea = factories.make_product(s, phone_code="5678", name="Oolong tea", price="30.00", stock=10)
        fifty = factories.make_promotion(s, [knife], rule="amount_off", amount_off="50.00",
                                         starts_at=now - dt.timedelta(days=1), ends_at=now + dt.timedelta(days=1))
        fifty.name = "Hunan TV special"
        factories.make_promotion(s, [tea], rule="buy_x_get_y", buy_quantity=2, free_quantity=1,
                                 starts_at=now - dt.timedelta(days=1), ends_at=now + dt.timedelta(days=1))
        return customer.id, knife.phone_code, tea.phone_code, fifty.name


@pytest_twisted.ensureDeferred
async def test_every_amount_date_and_number_the_caller_hears_is_the_stored_one(rig_on_both):
    rig = rig_on_both
    rig.publish(demo_menu())
    customer_id, knife, tea, promotion_name = seed_shop(rig)
    script = (START + "press 4; " + STEP + f"press {knife}#; " + STEP + "press 2#; " + STEP + "press 1; "
              + STEP + f"press {tea}#; " + STEP + "press 3#; " + STEP + "press 2; "   # finish choosing
              + STEP + "press 1; " + STEP + "press 1; " + STEP + "press 1; "          # address, cod, courier
              + "wait_prompt 2; wait 0.05; press 1; "                                 # read-back, confirm
              + "wait_prompt 2; wait 0.05; press 2; "                                 # placed, main menu: points
              + "wait_prompt 1; wait 0.2; hangup")
    call = await rig.call(script, timeout=60)
    heard, texts = prompts_heard(call), texts_heard(call)
    catalogue = Catalogue.load()

    def say(prompt_id: str, **values) -> str:
        return catalogue.render_text(prompt_id, "en", **values)

    with transaction(rig.factory) as s:
        order = s.scalars(select(Order).where(Order.call_uuid == call.uuid)).one()
        items = {item.product.phone_code: item for item in order.items}
        promotions = {p.id: p.name for p in s.scalars(select(Promotion))}
        balance = s.get(Customer, customer_id).points_balance
        confirmation = s.scalars(select(OutboxMessage).where(OutboxMessage.call_uuid == call.uuid)).one()
        expected_readback = []
        for code in (knife, tea):
            item = items[code]
            expected_readback.append(say("ordering_readback", name=item.product.name, quantity=item.quantity,
                                         amount=item.unit_price * item.quantity))
            expected_readback.append(say("ordering_readback_promotion", promotion=promotions[item.promotion_id],
                                         discount=item.discount))
        expected_readback.append(say("ordering_readback_total", total=order.total, points=order.points_earned))
        number, total, points = order.number, order.total, order.points_earned
    start = heard.index(next(h for h in heard if h.startswith("ordering_readback")))
    assert texts[start:start + 5] == expected_readback
    assert promotion_name in texts[start + 1]  # the promotion is named
    assert (total, points) == (Decimal("358.00"), 358)  # 2 x 199 - 2 x 50 + 3 x 30 - 30: what was read back
    placed = [t for t, h in zip(texts, heard) if h.startswith("ordering_placed")]
    assert placed == [say("ordering_placed", order_no=number)]
    assert (confirmation.template, confirmation.merge_data["order_no"]) == ("order_created", number)
    assert confirmation.merge_data["total"] == f"{total:.2f}" and f"{total:.2f}" in confirmation.body
    points_heard = [t for t, h in zip(texts, heard) if h.startswith("points_balance")]
    assert points_heard == [say("points_balance", points=balance)] and balance == points
    earned = [t for t, h in zip(texts, heard) if h.startswith("points_change_earned")]
    with transaction(rig.factory) as s:
        entry = s.get(Customer, customer_id).points_entries[-1]
        local_day = entry.created_at.astimezone(ZoneInfo("Asia/Shanghai")).date()
        assert earned[0] == say("points_change_earned", date=local_day, points=entry.delta)


@pytest_twisted.ensureDeferred
async def test_the_order_status_read_out_says_the_stored_number_and_its_local_date(rig_on_both):
    rig = rig_on_both
    rig.publish(demo_menu())
    customer_id, knife, _tea, _ = seed_shop(rig)
    from crm_core.services.orders import place_order

    late = dt.datetime(2026, 11, 24, 17, 30, tzinfo=dt.timezone.utc)  # 01:30 on the 25th in Shanghai
    with transaction(rig.factory) as s:
        order = place_order(s, customer_id, [(knife, 1)])
        s.flush()
        s.execute(Order.__table__.update().where(Order.__table__.c.id == order.id).values(created_at=late))
        number = order.number
    call = await rig.call(START + "press 1; " + STEP + "press 1; " + STEP + f"press {number}#; "
                          "wait_prompt 1; wait 0.2; hangup")
    heard, texts = prompts_heard(call), texts_heard(call)
    status = [t for t, h in zip(texts, heard) if h.startswith("order_status_ordered")]
    expected = Catalogue.load().render_text("order_status_ordered", "en", order_no=number, date=dt.date(2026, 11, 25))
    assert status == [expected]
