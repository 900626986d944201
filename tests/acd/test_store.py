"""The ACD's record in crm_core on the real databases (rolled-back session): state log, the CDRs the ACD reports
(through the engine's call recorder), history, config."""

from __future__ import annotations

import itertools

import pytest
import pytest_twisted
from sqlalchemy import select
from twisted.internet.task import Clock

from acd import Acd, Overflow
from acd.agents import AgentState, StateChange
from acd.records import CdrEvent
from acd.store import (
    DbHistory,
    DbStateLog,
    configure,
    last_states,
    load_agents,
    load_queue_configs,
)
from crm_core.models import (
    Agent,
    AgentQueue,
    AgentSkill,
    AgentStateChange,
    CallDetailRecord,
    Queue,
    QueueSkill,
    Skill,
)
from hotline.db_gateway import InlineGateway
from hotline.recorder import CallRecorder

_n = itertools.count(1)
T0 = 1_800_000_000.0


@pytest.fixture
def gateway(db_session):
    return InlineGateway(db_session)


def DbCdr(gateway) -> CallRecorder:
    """The ACD's CDR port on the database: the engine's call recorder."""
    return CallRecorder(gateway, Clock())


def make_queues(db_session, *names: str) -> list[str]:
    """Queues named ``names`` plus a unique suffix (rolled back with the test); their names."""
    tag = next(_n)
    made = [Queue(name=f"{name}{tag}", strategy="longest-idle-agent") for name in names]
    db_session.add_all(made)
    db_session.flush()
    return [q.name for q in made]


@pytest.fixture
def make_agent(db_session):
    def make(skills: dict[str, int] | None = None) -> Agent:
        n = next(_n)
        agent = Agent(login=f"agent{n}", name=f"Agent {n}", extension=f"{2000 + n}", password_hash="x")
        db_session.add(agent)
        db_session.flush()
        for name, level in (skills or {}).items():
            skill = db_session.scalar(select(Skill).where(Skill.name == name)) or Skill(name=name)
            db_session.add(AgentSkill(agent=agent, skill=skill, level=level))
        db_session.flush()
        return agent
    return make


def test_state_log_writes_every_change_and_reads_back_the_last_one(db_session, gateway, make_agent):
    agent = make_agent()
    queues = tuple(make_queues(db_session, "sales", "support"))
    log = DbStateLog(gateway)
    log.record(StateChange(agent.id, AgentState.AVAILABLE, None, None, T0, queues))
    log.record(StateChange(agent.id, AgentState.NOT_READY, "no answer", "c-1", T0 + 5, queues))
    rows = db_session.scalars(select(AgentStateChange).where(AgentStateChange.agent_id == agent.id)).all()
    assert len(rows) == 2 and rows[1].at.timestamp() == T0 + 5
    assert [(r.state, r.reason) for r in rows] == [("available", None), ("not_ready", "no answer")]
    (last,) = [c for c in last_states(db_session) if c.agent_id == agent.id]
    assert (last.state, last.reason, last.call_uuid, last.queues) == (
        AgentState.NOT_READY, "no answer", "c-1", queues)


def test_queue_membership_lives_in_agent_queues_and_logging_out_keeps_it(db_session, gateway, make_agent):
    agent = make_agent()
    sales, support = make_queues(db_session, "sales", "support")
    log = DbStateLog(gateway)
    log.record(StateChange(agent.id, AgentState.AVAILABLE, None, None, T0, (sales, support)))
    log.record(StateChange(agent.id, AgentState.AVAILABLE, None, None, T0 + 1, (sales,)))

    def members() -> dict[str, bool]:
        rows = db_session.execute(select(Queue.name, AgentQueue.logged_in).join(Queue, Queue.id == AgentQueue.queue_id)
                                  .where(AgentQueue.agent_id == agent.id)).all()
        return dict(rows)

    assert members() == {sales: True, support: False}
    log.record(StateChange(agent.id, AgentState.LOGGED_OUT, None, None, T0 + 2, ()))
    assert members() == {sales: False, support: False}
    reasons = db_session.scalars(select(AgentStateChange.reason).where(AgentStateChange.agent_id == agent.id)).all()
    assert not any(r and "queues=" in r for r in reasons)  # no list in the reason column any more
    (last,) = [c for c in last_states(db_session) if c.agent_id == agent.id]
    assert (last.state, last.queues) == (AgentState.LOGGED_OUT, ())


def test_cdr_rows_are_upserted_per_call_through_queued_answered_ended(db_session, gateway, make_agent,
                                                                        make_customer):
    agent, customer = make_agent(), make_customer()
    cdr = DbCdr(gateway)
    cdr.report(CdrEvent("queued", "u-1", T0, {"ani": "+8613800000001", "customer_id": customer.id, "entered_at": T0}))
    cdr.report(CdrEvent("answered", "u-1", T0 + 12, {"agent_id": agent.id}))
    cdr.report(CdrEvent("ended", "u-1", T0 + 100, {"disposition": "answered", "hangup_cause": "NORMAL_CLEARING"}))
    (row,) = db_session.scalars(select(CallDetailRecord).where(CallDetailRecord.uuid == "u-1")).all()
    assert row.agent_id == agent.id and row.customer_id == customer.id
    assert (row.answered_at - row.queued_at).total_seconds() == 12
    assert row.disposition == "answered" and row.ended_at.timestamp() == T0 + 100


