"""Every IVR call's CDR, written by the call recorder as the call goes: entry number and media plan, the customer,
the menu nodes visited, how self-service ended, what the call created, who hung up."""

from __future__ import annotations

import pytest_twisted
from sqlalchemy import select

from crm_core.db import transaction
from crm_core.models import CallDetailRecord, MediaPlan, Order
from test_runtime_flows import ANI, START, seed
from test_runtime_menu import demo_menu


def cdr(rig, uuid: str) -> CallDetailRecord:
    with transaction(rig.factory) as s:
        return s.scalars(select(CallDetailRecord).where(CallDetailRecord.uuid == uuid)).one()


def add_plan(rig, dnis: str = "4008001234", name: str = "湖南卫视 黄金档购物时间", kind: str = "tv") -> int:
    with transaction(rig.factory) as s:
        plan = MediaPlan(name=name, kind=kind, dnis=dnis)
        s.add(plan)
        s.flush()
        return plan.id


@pytest_twisted.ensureDeferred
async def test_a_self_service_call_that_stays_in_the_ivr_has_its_whole_cdr(rig):
    rig.publish(demo_menu())
    customer_id, _, number = seed(rig)
    plan_id = add_plan(rig)
    call = await rig.call(START + f"press 1; wait_prompt 1; wait 0.05; press 1; wait_prompt 1; wait 0.05; "
                          f"press {number}#; wait_prompt 2; wait 0.05; press *; wait_prompt 1; hangup")
    row = cdr(rig, call.uuid)
    assert (row.direction, row.ani, row.dnis, row.media_source) == ("inbound", ANI, "4008001234", "4008001234")
    assert (row.media_plan_id, row.customer_id) == (plan_id, customer_id)
    assert row.ivr_path.split(">")[:4] == ["language", "lang_en", "main", "order_status"]
    assert (row.ivr_outcome, row.disposition, row.ivr_exit_node) == ("contained", "self_service", "main")
    assert (row.hangup_side, row.hangup_cause) == ("caller", "NORMAL_CLEARING")
    assert row.entered_at <= row.ended_at and row.queue_id is None and row.agent_id is None


@pytest_twisted.ensureDeferred
async def test_a_caller_hanging_up_before_being_served_is_an_abandon_in_the_ivr(rig):
    rig.publish(demo_menu())
    seed(rig)
    call = await rig.call(START + "press 1; wait_prompt 1; hangup")
    row = cdr(rig, call.uuid)
    assert (row.ivr_outcome, row.disposition, row.hangup_side) == ("abandoned", "ivr_abandoned", "caller")
    assert row.ivr_exit_node == "order_status" and row.ended_at is not None


@pytest_twisted.ensureDeferred
async def test_what_the_call_created_is_linked_on_its_record(rig):
    rig.publish(demo_menu())
    seed(rig)
    script = (START + "press 4; wait_prompt 1; wait 0.05; press 1234#; wait_prompt 1; wait 0.05; press 1#; "
              "wait_prompt 1; wait 0.05; press 2; wait_prompt 1; wait 0.05; press 1; wait_prompt 1; wait 0.05; "
              "press 1; wait_prompt 1; wait 0.05; press 1; wait_prompt 2; wait 0.05; press 1; wait_prompt 1; hangup")
    call = await rig.call(script)
    with transaction(rig.factory) as s:
        order = s.scalars(select(Order).where(Order.call_uuid == call.uuid)).one()
    row = cdr(rig, call.uuid)
    assert row.links == {"orders": [order.number]}
    assert row.ivr_outcome == "contained"


@pytest_twisted.ensureDeferred
async def test_a_caller_handed_to_agents_leaves_the_ivr_as_to_agent_with_the_nodes_it_went_through(rig):
    rig.publish(demo_menu())
    seed(rig)
    call = await rig.call(START + "press 0; wait_prompt 1; wait 0.3; hangup")
    row = cdr(rig, call.uuid)
    assert (row.ivr_outcome, row.ivr_exit_node) == ("to_agent", "agent")
    assert rig.handoff.requests[-1].path == ("language", "lang_en", "main", "agent")
