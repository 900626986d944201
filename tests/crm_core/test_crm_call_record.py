"""The contact-center record's services on both databases: CDR updates (open, set, append, batch, media plan,
closing), agent states with not_ready and queue membership, and callbacks through the one life cycle."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from crm_core.exceptions import CallbackTaken, IllegalTransition, InvalidInput
from crm_core.models import AgentStateChange, CallbackRequest, CallDetailRecord, MediaAirTime, MediaPlan
from crm_core.services import agents as agent_record
from crm_core.services import calls
from crm_core.services.support import (
    claim_callback,
    complete_callback,
    open_callbacks,
    record_callback_attempt,
    request_callback,
)

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def row(db_session, uuid: str) -> CallDetailRecord:
    db_session.expire_all()
    return db_session.scalars(select(CallDetailRecord).where(CallDetailRecord.uuid == uuid)).one()


def test_a_call_is_opened_updated_and_appended_in_one_batch_in_order(db_session, make_customer):
    customer = make_customer()
    plan = MediaPlan(name="湖南卫视 黄金档", kind="tv", dnis="4008009001")
    db_session.add(plan)
    db_session.flush()
    results = calls.write_call_updates(db_session, [
        calls.CallUpdate("rec-1", {"entered_at": T0, "direction": "inbound", "ani": "+8613800000001",
                                   "media_source": "4008009001"}, opened=True),
        calls.CallUpdate("rec-1", {"customer_id": customer.id}, {"ivr_path": ["language"]}),
        calls.CallUpdate("rec-1", {}, {"ivr_path": ["main", "order_status"], "links": {"orders": ["1234567890"]}}),
        calls.CallUpdate("rec-2", {"entered_at": T0, "direction": "outbound"}, opened=True),
    ])
    assert results == [None] * 4
    first = row(db_session, "rec-1")
    assert (first.customer_id, first.media_source, first.media_plan_id) == (customer.id, "4008009001", plan.id)
    assert first.ivr_path == "language>main>order_status" and first.links == {"orders": ["1234567890"]}
    assert row(db_session, "rec-2").direction == "outbound"


def test_appends_add_to_what_an_earlier_batch_stored_and_reopening_keeps_the_row(db_session):
    calls.write_call_updates(db_session, [calls.CallUpdate("rec-3", {"entered_at": T0}, {"ivr_path": ["main"],
                                                                                       "routing": [{"n": 1}]},
                                                           opened=True)])
    calls.write_call_updates(db_session, [  # a recorder that restarted mid-call: appends, and opens again
        calls.CallUpdate("rec-3", {"entered_at": T0 + dt.timedelta(minutes=5), "direction": "outbound"},
                         {"ivr_path": ["orders"], "routing": [{"n": 2}], "links": {"complaints": [7]}}, opened=True),
        calls.CallUpdate("rec-3", {}, {"links": {"complaints": [7, 8]}}),
    ])
    again = row(db_session, "rec-3")
    assert again.ivr_path == "main>orders" and again.routing == [{"n": 1}, {"n": 2}]
    assert again.links == {"complaints": [7, 8]}
    assert (again.entered_at, again.direction) == (T0, "inbound")  # the first entry stands


def test_a_number_on_several_plans_goes_to_the_one_on_air_last(db_session):
    morning = MediaPlan(name="午间", kind="tv", dnis="4008009002")
    evening = MediaPlan(name="黄金档", kind="tv", dnis="4008009002")
    morning.air_times = [MediaAirTime(starts_at=T0 - dt.timedelta(hours=2), ends_at=T0 - dt.timedelta(hours=1))]
    evening.air_times = [MediaAirTime(starts_at=T0 + dt.timedelta(hours=8), ends_at=T0 + dt.timedelta(hours=9))]
    db_session.add_all([morning, evening])
    db_session.flush()
    assert calls.media_plans_for(db_session, [("4008009002", T0)]) == {"4008009002": morning.id}
    later = T0 + dt.timedelta(hours=8, minutes=5)
    assert calls.media_plans_for(db_session, [("4008009002", later)]) == {"4008009002": evening.id}
    assert calls.media_plans_for(db_session, [("4009999999", T0)]) == {}
    calls.write_call_updates(db_session, [  # the rows of calls opened in one batch, each with its own plan
        calls.CallUpdate(uuid, {"entered_at": at, "media_source": number}, opened=True)
        for uuid, at, number in (("air-1", T0, "4008009002"), ("air-2", later, "4008009002"),
                                 ("air-3", T0, "4009999999"))])
    assert [row(db_session, u).media_plan_id for u in ("air-1", "air-2", "air-3")] == [morning.id, evening.id, None]


def test_an_update_naming_no_column_is_refused():
    with pytest.raises(ValueError, match="no CDR column"):
        calls.CallUpdate("x", {"hangup_sid": "caller"})
    with pytest.raises(ValueError, match="needs entered_at"):
        calls.CallUpdate("x", {}, opened=True)


def test_closing_rows_a_crash_left_open_says_what_each_was(db_session, make_agent):
    agent = make_agent()
    calls.write_call_updates(db_session, [
        calls.CallUpdate("open-ivr", {"entered_at": T0}, opened=True),
        calls.CallUpdate("open-queued", {"entered_at": T0, "queued_at": T0}, opened=True),
        calls.CallUpdate("open-talking", {"entered_at": T0, "queued_at": T0, "answered_at": T0,
                                          "agent_id": agent.id}, opened=True),
        calls.CallUpdate("ended", {"entered_at": T0, "ended_at": T0, "disposition": "self_service"}, opened=True),
    ])
    since = T0 - dt.timedelta(hours=1)
    open_rows = {r.uuid: r for r in calls.unfinished_calls(db_session, since) if r.uuid.startswith("open-")}
    assert sorted(open_rows) == ["open-ivr", "open-queued", "open-talking"]
    assert (open_rows["open-talking"].answered, open_rows["open-queued"].queued) == (True, True)
    later = T0 + dt.timedelta(minutes=3)
    assert calls.close_calls(db_session, list(open_rows) + ["ended"], at=later, cause="ENGINE_RESTART") == 3
    got = {u: (row(db_session, u).disposition, row(db_session, u).hangup_side) for u in open_rows}
    assert got == {"open-ivr": ("interrupted", "system"), "open-queued": ("abandoned", "system"),
                   "open-talking": ("answered", "system")}
    assert row(db_session, "ended").disposition == "self_service"
    assert calls.close_stale_calls(db_session, before=T0 + dt.timedelta(days=1), at=later) == 0


def test_agent_states_keep_not_ready_and_queue_membership_in_its_table(db_session, make_agent, make_queue):
    agent, sales, service = make_agent(), make_queue(), make_queue()
    agent_record.log_agent_state(db_session, agent.id, "available", at=T0)
    assert agent_record.set_logged_in_queues(db_session, agent.id, [sales.name, service.name, "no-such-queue"]) == \
        tuple(sorted([sales.name, service.name]))
    agent_record.log_agent_state(db_session, agent.id, "not_ready", reason="lunch", at=T0 + dt.timedelta(1))
    agent_record.set_logged_in_queues(db_session, agent.id, [service.name])
    (last,) = [r for r in agent_record.last_agent_states(db_session) if r.agent_id == agent.id]
    assert (last.state.value, last.reason, last.queues) == ("not_ready", "lunch", (service.name,))
    stored = db_session.scalars(select(AgentStateChange.state).where(AgentStateChange.agent_id == agent.id)).all()
    assert stored == ["available", "not_ready"]
    with pytest.raises(InvalidInput):
        agent_record.log_agent_state(db_session, agent.id, "napping")


def test_a_claimed_callback_is_held_by_agent_id_and_follows_the_life_cycle(db_session, make_agent):
    first, second = make_agent(), make_agent()
    request = request_callback(db_session, "13900000001", queue_name="sales", note="virtual hold")
    claim_callback(db_session, request.id, first.id)
    assert (request.status, request.agent_id) == ("scheduled", first.id)
    assert "claimed_by" not in (request.note or "")
    with pytest.raises(CallbackTaken):
        claim_callback(db_session, request.id, second.id)
    with pytest.raises(CallbackTaken):
        complete_callback(db_session, request.id, second.id, True)
    complete_callback(db_session, request.id, first.id, True, "customer happy")
    assert (request.status, request.attempts) == ("done", 1)
    assert request.note.splitlines()[-2:] == [f"in_progress by agent {first.id}: called by hand",
                                              f"done by agent {first.id}: customer happy"]
    with pytest.raises(IllegalTransition):
        claim_callback(db_session, request.id, first.id)
    assert request.id not in [r.id for r in open_callbacks(db_session)]


def test_dial_attempts_count_through_in_progress_then_retry_fail_or_done(db_session):
    request = request_callback(db_session, "13900000002", queue_name="sales")
    record_callback_attempt(db_session, request.id, call_uuid="leg-1", result="customer_no_answer",
                            cause="NO_ANSWER")
    assert (request.status, request.attempts, request.call_uuid) == ("scheduled", 1, "leg-1")
    record_callback_attempt(db_session, request.id, call_uuid="leg-2", result="customer_busy", final=True)
    assert (request.status, request.attempts) == ("failed", 2)
    other = request_callback(db_session, "13900000003")
    record_callback_attempt(db_session, other.id, call_uuid="leg-3", result="answered")
    assert (other.status, other.attempts) == ("done", 1)


def test_an_unparsable_number_is_kept_as_dialled_only_when_asked(db_session):
    with pytest.raises(InvalidInput):
        request_callback(db_session, "1001")
    kept = request_callback(db_session, "1001", keep_unparsed=True)
    assert kept.number == "1001"
    assert db_session.get(CallbackRequest, kept.id).status == "pending"
