"""The call recorder owns every call's CDR: what the parts report becomes one row per call (segment), written as the
call goes, closed by the hang-up or, after a crash, by restart recovery."""

from __future__ import annotations

import datetime as dt

import pytest_twisted
from sqlalchemy import select
from twisted.internet.task import Clock

from crm_core import call_events as ev
from crm_core.call_events import CallEvent
from crm_core.models import CallDetailRecord
from engine_rig import engine_settings, publish_menu, start_engine, wait_for
from hotline.db_gateway import InlineGateway
from hotline.recorder import CallRecorder, _Call

T0 = 1_800_000_000.0


def row(db_session, uuid: str) -> CallDetailRecord:
    db_session.expire_all()
    return db_session.scalars(select(CallDetailRecord).where(CallDetailRecord.uuid == uuid)).one()


def recorder_on(db_session) -> CallRecorder:
    clock = Clock()
    clock.advance(T0)
    return CallRecorder(InlineGateway(db_session), clock)


def test_ivr_and_acd_reports_make_one_row_and_the_hang_up_fills_only_what_is_unknown(db_session, make_agent):
    agent = make_agent()
    recorder = recorder_on(db_session)
    recorder.calls["c-1"] = _Call(whole=True)  # as ``entered`` does for a call seen from its first event
    report = recorder.report
    report(CallEvent(ev.ENTERED, "c-1", T0, {"ani": "+8613800000001", "dnis": "4008001234"}))
    for node in ("language", "main", "agent"):
        report(CallEvent(ev.IVR_NODE, "c-1", T0 + 1, {"node": node}))
    report(CallEvent(ev.IVR_OUTCOME, "c-1", T0 + 5, {"outcome": "to_agent", "exit_node": "agent"}))
    report(CallEvent(ev.QUEUED, "c-1", T0 + 5, {"queue_id": None, "entered_at": T0 + 5}))
    decisions = [{"agent_id": agent.id, "reason": "longest idle"}]
    report(CallEvent(ev.ANSWERED, "c-1", T0 + 20, {"agent_id": agent.id, "agent_leg_uuid": "leg-7",
                                                     "decisions": decisions}))
    report(CallEvent(ev.ENDED, "c-1", T0 + 80, {"disposition": "answered", "hangup_cause": "NORMAL_CLEARING",
                                                  "hangup_side": "agent", "agent_id": agent.id,
                                                  "decisions": decisions}))
    report(CallEvent(ev.HANGUP, "c-1", T0 + 81, {"cause": "NORMAL_CLEARING", "side": "system"}))
    got = row(db_session, "c-1")
    assert got.ivr_path == "language>main>agent" and got.ivr_outcome == "to_agent"
    assert got.disposition == "answered" and got.routing == decisions
    assert got.links == {"agent_legs": ["leg-7"]}
    assert got.hangup_side == "agent"  # the ACD knew first: the agent ended the conversation
    assert got.ended_at.timestamp() == T0 + 80  # the hang-up a second later changes nothing the ACD wrote
    assert (got.answered_at - got.queued_at).total_seconds() == 15


def test_a_transferred_callers_hang_up_closes_its_current_segment_too(db_session):
    recorder = recorder_on(db_session)
    recorder.calls["c-2"] = _Call(whole=True)
    recorder.report(CallEvent(ev.ENTERED, "c-2", T0, {}))
    recorder.report(CallEvent(ev.ENDED, "c-2", T0 + 30, {"disposition": "transferred"}))
    recorder.report(CallEvent(ev.QUEUED, "seg-2", T0 + 30, {"leg": "transfer", "parent_uuid": "c-2",
                                                              "entered_at": T0}))
    recorder.report(CallEvent(ev.HANGUP, "c-2", T0 + 90, {"cause": "NORMAL_CLEARING", "side": "caller"}))
    first, second = row(db_session, "c-2"), row(db_session, "seg-2")
    assert first.ended_at.timestamp() == T0 + 30 and first.disposition == "transferred"
    assert (second.parent_uuid, second.leg, second.hangup_side) == ("c-2", "transfer", "caller")
    assert second.ended_at.timestamp() == T0 + 90
    assert "c-2" not in recorder.calls


