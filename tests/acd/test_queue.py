"""Queues: overflow, maximum length, announcements, abandonment, reload with calls waiting."""

from __future__ import annotations

from acd import Overflow


def test_max_wait_overflows_to_another_queue_keeping_the_caller(h):
    h.queue("sales", max_wait=60, overflow=Overflow("queue", "backup"))
    h.queue("backup")
    leg, results = h.call("sales")
    h.clock.advance(59)
    assert h.acd.callers[leg.uuid].queue == "sales"
    h.clock.advance(1)
    assert h.acd.callers[leg.uuid].queue == "backup" and leg.uuid in h.acd.queues["backup"]
    h.agent(9, queues=("backup",))
    assert leg.ring.extension == "1009"
    assert h.acd.snapshot("sales").overflowed == 1


def test_max_wait_widens_skills_then_a_less_skilled_agent_takes_the_call(h):
    h.queue(max_wait=30, overflow=Overflow("widen", widen={"returns": 2}), required_skills={"returns": 8})
    h.agent(1, skills={"returns": 3})
    leg, _ = h.call()
    assert leg.rings == []
    h.clock.advance(30)
    assert leg.ring.extension == "1001"


def test_max_wait_to_voicemail_hands_the_caller_back_to_the_ivr(h):
    h.queue(max_wait=120, overflow=Overflow("voicemail"))
    leg, results = h.call()
    h.clock.advance(120)
    (outcome,) = results
    assert outcome.kind == "overflow" and outcome.overflow.kind == "voicemail" and outcome.wait_seconds == 120
    assert not leg.holding and leg.uuid not in h.acd.callers


def test_max_wait_does_not_interrupt_a_ringing_agent(h):
    h.queue(max_wait=10, overflow=Overflow("callback"))
    h.agent(1)
    h.clock.advance(0)
    leg, results = h.call()
    h.clock.advance(10)
    assert results == [] and h.state(1) == "ringing"
    leg.ring.answer()
    h.clock.advance(5)
    assert results == []


def test_full_queue_rejects_with_full_outcome(h):
    h.queue(max_length=1)
    h.call()
    leg, results = h.call()
    assert results[0].kind == "full" and leg.uuid not in h.acd.callers


def test_full_queue_with_callback_overflow_offers_callback(h):
    h.queue(max_length=1, overflow=Overflow("callback"))
    h.call()
    _leg, results = h.call()
    assert results[0].kind == "overflow" and results[0].overflow.kind == "callback"


def test_position_and_expected_wait_are_announced_periodically(h):
    h.queue(announce_every=30, default_aht=120)
    h.agent(1)
    busy, _ = h.call()
    busy.ring.answer()
    first, _ = h.call()
    second, _ = h.call()
    h.clock.advance(30)
    assert first.announcements == [["ivr/ivr-you_are_number.wav", "digits/1.wav", "ivr/ivr-estimated_hold_time.wav",
                                    "digits/2.wav", "time/minutes.wav"]]
    assert second.announcements[0][1] == "digits/2.wav" and second.announcements[0][3] == "digits/4.wav"
    h.clock.advance(30)
    assert len(first.announcements) == 2


def test_no_announcement_while_the_agent_rings(h):
    h.queue(announce_every=10)
    h.agent(1)
    leg, _ = h.call()
    h.clock.advance(10)
    assert leg.announcements == []


def test_caller_hanging_up_while_waiting_is_abandoned(h):
    h.queue()
    leg, results = h.call()
    h.clock.advance(12)
    leg.hang_up()
    assert results[0].kind == "abandoned" and results[0].wait_seconds == 12
    assert leg.uuid not in h.acd.callers and len(h.acd.queues["sales"]) == 0
    snap = h.acd.snapshot("sales")
    assert snap.abandoned == 1 and snap.abandonment_rate == 1.0


def test_queue_reload_with_calls_waiting_keeps_callers_and_agents(h):
    h.queue(strategy="longest_idle", required_skills={"vip": 5})
    h.agent(1, skills={"vip": 3})
    leg, _ = h.call()
    assert leg.rings == []
    h.queue(strategy="skills_based", required_skills={"vip": 3})  # admin edits the queue
    assert h.acd.board.get(1).queues == {"sales"}
    assert leg.uuid in h.acd.queues["sales"]
    # the reload applies to new callers; waiting callers keep the skills they entered with
    newcomer, _ = h.call()
    assert newcomer.ring.extension == "1001"


def test_queue_reload_rearms_max_wait_from_entry_time(h):
    h.queue()
    leg, results = h.call()
    h.clock.advance(50)
    h.queue(max_wait=60, overflow=Overflow("voicemail"))
    h.clock.advance(10)
    assert results and results[0].kind == "overflow"
