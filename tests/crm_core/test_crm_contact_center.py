"""Contact center record: the not_ready agent state, agent-queue membership, CDR routing and per-leg rows."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crm_core.enums import AgentState
from crm_core.exceptions import InvalidInput, UnknownAgent, UnknownQueue
from crm_core.models import AgentQueue, AgentStateChange, CallDetailRecord
from crm_core.services import join_queue, leave_queue, memberships, queue_members

UTC = dt.timezone.utc


def test_agent_state_log_accepts_every_acd_state_including_not_ready_with_a_reason_code(db_session, make_agent):
    agent = make_agent()
    for state in ("logged_out", "available", "ringing", "on_call", "wrap_up", "not_ready", "break"):
        db_session.add(AgentStateChange(agent_id=agent.id, state=state,
                                        reason="lunch-code-3" if state == "not_ready" else None))
    db_session.flush()
    db_session.expire_all()
    rows = db_session.scalars(select(AgentStateChange).where(AgentStateChange.agent_id == agent.id)
                              .order_by(AgentStateChange.id)).all()
    assert [r.state for r in rows][-2:] == [AgentState.NOT_READY, AgentState.BREAK]
    assert rows[-2].reason == "lunch-code-3"


def test_agent_state_log_refuses_an_unknown_state(db_session, make_agent):
    agent = make_agent()
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(AgentStateChange(agent_id=agent.id, state="napping"))
        db_session.flush()


def test_join_queue_by_id_or_name_then_rejoin_updates_penalty_and_logs_in(db_session, make_agent, make_queue):
    agent, sales, vip = make_agent(), make_queue(name="sales-t"), make_queue(name="vip-t")
    first = join_queue(db_session, agent.id, sales.id, penalty=2)
    join_queue(db_session, agent.id, "vip-t")
    assert (first.penalty, first.logged_in) == (2, True)
    assert [m.queue.name for m in memberships(db_session, agent.id)] == ["vip-t", "sales-t"]  # lowest penalty first
    leave_queue(db_session, agent.id, "sales-t")
    again = join_queue(db_session, agent.id, "sales-t", penalty=0)
    assert again.id == first.id and (again.penalty, again.logged_in) == (0, True)
    assert db_session.scalars(select(AgentQueue).where(AgentQueue.agent_id == agent.id)).all().__len__() == 2
    assert vip.id in {m.queue_id for m in memberships(db_session, agent.id)}


def test_leave_queue_logs_out_but_keeps_the_membership_unless_removed(db_session, make_agent, make_queue):
    agent, queue = make_agent(), make_queue()
    join_queue(db_session, agent.id, queue.id, penalty=3)
    kept = leave_queue(db_session, agent.id, queue.id)
    assert kept is not None and (kept.logged_in, kept.penalty) == (False, 3)
    assert memberships(db_session, agent.id, logged_in_only=True) == []
    assert queue_members(db_session, queue.id) == [] and len(queue_members(db_session, queue.id,
                                                                           logged_in_only=False)) == 1
    assert leave_queue(db_session, agent.id, queue.id, remove=True) is None
    assert memberships(db_session, agent.id) == []
    assert leave_queue(db_session, agent.id, queue.id) is None  # not a member: nothing to do


def test_queue_members_are_the_logged_in_agents_lowest_penalty_first(db_session, make_agent, make_queue):
    queue = make_queue()
    a, b, c = make_agent(), make_agent(), make_agent()
    join_queue(db_session, a.id, queue.id, penalty=5)
    join_queue(db_session, b.id, queue.id, penalty=1)
    join_queue(db_session, c.id, queue.id, penalty=0, logged_in=False)
    assert [m.agent_id for m in queue_members(db_session, queue.name)] == [b.id, a.id]


def test_membership_refuses_unknown_agent_unknown_queue_and_negative_penalty(db_session, make_agent, make_queue):
    agent, queue = make_agent(), make_queue()
    with pytest.raises(UnknownAgent):
        join_queue(db_session, 999_999, queue.id)
    with pytest.raises(UnknownQueue):
        join_queue(db_session, agent.id, "no-such-queue")
    with pytest.raises(UnknownQueue):
        join_queue(db_session, agent.id, 999_999)
    with pytest.raises(InvalidInput):
        join_queue(db_session, agent.id, queue.id, penalty=-1)


def test_membership_pair_is_unique_in_the_database(db_session, make_agent, make_queue):
    agent, queue = make_agent(), make_queue()
    join_queue(db_session, agent.id, queue.id)
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(AgentQueue(agent_id=agent.id, queue_id=queue.id))
        db_session.flush()


def test_cdr_keeps_routing_decisions_and_per_leg_rows_linked_to_the_caller_leg(db_session, make_agent):
    agent = make_agent()
    now = dt.datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    routing = [{"step": "previous-agent", "agent_id": agent.id, "chosen": False, "reason": "busy"},
               {"step": "longest-idle", "agent_id": agent.id, "chosen": True, "reason": "skill sales>=3, idle 95s"}]
    caller = CallDetailRecord(uuid="leg-a", entered_at=now, routing={"decisions": routing}, leg="caller")
    agent_leg = CallDetailRecord(uuid="leg-b", entered_at=now, leg="agent", parent_uuid="leg-a", agent_id=agent.id,
                                 direction="outbound")
    plain = CallDetailRecord(uuid="leg-c", entered_at=now)  # rows written before 0003 look like this
    db_session.add_all([caller, agent_leg, plain])
    db_session.flush()
    db_session.expire_all()
    legs = db_session.scalars(select(CallDetailRecord).where(CallDetailRecord.parent_uuid == "leg-a")).all()
    assert [leg.uuid for leg in legs] == ["leg-b"]
    assert db_session.get(CallDetailRecord, caller.id).routing["decisions"][1]["reason"].startswith("skill")
    assert (plain.routing, plain.leg, plain.parent_uuid) == (None, None, None)
