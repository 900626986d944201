"""Offers: reserve, screen pop, answer, wrap-up, no answer, busy, and the races of ringing."""

from __future__ import annotations

from acd import PRIORITY_VIP
from acd.connect import BUSY, CALLER_GONE, NO_ANSWER, UNREGISTERED


def test_offer_reserves_the_agent_and_pops_the_screen_before_the_answer(h):
    h.queue()
    h.agent(1)
    leg, _ = h.call(customer={"id": 5, "name": "Li Na", "member_level": "gold"}, ivr_path="main>orders")
    assert h.state(1) == "ringing"
    (pop,) = h.pops
    assert pop["agent_id"] == 1 and pop["customer"]["name"] == "Li Na" and pop["ivr_path"] == "main>orders"
    assert leg.ring.variables["hotline_customer_name"] == "Li Na"
    assert leg.ring.variables["origination_caller_id_number"] == leg.ani
    assert leg.ring.variables["hotline_call_uuid"] == leg.uuid


def test_answer_puts_agent_on_call_and_end_starts_queue_wrap_up(h):
    h.queue(wrapup_seconds=15)
    h.agent(1)
    leg, results = h.call()
    h.clock.advance(3)
    leg.ring.answer()
    assert h.state(1) == "on_call" and leg.uuid not in h.acd.queues["sales"]
    h.clock.advance(60)
    leg.ring.end()
    assert h.state(1) == "wrap_up"
    (outcome,) = results
    assert outcome.kind == "served" and outcome.agent_id == 1
    assert outcome.wait_seconds == 3 and outcome.talk_seconds == 60
    h.clock.advance(15)
    assert h.state(1) == "available"


def test_wrap_up_end_routes_the_next_waiting_caller(h):
    h.queue(wrapup_seconds=10)
    h.agent(1)
    first, _ = h.call()
    second, _ = h.call()
    first.ring.answer()
    first.ring.end()
    assert second.rings == []
    h.clock.advance(10)
    assert second.ring.extension == "1001"


def test_ring_no_answer_sets_agent_not_ready_and_caller_back_at_head(h):
    h.queue()
    h.agent(1)
    first, _ = h.call()
    h.clock.advance(1)
    second, _ = h.call()
    first.ring.fail(NO_ANSWER)
    agent = h.acd.board.get(1)
    assert agent.state.value == "not_ready" and agent.reason == "no answer"
    assert [c.uuid for c in h.acd.queues["sales"]] == [first.uuid, second.uuid]
    assert first.holding  # music again
    h.agent(2)
    assert first.ring.extension == "1002" and second.rings == []


def test_caller_back_at_head_goes_ahead_of_earlier_callers_of_same_priority(h):
    h.queue()
    early, _ = h.call()
    h.clock.advance(1)
    late, _ = h.call(priority=PRIORITY_VIP)  # VIP jumps the line
    h.agent(1)
    assert late.ring.extension == "1001"
    late.ring.fail(NO_ANSWER)
    assert [c.uuid for c in h.acd.queues["sales"]] == [late.uuid, early.uuid]


def test_busy_phone_sets_not_ready_phone_busy(h):
    h.queue()
    h.agent(1)
    leg, _ = h.call()
    leg.ring.fail(BUSY, "USER_BUSY")
    assert h.acd.board.get(1).reason == "phone busy"


def test_unregistered_phone_sets_not_ready_and_next_agent_is_tried(h):
    h.queue()
    h.agent(1)
    h.agent(2)
    leg, _ = h.call()
    assert leg.ring.extension == "1001"
    leg.ring.fail(UNREGISTERED, "USER_NOT_REGISTERED")
    assert h.acd.board.get(1).reason == "phone unregistered"
    assert leg.ring.extension == "1002"


def test_caller_hangs_up_while_agent_rings_frees_agent_and_closes_cdr_abandoned(h):
    h.queue()
    h.agent(1)
    leg, results = h.call()
    h.clock.advance(4)
    leg.hang_up("NORMAL_CLEARING")
    assert h.state(1) == "ringing"  # until the switch reports the cancelled leg
    leg.ring.fail(CALLER_GONE, "ORIGINATOR_CANCEL")
    assert h.state(1) == "available"
    (outcome,) = results
    assert outcome.kind == "abandoned" and outcome.wait_seconds == 4
    assert h.acd.cdr.records[leg.uuid]["disposition"] == "abandoned"
    assert h.acd.snapshot("sales").abandoned == 1


def test_agent_asks_for_break_during_offer_answers_then_goes_on_break_after_wrap_up(h):
    h.queue(wrapup_seconds=5)
    h.agent(1)
    leg, _ = h.call()
    assert h.acd.set_state(1, "break", "lunch") is False
    leg.ring.answer()
    leg.ring.end()
    h.clock.advance(5)
    assert h.state(1) == "break" and h.acd.board.get(1).reason == "lunch"


def test_agent_asks_for_break_during_offer_caller_hangs_up_agent_goes_on_break(h):
    h.queue()
    h.agent(1)
    leg, _ = h.call()
    h.acd.set_state(1, "break")
    leg.hang_up()
    leg.ring.fail(CALLER_GONE, "ORIGINATOR_CANCEL")
    assert h.state(1) == "break"


def test_agent_logs_out_during_offer_cancels_the_ring_and_caller_goes_back_to_head(h):
    h.queue()
    h.agent(1)
    leg, results = h.call()
    h.acd.logout(1)
    assert leg.cancelled == 1
    assert h.state(1) == "logged_out" and h.acd.board.members("sales") == set()
    assert results == [] and [c.uuid for c in h.acd.queues["sales"]] == [leg.uuid]


def test_vip_caller_is_served_before_earlier_normal_callers(h):
    h.queue()
    normal, _ = h.call()
    h.clock.advance(30)
    vip, _ = h.call(priority=PRIORITY_VIP)
    h.agent(1)
    assert vip.rings and not normal.rings


def test_agent_in_two_queues_serves_the_caller_waiting_longest(h):
    h.queue("sales")
    h.queue("support")
    h.acd.add_agent(1, "1001")
    a, _ = h.call("support")
    h.clock.advance(5)
    b, _ = h.call("sales")
    h.acd.login(1, ["sales", "support"])
    assert a.rings and not b.rings


def test_cdr_records_queue_answer_end_and_wrap_up_end_times(h):
    h.queue(wrapup_seconds=8)
    h.agent(1)
    leg, _ = h.call()
    t0 = h.clock.seconds()
    h.clock.advance(2)
    leg.ring.answer()
    h.clock.advance(50)
    leg.ring.end("NORMAL_CLEARING")
    h.clock.advance(8)
    record = h.acd.cdr.records[leg.uuid]
    assert (record["queued_at"], record["answered_at"], record["ended_at"], record["wrapup_ended_at"]) == (
        t0, t0 + 2, t0 + 52, t0 + 60)
    assert record["agent_id"] == 1 and record["disposition"] == "answered"
    assert record["decisions"][0]["reason"].startswith("longest idle")
