"""`hotline run` dials campaigns: a real Engine (simulator in process over loopback, SQLite), the dialer blended
through the ACD.

A progressive campaign whose queue is "sales" with one ACD agent on a
simulated phone: the contact answers, the ACD rings the agent (reason
``campaign``), the agent is bridged within the 2-second rule, the attempt is
closed answered with the agent, the call's CDR is an outbound row linked to
campaign and attempt, the live figures reach ``dialer_status``. A pause
through the CLI function stops new dialling while the call in flight ends.
The preview desk holds, dials and skips contacts for the agent.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
import pytest_twisted
from sqlalchemy import select

from crm_core.db import transaction
from crm_core.models import AgentStateChange, Campaign, CallDetailRecord, CampaignAttempt, CampaignContact, \
    DialerStatus, DoNotCall, Queue
from engine_rig import engine_settings, start_engine, wait_for
from test_engine_acd import seed

UTC = dt.timezone.utc


def midday_zone() -> str:
    """A fixed-offset zone where it is about 13:00 now, so the calling window (08:00-21:00) is open."""
    hour = dt.datetime.now(UTC).hour
    offset = (13 - hour + 12) % 24 - 12  # local = UTC + offset, within -12..+11
    return "UTC" if offset == 0 else f"Etc/GMT{'+' if offset < 0 else '-'}{abs(offset)}"  # Etc/GMT signs are inverted


def make_campaign(engine, numbers: list[str], *, name: str = "Care calls", mode: str = "progressive",
                  blend_rule: str = "dedicated", run: bool = True) -> int:
    from crm_core.services.campaign_contacts import ContactRow, add_contacts
    from crm_core.services.campaigns import Actor, change_campaign_status, create_campaign

    me = Actor("manager")
    with transaction(engine.sessions) as s:
        queue = s.scalar(select(Queue).where(Queue.name == "sales"))
        row = create_campaign(s, name, actor=me, mode=mode, caller_id="4008001234", queue_id=queue.id,
                              calling_hours_start=dt.time(8, 0), calling_hours_end=dt.time(21, 0),
                              timezone=midday_zone(), skip_holidays=False, blend_rule=blend_rule, retry_minutes=60)
        add_contacts(s, row.id, [ContactRow(n, {"name": f"客户{i}"}) for i, n in enumerate(numbers)])
        if run:
            change_campaign_status(s, row.id, "running", actor=me)
        return row.id


def rows(engine, model, *where):
    with transaction(engine.sessions) as s:
        out = list(s.scalars(select(model).where(*where)))
        for r in out:
            s.expunge(r)
        return out


@pytest.fixture
def hotline(tmp_path, database_maker):
    url = database_maker("sqlite")
    seed(url, tmp_path)
    engine = start_engine(engine_settings(url, tmp_path, HOTLINE_DIALER_TICK_SECONDS="0.2",
                                          HOTLINE_DIALER_STATUS_SECONDS="0.5", HOTLINE_DIALER_ENGINE_ID="box-a"),
                          web=False)
    pytest_twisted.blockon(engine.switch.when_connected())
    pytest_twisted.blockon(engine.dialing.started)
    acd = engine.acd.acd
    engine.simulator.directory.register("1001", answer_after=0.3, talk_seconds=2.0)
    acd.logout(2)  # one ACD agent: agent 1 on phone 1001, in "sales"
    yield engine
    engine.acd.stop()
    pytest_twisted.blockon(engine.stop())


def external(engine, number: str, **kw) -> None:
    from freeswitch.sim.phones import Endpoint

    engine.simulator.directory.external[number[3:]] = Endpoint(**kw)


@pytest_twisted.ensureDeferred
async def test_progressive_campaign_connects_the_acd_agent_within_2s_with_an_outbound_cdr(hotline):
    acd = hotline.acd.acd
    states: list[tuple[str, str | None]] = []
    acd.bus.subscribe("acd.agent_state", lambda _t, p: p["agent_id"] == 1 and states.append((p["state"], p["reason"])))
    number = "+8613800000001"
    external(hotline, number, answer_after=1.0, talk_seconds=60)
    campaign_id = make_campaign(hotline, [number])

    attempt = await wait_for(lambda: (a := rows(hotline, CampaignAttempt, CampaignAttempt.campaign_id == campaign_id))
                             and a[0].connected_at and a[0], timeout=20, what="the agent connected")
    assert attempt.agent_id == 1 and attempt.wait_to_agent_seconds < 2.0
    assert acd.board.get(1).state.value == "on_call" and acd.board.get(1).reason == "campaign"
    live = await wait_for(lambda: rows(hotline, DialerStatus, DialerStatus.campaign_id == campaign_id),
                          what="the live figures stored")
    assert live[0].engine_id == "box-a" and live[0].figures["active"] is True

    # the agent hangs up after 2 s of talk: attempt closed answered, wrap-up with the campaign reason, available
    closed = await wait_for(lambda: (a := rows(hotline, CampaignAttempt, CampaignAttempt.id == attempt.id))
                            and a[0].ended_at and a[0], timeout=20, what="the attempt closed")
    assert (closed.result, closed.agent_id) == ("answered", 1)
    await wait_for(lambda: acd.board.get(1).state.value == "available", what="wrap-up over")
    assert [s for s, _r in states][:4] == ["ringing", "on_call", "wrap_up", "available"]
    assert all(r == "campaign" for s, r in states[:3])
    logged = rows(hotline, AgentStateChange, AgentStateChange.agent_id == 1, AgentStateChange.state == "on_call")
    assert logged and logged[-1].reason.startswith("campaign")

    cdr = await wait_for(lambda: (r := rows(hotline, CallDetailRecord, CallDetailRecord.uuid == closed.call_uuid))
                         and r[0].ended_at and r[0], what="the CDR closed")
    assert (cdr.direction, cdr.campaign_id, cdr.agent_id, cdr.disposition) == ("outbound", campaign_id, 1, "answered")
    assert cdr.links["campaign_attempts"] == [attempt.id] and cdr.dnis == number
    assert cdr.answered_at is not None and cdr.queue_id is not None
    with transaction(hotline.sessions) as s:
        assert s.get(Campaign, campaign_id).status == "completed"  # the only contact is done
        from admin.reports.agents import agent_report
        from admin.reports.period import Period

        today = dt.datetime.now(UTC).date()
        report = agent_report(s, Period(today, today))
        row = dict(zip(report.columns, next(r for r in report.rows if r[0] == "agent1")))
        assert (row["outbound_calls"], row["inbound_calls"]) == (1, 0)  # campaign work in the agent report
        assert row["outbound_talk_seconds"] > 0 and row["talk_seconds"] > 0


@pytest_twisted.ensureDeferred
async def test_cli_pause_stops_new_dialling_while_the_call_in_flight_finishes(hotline):
    from hotline.campaign_command import change_status, show_status

    numbers = [f"+861380000010{i}" for i in range(3)]
    for n in numbers:
        external(hotline, n, answer_after=1.0, talk_seconds=60)
    campaign_id = make_campaign(hotline, numbers, name="Reminders")
    first = await wait_for(lambda: (a := rows(hotline, CampaignAttempt, CampaignAttempt.campaign_id == campaign_id))
                           and a[0].connected_at and a[0], timeout=20, what="the first call connected")
    out, err = io.StringIO(), io.StringIO()
    with transaction(hotline.sessions) as s:
        assert change_status(s, "Reminders", "pause", out, err) == 0
    assert "running -> paused" in out.getvalue()

    await wait_for(lambda: (a := rows(hotline, CampaignAttempt, CampaignAttempt.id == first.id)) and a[0].ended_at,
                   timeout=20, what="the call in flight to finish")
    await wait_for(lambda: hotline.acd.acd.board.get(1).state.value == "available", what="the agent free again")
    from twisted.internet import reactor, task

    await task.deferLater(reactor, 1.5, lambda: None)  # several ticks with a free agent
    attempts = rows(hotline, CampaignAttempt, CampaignAttempt.campaign_id == campaign_id)
    assert [a.id for a in attempts] == [first.id] and attempts[0].result == "answered"

    out = io.StringIO()
    with transaction(hotline.sessions) as s:
        assert show_status(s, str(campaign_id), True, out, err) == 0
    report = json.loads(out.getvalue())
    assert report["status"] == "paused" and report["contacts_pending"] == 2 and report["results"] == {"answered": 1}
    assert report["engine_running"] and report["engines"][0]["engine_id"] == "box-a"

    with transaction(hotline.sessions) as s:  # resumed: the next contact is dialled
        assert change_status(s, str(campaign_id), "resume", io.StringIO(), err) == 0
    await wait_for(lambda: len(rows(hotline, CampaignAttempt, CampaignAttempt.campaign_id == campaign_id)) == 2,
                   timeout=10, what="dialling again")


@pytest_twisted.ensureDeferred
async def test_preview_desk_next_dial_skip(hotline):
    preview = hotline.preview
    numbers = ["+8613800000201", "+8613800000202", "+8613800000203"]
    external(hotline, numbers[0], answer_after=1.0, talk_seconds=60)
    campaign_id = make_campaign(hotline, numbers, name="Preview", mode="preview")
    await wait_for(lambda: hotline.dialer.settings_of(campaign_id), what="the dialer to know the campaign")
    from twisted.internet import reactor, task

    await task.deferLater(reactor, 0.6, lambda: None)
    assert rows(hotline, CampaignAttempt, CampaignAttempt.campaign_id == campaign_id) == []  # preview: no dialling

    assert await preview.next(2) is None  # agent 2 is not in the campaign's queue
    card = await preview.next(1)
    assert card["campaign_id"] == campaign_id and card["campaign_name"] == "Preview"
    assert card["number"] == numbers[0] and card["fields"] == {"name": "客户0"} and card["customer_id"] is None
    assert await preview.next(1) == card  # held until dialled or skipped

    placed = await preview.dial(1, card["attempt_id"])
    attempt = await wait_for(lambda: (a := rows(hotline, CampaignAttempt, CampaignAttempt.id == card["attempt_id"]))
                             and a[0].connected_at and a[0], timeout=20, what="the agent connected")
    assert placed == {"call_uuid": attempt.call_uuid} and attempt.agent_id == 1 and attempt.mode == "preview"
    assert hotline.acd.acd.board.get(1).reason == "campaign"
    await wait_for(lambda: rows(hotline, CampaignAttempt, CampaignAttempt.id == attempt.id)[0].ended_at, timeout=20,
                   what="the preview call over")

    second = await preview.next(1)
    assert second["number"] == numbers[1]
    with pytest.raises(ValueError):
        await preview.skip(1, second["attempt_id"], "bored")
    await preview.skip(1, second["attempt_id"], "do_not_call")
    third = await preview.next(1)
    await preview.skip(1, third["attempt_id"], "later")
    with transaction(hotline.sessions) as s:
        contacts = {c.number: c for c in s.scalars(select(CampaignContact)
                                                   .where(CampaignContact.campaign_id == campaign_id))}
        assert (contacts[numbers[1]].status, contacts[numbers[1]].skip_reason) == ("skipped", "do_not_call")
        assert s.get(DoNotCall, numbers[1]) is not None
        assert contacts[numbers[2]].status == "pending" and contacts[numbers[2]].attempts == 0
        closed = {a.number: (a.result, a.hangup_cause) for a in s.scalars(
            select(CampaignAttempt).where(CampaignAttempt.campaign_id == campaign_id))}
        assert closed[numbers[1]] == ("skipped", "do_not_call") and closed[numbers[2]] == ("skipped", "later")
    assert await preview.next(1) is None  # the last contact is due in an hour
