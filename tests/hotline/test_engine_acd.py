"""`hotline run` with the ACD wired in: a real Engine on the real reactor (port 0 everywhere), a migrated SQLite DB.

A simulated caller reaches the IVR, presses 0, is handed to the ACD through
hotline/handoff.py, rings a demo agent phone registered by the wiring, is
bridged; the CDR row gets queue, agent and times; the agent wraps up and is
available again. Feature-code calls (``hotline_feature`` set as the agents'
dialplan does) change agent states; a long wait offers a callback that keeps
the place, is committed, and calls the customer back to an agent.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_twisted
from sqlalchemy import select

from engine_rig import engine_settings, publish_menu, start_engine, wait_for
from crm_core.db import transaction
from crm_core.models import Agent, AgentSkill, AgentStateChange, CallbackRequest, CallDetailRecord, Queue, \
    QueueSkill, Skill

def seed(url: str, tmp: Path) -> None:
    from crm_core.db import make_engine, session_factory
    from crm_core.migrate import upgrade

    upgrade(url)
    engine = make_engine(url)
    with transaction(session_factory(engine)) as s:
        sales = Skill(name="sales")
        s.add(sales)
        for i, ext in enumerate(("1001", "1002"), 1):
            agent = Agent(login=f"agent{i}", name=f"Agent {i}", extension=ext, password_hash="x")
            agent.skills = [AgentSkill(skill=sales, level=5 + i)]
            s.add(agent)
        queue = Queue(name="sales", strategy="longest-idle-agent", wrapup_seconds=1, sl_target_seconds=20,
                      sl_target_percent=80)
        queue.required_skills = [QueueSkill(skill=sales, min_level=1)]
        s.add(queue)
        publish_menu(s, tmp)
    engine.dispose()


@pytest.fixture
def hotline(tmp_path, database_maker):
    url = database_maker("sqlite")
    seed(url, tmp_path)
    engine = start_engine(engine_settings(url, tmp_path), web=False)
    pytest_twisted.blockon(engine.switch.when_connected())
    for ext in ("1001", "1002"):  # quicker than the demo's phones
        engine.simulator.directory.register(ext, answer_after=0.3, talk_seconds=1.0)
    yield engine
    engine.acd.stop()
    pytest_twisted.blockon(engine.stop())


def db(engine, fn):
    with transaction(engine.sessions) as s:
        return fn(s)


@pytest_twisted.ensureDeferred
async def test_engine_caller_presses_0_is_bridged_to_agent_phone_cdr_written_agent_wraps_up(hotline):
    acd = hotline.acd.acd
    states: list[tuple[int, str]] = []
    acd.bus.subscribe("acd.agent_state", lambda _t, p: states.append((p["agent_id"], p["state"])))
    assert {a.state.value for a in acd.board.all()} == {"available"}  # demo mode logged them in
    call = hotline.simulator.place_call("13912345678", "4008001234", "wait_prompt 2; wait 0.2; press 0; wait_hangup")
    outcome = await wait_for(lambda: hotline.acd.handoff.outcomes and hotline.acd.handoff.outcomes[-1],
                             timeout=30, what="the ACD outcome", call=call)  # a 10 s greeting comes first
    assert outcome.kind == "served" and outcome.agent_id in (1, 2)
    agent_id = outcome.agent_id
    assert any(e["event"] == "bridge" for e in call.transcript)
    await wait_for(lambda: acd.board.get(agent_id).state.value == "available", what="wrap-up to end")
    mine = [s for a, s in states if a == agent_id]
    assert mine[:4] == ["ringing", "on_call", "wrap_up", "available"]

    def cdr(s):
        return s.scalar(select(CallDetailRecord).where(CallDetailRecord.uuid == call.uuid))

    row = await wait_for(lambda: (r := db(hotline, cdr)) is not None and r.wrapup_ended_at is not None and r,
                         what="the CDR")
    sales_id = db(hotline, lambda s: s.scalar(select(Queue.id).where(Queue.name == "sales")))
    assert (row.queue_id, row.agent_id, row.disposition) == (sales_id, agent_id, "answered")
    assert row.queued_at <= row.answered_at <= row.ended_at <= row.wrapup_ended_at
    logged = db(hotline, lambda s: [r.state for r in s.scalars(select(AgentStateChange).where(
        AgentStateChange.agent_id == agent_id).order_by(AgentStateChange.id))])
    assert logged[-4:] == ["ringing", "on_call", "wrap_up", "available"]
    assert 'hotline_acd_answered_today{queue="sales"} 1' in hotline.acd.metrics_text()


def dial_feature(hotline, code: str, feature: str, reason: str = "", agent: str = "1", extension: str = "1001"):
    """A feature-code call from an agent phone, marked as dialplans/default/agents.xml marks it."""
    variables = {"hotline_feature": feature, "hotline_feature_agent": agent, "hotline_feature_extension": extension,
                 "hotline_entry": "feature"}
    if reason:
        variables["hotline_feature_reason"] = reason
    return hotline.simulator.place_call(extension, code, "wait_hangup", variables=variables)


@pytest_twisted.ensureDeferred
async def test_engine_feature_codes_from_agent_phone_change_state_confirm_and_hang_up(hotline):
    """The documented sequence: *61 logs in (not ready), *63 makes ready; asking again is confirmed, not refused."""
    acd = hotline.acd.acd
    for code, feature, reason, expected in [("*64", "not_ready", "1", ("break", "lunch")),
                                            ("*63", "ready", "", ("available", None)),
                                            ("*62", "logout", "", ("logged_out", None)),
                                            ("*61", "login", "", ("not_ready", None)),
                                            ("*61", "login", "", ("not_ready", None)),
                                            ("*63", "ready", "", ("available", None)),
                                            ("*63", "ready", "", ("available", None))]:
        call = dial_feature(hotline, code, feature, reason)
        await wait_for(lambda: call.finished.called, timeout=30, what=f"{code} to hang up", call=call)
        agent = acd.board.get(1)
        assert (agent.state.value, agent.reason) == expected, code
        assert any(e["event"] == "prompt" for e in call.transcript), code
    assert acd.board.get(1).queues == {"sales"}
    assert [r for _a, _f, r in hotline.acd.features.handled] == ["break", "ready", "logout", "login", "login",
                                                                 "ready", "ready"]
    assert "error" not in [r for _a, _f, r in hotline.acd.features.handled]


@pytest_twisted.ensureDeferred
async def test_engine_feature_code_changes_the_state_only_after_the_confirmation_has_played(hotline):
    acd = hotline.acd.acd
    acd.set_state(1, "not_ready", "meeting")
    call = dial_feature(hotline, "*63", "ready")
    prompt = await wait_for(lambda: next((e for e in call.transcript if e["event"] == "prompt"), None),
                            timeout=30, what="the confirmation to start", call=call)
    from ivr.prompts.tts import wav_duration

    assert wav_duration(Path(prompt["file"])) > 1.0
    assert acd.board.get(1).state.value == "not_ready"  # still: the phone is hearing the confirmation
    await wait_for(lambda: call.finished.called, timeout=30, what="*63 to hang up", call=call)
    assert acd.board.get(1).state.value == "available"


@pytest_twisted.ensureDeferred
async def test_engine_never_offers_a_queued_caller_to_a_phone_still_on_its_feature_call(hotline):
    """A caller is waiting; the agent dials *63: the phone rings for the caller only after the *63 call is over."""
    acd = hotline.acd.acd
    for agent_id in (1, 2):
        acd.set_state(agent_id, "not_ready", "meeting")
    acd.queues["sales"].config.announce_every = None
    rung: list[float] = []
    acd.bus.subscribe("acd.agent_state", lambda _t, p: p["agent_id"] == 1 and p["state"] == "ringing"
                      and rung.append(hotline.reactor.seconds()))
    caller = hotline.simulator.place_call("13912345678", "4008001234", "wait_prompt 2; wait 0.2; press 0; wait_hangup")
    await wait_for(lambda: acd.queues["sales"].waiting_count() == 1, timeout=30, what="the caller in line",
                   call=caller)
    feature = dial_feature(hotline, "*63", "ready")
    await wait_for(lambda: feature.finished.called, timeout=30, what="*63 to hang up", call=feature)
    await wait_for(lambda: rung, timeout=15, what="the caller to be offered to agent 1", call=caller)
    hung_up = next(e for e in feature.transcript if e["event"] == "hangup")
    assert rung[0] >= feature.started + hung_up["t"]  # the phone was free when it rang for the caller
    await wait_for(lambda: any(e["event"] == "bridge" for e in caller.transcript), timeout=15,
                   what="the caller to be bridged", call=caller)


@pytest_twisted.ensureDeferred
async def test_engine_long_wait_offers_callback_caller_keeps_place_and_is_called_back_to_an_agent(hotline):
    acd = hotline.acd.acd
    for agent_id in (1, 2):
        acd.set_state(agent_id, "break", "meeting")
    cq = acd.queues["sales"]
    cq.config.callback_after = 0.0  # nobody available: any wait is too long
    cq.config.announce_every = None
    hotline.simulator.directory.external["13912345678"] = type(hotline.simulator.directory.default_external)(
        answer_after=0.3)
    call = hotline.simulator.place_call("13912345678", "4008001234", "wait_prompt 2; wait 0.2; press 0; wait 4; press 1; "
                                                                     "wait_hangup")
    outcome = await wait_for(lambda: hotline.acd.handoff.outcomes and hotline.acd.handoff.outcomes[-1],
                             timeout=20, what="the callback choice", call=call)
    assert outcome.kind == "callback"
    await wait_for(lambda: call.finished.called, timeout=30, what="the caller to be hung up", call=call)
    request = await wait_for(lambda: db(hotline, lambda s: s.scalar(select(CallbackRequest))), what="the request")
    assert request.queue_name == "sales" and request.call_uuid == call.uuid and request.status == "pending"
    virtual = [c for c in cq if c.callback is not None]
    assert len(virtual) == 1 and virtual[0].entered_at <= acd.clock.seconds()
    acd.set_state(2, "available")  # the turn comes: agent 2 is reserved, the customer called back and bridged
    await wait_for(lambda: acd.board.get(2).state.value == "on_call", what="the callback to be bridged")
    row = await wait_for(lambda: (r := db(hotline, lambda s: s.get(CallbackRequest, request.id))).status == "done"
                         and r, what="the callback to be done")
    assert row.attempts == 1
    leg = db(hotline, lambda s: s.scalar(select(CallDetailRecord).where(CallDetailRecord.uuid == row.call_uuid)))
    assert leg.direction == "outbound" and leg.agent_id == 2 and leg.answered_at is not None