def test_previous_agent_lookup_finds_the_last_agent_within_the_window(db_session, gateway, make_agent,
                                                                       make_customer):
    old, recent = make_agent(), make_agent()
    customer = make_customer()
    cdr = DbCdr(gateway)
    for uuid, agent, at in (("p-1", old, T0 - 10 * 86400), ("p-2", recent, T0 - 2 * 86400)):
        cdr.report(CdrEvent("queued", uuid, at, {"customer_id": customer.id, "entered_at": at}))
        cdr.report(CdrEvent("answered", uuid, at + 5, {"agent_id": agent.id}))
    history = DbHistory(gateway)
    found = []
    history.previous_agent(customer.id, "", T0 - 30 * 86400).addCallback(found.append)
    history.previous_agent(customer.id, "", T0 - 1 * 86400).addCallback(found.append)
    assert found == [recent.id, None]


def test_queues_and_agents_load_from_crm_core(db_session, make_agent):
    skill = Skill(name=f"returns{next(_n)}")
    queue = Queue(name=f"q{next(_n)}", strategy="skills_based", wrapup_seconds=7, max_wait_seconds=90,
                  overflow_target="voicemail")
    queue.required_skills.append(QueueSkill(skill=skill, min_level=4))
    db_session.add(queue)
    agent = make_agent({skill.name: 6})
    db_session.flush()
    (config,) = [c for c in load_queue_configs(db_session, announce_every=None) if c.name == queue.name]
    assert config.required_skills == {skill.name: 4} and config.overflow == Overflow("voicemail")
    assert config.wrapup_seconds == 7 and config.db_id == queue.id
    assert (agent.id, agent.extension, agent.name, {skill.name: 6}) in load_agents(db_session)


def test_acd_on_the_database_routes_a_returning_customer_to_the_previous_agent(db_session, gateway, make_agent,
                                                                               make_customer):
    from acd_helpers import ScriptedLeg

    clock = Clock()
    clock.advance(T0)
    first_agent, second_agent = make_agent(), make_agent()
    customer = make_customer()
    queue = Queue(name=f"q{next(_n)}", strategy="previous_agent", wrapup_seconds=0)
    db_session.add(queue)
    db_session.flush()
    acd = Acd(clock, state_log=DbStateLog(gateway), cdr=DbCdr(gateway), history=DbHistory(gateway))
    configure(acd, load_queue_configs(db_session, announce_every=None, fallback_strategy="longest_idle"),
              load_agents(db_session))
    acd.login(second_agent.id, [queue.name])
    clock.advance(1)
    acd.login(first_agent.id, [queue.name])
    leg = ScriptedLeg()
    acd.enqueue(leg, queue.name, customer={"id": customer.id})
    assert leg.ring.extension == second_agent.extension  # no history yet: longest idle
    leg.ring.answer()
    clock.advance(30)
    leg.ring.end()
    again = ScriptedLeg()
    acd.enqueue(again, queue.name, customer={"id": customer.id})
    assert again.ring.extension == second_agent.extension
    row = db_session.scalar(select(CallDetailRecord).where(CallDetailRecord.uuid == leg.uuid))
    assert row.agent_id == second_agent.id and row.queue_id == queue.id and row.disposition == "answered"
    states = db_session.scalars(select(AgentStateChange.state).where(
        AgentStateChange.agent_id == second_agent.id).order_by(AgentStateChange.id)).all()
    assert states == ["available", "ringing", "on_call", "available", "ringing"]


@pytest_twisted.ensureDeferred
async def test_thread_pool_gateway_writes_the_state_log_off_the_reactor(fresh_db_url):
    import threading

    from twisted.internet import reactor

    from crm_core.db import make_engine, session_factory
    from crm_core.migrate import upgrade
    from hotline.db_gateway import ThreadPoolGateway

    upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    gateway = ThreadPoolGateway(session_factory(engine), reactor, max_threads=2, name="acd-db-test")
    try:
        reactor_thread = threading.get_ident()

        def add_agent(session):
            assert threading.get_ident() != reactor_thread
            agent = Agent(login="pool", name="Pool", extension="2999", password_hash="x")
            session.add_all([agent, Queue(name="sales", strategy="longest-idle-agent")])
            session.flush()
            return agent.id

        agent_id = await gateway.run(add_agent)
        await DbStateLog(gateway).record(StateChange(agent_id, AgentState.BREAK, "lunch", None, T0, ("sales",)))
        changes = await gateway.run(last_states)
        assert [(c.agent_id, c.state, c.reason, c.queues) for c in changes] == [
            (agent_id, AgentState.BREAK, "lunch", ("sales",))]
    finally:
        gateway.stop()
        engine.dispose()


def test_open_queue_calls_are_the_queued_cdrs_that_never_ended(db_session, gateway):
    from acd.store import open_queue_calls, ts

    queue = Queue(name=f"restart{next(_n)}", strategy="longest-idle-agent")
    db_session.add(queue)
    db_session.flush()
    cdr = DbCdr(gateway)

    def queued(uuid: str, at: float, **fields) -> None:
        cdr.report(CdrEvent("queued", uuid, at, {"queue_id": queue.id, "entered_at": at, **fields}))

    queued("r-waiting", T0 + 10)
    queued("r-talking", T0 + 20)
    cdr.report(CdrEvent("answered", "r-talking", T0 + 30, {"agent_id": None}))
    queued("r-ended", T0 + 5)
    cdr.report(CdrEvent("ended", "r-ended", T0 + 50, {"disposition": "abandoned"}))
    queued("r-old", T0 - 86_400)
    queued("r-callback", T0 + 15, direction="outbound")
    found = {c.uuid: c for c in open_queue_calls(db_session, ts(T0 - 3600)) if c.uuid.startswith("r-")}
    assert sorted(found) == ["r-talking", "r-waiting"]
    waiting, talking = found["r-waiting"], found["r-talking"]
    assert (waiting.queue, waiting.entered_at, waiting.answered) == (queue.name, T0 + 10, False)
    assert (talking.answered, talking.entered_at) == (True, T0 + 20)