def test_a_recorder_that_restarted_mid_call_appends_to_what_the_first_one_wrote(db_session):
    first = recorder_on(db_session)
    first.calls["c-3"] = _Call(whole=True)
    first.report(CallEvent(ev.ENTERED, "c-3", T0, {}))
    first.report(CallEvent(ev.IVR_NODE, "c-3", T0 + 1, {"node": "main"}))
    first.report(CallEvent(ev.LINKED, "c-3", T0 + 2, {"kind": "orders", "value": "1000000018"}))
    second = recorder_on(db_session)  # the call reconnected to a new engine: no memory of it
    second.report(CallEvent(ev.ENTERED, "c-3", T0 + 60, {}))
    second.report(CallEvent(ev.IVR_NODE, "c-3", T0 + 61, {"node": "complaint"}))
    second.report(CallEvent(ev.LINKED, "c-3", T0 + 62, {"kind": "complaints", "value": 5}))
    got = row(db_session, "c-3")
    assert got.ivr_path == "main>complaint" and got.entered_at.timestamp() == T0
    assert got.links == {"orders": ["1000000018"], "complaints": [5]}


def test_an_event_the_recorder_cannot_understand_is_logged_not_raised(db_session, caplog):
    recorder = recorder_on(db_session)
    recorder.report(CallEvent(ev.LINKED, "c-4", T0, {"kind": "parcels", "value": 1}))
    assert "not understood" in caplog.text


@pytest_twisted.ensureDeferred
async def test_at_start_rows_a_crashed_engine_left_open_are_closed_when_their_channel_is_gone(tmp_path):
    from crm_core.db import make_engine, session_factory, transaction
    from crm_core.migrate import upgrade
    from crm_core.services.calls import CallUpdate, write_call_updates

    url = f"sqlite:///{tmp_path / 'engine.db'}"
    upgrade(url)
    db = make_engine(url)
    now = dt.datetime.now(dt.timezone.utc)
    with transaction(session_factory(db)) as session:
        publish_menu(session, tmp_path)
        write_call_updates(session, [
            CallUpdate("left-in-ivr", {"entered_at": now - dt.timedelta(minutes=3), "ivr_path": "main"},
                       opened=True),
            CallUpdate("ancient", {"entered_at": now - dt.timedelta(days=2)}, opened=True)])
    db.dispose()
    engine = start_engine(engine_settings(url, tmp_path), web=False)
    try:
        await wait_for(lambda: engine.acd.recovery is not None and engine.acd.recovery.called, timeout=20,
                       what="restart recovery")
        await engine.acd.recovery
        with transaction(engine.sessions) as session:
            rows = {r.uuid: (r.disposition, r.hangup_cause, r.ended_at is not None)
                    for r in session.scalars(select(CallDetailRecord))}
        assert rows == {"left-in-ivr": ("interrupted", "ENGINE_RESTART", True),
                        "ancient": ("interrupted", "STALE", True)}
    finally:
        await engine.stop()
        engine.acd.stop()


def test_menu_nodes_reached_are_written_with_the_next_event_or_a_few_seconds_later(db_session):
    recorder = recorder_on(db_session)
    recorder.calls["c-5"] = _Call(whole=True)
    recorder.report(CallEvent(ev.ENTERED, "c-5", T0, {}))
    recorder.report(CallEvent(ev.IVR_NODE, "c-5", T0 + 1, {"node": "language"}))
    recorder.report(CallEvent(ev.IVR_NODE, "c-5", T0 + 2, {"node": "main"}))
    assert row(db_session, "c-5").ivr_path is None  # not a row update per key press
    recorder.clock.advance(recorder.path_flush_seconds)
    assert row(db_session, "c-5").ivr_path == "language>main"
    recorder.report(CallEvent(ev.IVR_NODE, "c-5", T0 + 8, {"node": "points"}))
    recorder.report(CallEvent(ev.IDENTIFIED, "c-5", T0 + 9, {"customer_id": None}))
    assert row(db_session, "c-5").ivr_path == "language>main>points"  # went along with the next event
