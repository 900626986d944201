"""The dialer on the real path: crm_core on SQLite and PostgreSQL, the Switch client and the CallServer over
loopback TCP to the simulator, time on a ``task.Clock``. Calling hours, DNC at dial time, attempts and retry
spacing, the 2-s rule, pause, machines, live edits and a restart mid-campaign."""

from __future__ import annotations

import datetime as dt

import pytest
import pytest_twisted
from sqlalchemy import select

from crm_core.models import CampaignContact, DoNotCall
from crm_core.services.campaigns import change_campaign_status, update_campaign
from dialer_rig import ME, finish, make
from freeswitch.sim.phones import Endpoint


@pytest.fixture
def rig(tmp_path, db_session):
    made = make(tmp_path, db_session)
    yield made
    finish(made)


def contact_of(session, campaign_id, number):
    session.expire_all()
    return session.scalars(select(CampaignContact).where(CampaignContact.campaign_id == campaign_id,
                                                         CampaignContact.number == number)).one()


def numbers(factories, n):
    return [f"+86{factories.new_mobile()}" for _ in range(n)]


@pytest_twisted.ensureDeferred
async def test_every_contact_gets_an_attempt_with_its_switch_result(rig, factories, db_session):
    person, silent, busy, gone, machine = numbers(factories, 5)
    ext = rig.sim.directory.external
    ext[person[3:]] = Endpoint(answer_after=4.0, greeting_seconds=0.7, talk_seconds=40)
    ext[silent[3:]] = Endpoint(answer_after=None)
    ext[busy[3:]] = Endpoint(busy=True, fail_after=1.0)
    ext[gone[3:]] = Endpoint(fail_cause="UNALLOCATED_NUMBER", fail_after=0.5)
    ext[machine[3:]] = Endpoint(answer_after=12.0, machine=True, greeting_seconds=8.0)
    await rig.start(agents=5)
    campaign = rig.campaign([person, silent, busy, gone, machine], amd_policy="hangup", ring_seconds=20,
                            max_attempts=1)
    await rig.dialer.start()
    await rig.run(60.0)
    rows = {a.number: a for a in rig.attempts(campaign.id)}
    assert sorted(rig.dialled()) == sorted(n[3:] for n in (person, silent, busy, gone, machine))
    assert {n: (rows[n].result, rows[n].hangup_cause) for n in rows} == {
        person: ("answered", "NORMAL_CLEARING"), silent: ("no_answer", "NO_ANSWER"), busy: ("busy", "USER_BUSY"),
        gone: ("failed", "UNALLOCATED_NUMBER"), machine: ("machine", "NORMAL_CLEARING")}
    answered = rows[person]
    assert answered.amd_result == "HUMAN" and answered.agent_id is not None
    assert answered.wait_to_agent_seconds is not None and answered.wait_to_agent_seconds < 2.0
    # the callee hangs up 40 s after answering; the agent took it after detection (0.7 + 0.8 s) and a 0.3-s ring
    assert answered.talk_seconds == pytest.approx(40 - 1.5 - 0.3, abs=0.5)
    assert rows[machine].amd_result == "MACHINE"
    leg = rig.legs[answered.call_uuid]  # the origination_uuid is the attempt's call uuid (= the CDR's)
    assert leg.profile["Caller-ID-Number"] == "4008001234"  # the campaign's one caller ID, national format
    assert leg.variables["originate_timeout"] == "20" and leg.variables["hotline_attempt_id"] == str(answered.id)
    assert leg.variables["hotline_campaign_id"] == str(campaign.id)
    assert {c: contact_of(db_session, campaign.id, c).status for c in rows} == {
        person: "done", silent: "failed", busy: "failed", gone: "failed", machine: "failed"}
    db_session.refresh(campaign)
    assert campaign.status == "completed"


@pytest_twisted.ensureDeferred
async def test_no_call_outside_calling_hours_or_on_a_chinese_holiday(tmp_path, db_session, factories):
    late = dt.datetime(2026, 11, 25, 13, 30, tzinfo=dt.timezone.utc).timestamp()  # 21:30 in Shanghai
    rig = make(tmp_path, db_session, start=late)
    try:
        contacts = numbers(factories, 2)
        await rig.start(agents=2, tick_seconds=60.0)  # hours of simulated time: a coarser tick
        campaign = rig.campaign(contacts, calling_hours_start=dt.time(9, 0), calling_hours_end=dt.time(20, 0))
        await rig.dialer.start()
        await rig.run(3600.0)
        assert rig.dialled() == [] and rig.attempts(campaign.id) == []
        await rig.run(10.5 * 3600)  # 09:00 next morning
        assert len(rig.dialled()) == 2
        # a holiday campaign: 1 October is National Day
        holiday = make(tmp_path / "h", db_session, start=dt.datetime(2026, 10, 1, 2, 0,
                                                                      tzinfo=dt.timezone.utc).timestamp())
        try:
            await holiday.start(agents=1, tick_seconds=10.0)
            other = holiday.campaign(numbers(factories, 1), skip_holidays=True)
            await holiday.dialer.start()
            await holiday.run(600.0)
            assert holiday.dialled() == [] and holiday.attempts(other.id) == []
        finally:
            await holiday.stop()
    finally:
        await rig.stop()


@pytest_twisted.ensureDeferred
async def test_a_number_put_on_the_do_not_call_list_while_running_is_never_dialled(rig, factories, db_session):
    first, second = numbers(factories, 2)
    for n in (first, second):
        rig.sim.directory.external[n[3:]] = Endpoint(answer_after=None)
    await rig.start(agents=1)
    campaign = rig.campaign([first, second], ring_seconds=15)
    db_session.add(DoNotCall(number=second, reason="asked on the phone"))
    db_session.flush()
    await rig.dialer.start()
    await rig.run(120.0)
    assert rig.dialled() == [first[3:]]
    blocked = contact_of(db_session, campaign.id, second)
    assert (blocked.status, blocked.skip_reason) == ("skipped", "do_not_call")
    assert sorted((a.number, a.result) for a in rig.attempts(campaign.id)) == sorted(
        [(first, "no_answer"), (second, "blocked_dnc")])


@pytest_twisted.ensureDeferred
async def test_retry_spacing_and_attempt_caps_are_held(rig, factories, db_session):
    (busy,) = numbers(factories, 1)
    rig.sim.directory.external[busy[3:]] = Endpoint(busy=True, fail_after=1.0)
    await rig.start(agents=1, tick_seconds=5.0)
    campaign = rig.campaign([busy], retry_minutes=30, max_attempts=5,
                            retry_rules={"busy": {"retry_minutes": 10, "max_attempts": 2}})
    await rig.dialer.start()
    await rig.run(9 * 60.0)
    assert rig.dialled() == [busy[3:]]  # once, and not again within 10 minutes
    await rig.run(66.0)
    assert rig.dialled() == [busy[3:]] * 2
    await rig.run(3600.0)
    assert rig.dialled() == [busy[3:]] * 2  # the busy rule allows two
    contact = contact_of(db_session, campaign.id, busy)
    assert (contact.status, contact.attempts) == ("failed", 2)
    first, second = rig.attempts(campaign.id)
    assert (second.started_at - first.ended_at) >= dt.timedelta(minutes=10)


@pytest_twisted.ensureDeferred
async def test_an_answered_call_no_agent_takes_within_2_seconds_hears_who_called_and_counts_as_abandoned(
        rig, factories, db_session):
    (person,) = numbers(factories, 1)
    rig.sim.directory.external[person[3:]] = Endpoint(answer_after=3.0)
    await rig.start(agents=1, phone={"answer_after": 3.5})  # the agent's phone is too slow
    campaign = rig.campaign([person], abandon_message="campaigns/we-called-4008001234.wav")
    await rig.dialer.start()
    await rig.run(30.0)
    (attempt,) = rig.attempts(campaign.id)
    assert attempt.result == "abandoned" and attempt.agent_id is None and attempt.connected_at is None
    assert (attempt.call_uuid, "campaigns/we-called-4008001234.wav") in rig.played
    assert rig.dialer.campaigns[campaign.id].pacer.budget.abandoned == 1
    assert contact_of(db_session, campaign.id, person).status == "pending"  # tried again another day


@pytest_twisted.ensureDeferred
async def test_pause_stops_new_dialling_at_once_and_calls_in_flight_finish(rig, factories, db_session):
    contacts = numbers(factories, 8)
    for n in contacts:
        rig.sim.directory.external[n[3:]] = Endpoint(answer_after=None)
    await rig.start(agents=3)
    campaign = rig.campaign(contacts, ring_seconds=20)
    await rig.dialer.start()
    await rig.run(2.0)
    assert len(rig.dialled()) == 3  # progressive: one per free agent
    change_campaign_status(db_session, campaign.id, "paused", actor=ME, at=rig.now())
    await rig.run(60.0)
    assert len(rig.dialled()) == 3  # nothing new after the pause
    rows = rig.attempts(campaign.id)
    assert [a.result for a in rows] == ["no_answer"] * 3 and all(a.ended_at for a in rows)
    change_campaign_status(db_session, campaign.id, "running", actor=ME, at=rig.now())
    await rig.run(2.0)
    assert len(rig.dialled()) == 6


@pytest_twisted.ensureDeferred
async def test_a_machine_gets_the_voice_file_after_its_beep(rig, factories, db_session):
    (machine,) = numbers(factories, 1)
    rig.sim.directory.external[machine[3:]] = Endpoint(answer_after=10.0, machine=True, greeting_seconds=7.0)
    await rig.start(agents=1)
    voice = rig.sound("campaigns/reminder.wav", 6.0)
    campaign = rig.campaign([machine], amd_policy="leave_message", voice_file=voice)
    await rig.dialer.start()
    await rig.run(60.0)
    (attempt,) = rig.attempts(campaign.id)
    assert (attempt.result, attempt.amd_result, attempt.message_left) == ("machine", "MACHINE", True)
    # the message started after the beep (answer at 10 s, greeting 7 s, beep 0.4 s) and played whole
    assert attempt.ended_at - attempt.answered_at >= dt.timedelta(seconds=7.4 + 6.0)
    assert contact_of(db_session, campaign.id, machine).status == "done"


@pytest_twisted.ensureDeferred
async def test_a_live_edit_is_picked_up_by_the_running_dialer(rig, factories, db_session):
    contacts = numbers(factories, 6)
    for n in contacts:
        rig.sim.directory.external[n[3:]] = Endpoint(answer_after=None)
    await rig.start(agents=2)
    campaign = rig.campaign(contacts, ring_seconds=15)
    await rig.dialer.start()
    await rig.run(2.0)
    assert len(rig.dialled()) == 2
    update_campaign(db_session, campaign.id, {"mode": "ratio", "dial_ratio": 2}, actor=ME)
    await rig.run(20.0)
    run = rig.dialer.campaigns[campaign.id]
    assert run.settings.mode == "ratio" and run.pacer.policy.ratio == 2
    assert len(rig.dialled()) == 6  # two free agents, two lines each


@pytest_twisted.ensureDeferred
async def test_a_restart_mid_campaign_loses_no_attempt_and_dials_nobody_twice(tmp_path, db_session, factories):
    contacts = numbers(factories, 4)
    rig = make(tmp_path, db_session)
    try:
        for n in contacts:
            rig.sim.directory.external[n[3:]] = Endpoint(answer_after=8.0, talk_seconds=20)
        await rig.start(agents=4)
        campaign = rig.campaign(contacts, ring_seconds=20)
        await rig.dialer.start()
        await rig.run(2.0)
        assert sorted(rig.dialled()) == sorted(n[3:] for n in contacts)
        rig.dialer.stop()  # the engine goes away while the calls ring
        await rig.switch.stop()
        rig.dialer = None
        second = await rig.start(engine_id="box-1", agents=0)
        rig.staff(campaign.id)
        await second.start()
        await rig.run(60.0)
        assert sorted(rig.dialled()) == sorted(n[3:] for n in contacts)  # nobody twice
        rows = rig.attempts(campaign.id)
        assert len(rows) == 4 and all(a.ended_at is not None for a in rows)
        assert {a.result for a in rows} == {"answered"} and all(a.agent_id for a in rows)
        assert {contact_of(db_session, campaign.id, n).status for n in contacts} == {"done"}
    finally:
        await rig.stop()


@pytest_twisted.ensureDeferred
async def test_predictive_on_the_simulator_holds_the_2_second_rule_and_the_abandonment_cap(rig, factories,
                                                                                          db_session):
    from freeswitch.sim.callees import CalleeMix

    rig.sim.directory.callees = CalleeMix(seed=11, talk_median=40.0)
    contacts = [f"+86139{n:08d}" for n in range(150)]  # fixed numbers: the same draws in every run
    await rig.start(agents=6)
    campaign = rig.campaign(contacts, mode="predictive", amd_policy="hangup", ring_seconds=20, max_attempts=1,
                            abandon_cap_percent=3)
    await rig.dialer.start()
    await rig.run(20 * 60.0)
    rows = [a for a in rig.attempts(campaign.id) if a.call_uuid]
    results = {r: sum(1 for a in rows if a.result == r) for r in {a.result for a in rows}}
    live = results.get("answered", 0) + results.get("abandoned", 0)
    assert live >= 20, results  # enough people answered to judge
    assert results.get("abandoned", 0) <= 0.03 * live
    for attempt in rows:
        if attempt.result == "answered":  # every connected call reached its agent within the deadline
            assert attempt.agent_id is not None and attempt.wait_to_agent_seconds <= 2.0
    assert len(rig.dialled()) == len(rows) == len(set(rig.dialled()))  # one call per number at a time, no repeats
    assert results.get("machine", 0) > 0 and results.get("no_answer", 0) > 0


@pytest_twisted.ensureDeferred
async def test_an_answered_call_the_engine_cannot_take_hears_the_identification_message(rig, factories, db_session):
    (person,) = numbers(factories, 1)
    rig.sim.directory.external[person[3:]] = Endpoint(answer_after=5.0)
    await rig.start(agents=1)
    campaign = rig.campaign([person], abandon_message="campaigns/we-called.wav")
    await rig.dialer.start()
    await rig.run(1.0)
    await rig.servers[-1].stop_listening()  # the engine's call server is gone when the person answers
    rig.sim.core.socket_target = ("127.0.0.1", 1)
    await rig.run(30.0)
    (attempt,) = rig.attempts(campaign.id)
    assert attempt.result == "abandoned" and attempt.hangup_cause == "NORMAL_TEMPORARY_FAILURE"
    assert (attempt.call_uuid, "campaigns/we-called.wav") in rig.played


@pytest_twisted.ensureDeferred
async def test_a_voice_file_campaign_plays_its_message_to_whoever_answers_without_agents(rig, factories, db_session):
    contacts = numbers(factories, 3)
    for n in contacts:
        rig.sim.directory.external[n[3:]] = Endpoint(answer_after=3.0)
    await rig.start(agents=0)
    voice = rig.sound("campaigns/cod-reminder.wav", 9.0)
    campaign = rig.campaign(contacts, mode="ivr", voice_file=voice)
    await rig.dialer.start()
    await rig.run(40.0)
    rows = rig.attempts(campaign.id)
    assert [(a.result, a.message_left) for a in rows] == [("answered", True)] * 3
    assert all(a.agent_id is None for a in rows) and {(a.call_uuid, voice) for a in rows} <= set(rig.played)
    assert {contact_of(db_session, campaign.id, n).status for n in contacts} == {"done"}


@pytest_twisted.ensureDeferred
async def test_without_mod_amd_on_the_switch_no_amd_is_run_and_answers_count_as_people(rig, factories, db_session):
    (machine,) = numbers(factories, 1)
    rig.sim.directory.external[machine[3:]] = Endpoint(answer_after=5.0, machine=True, greeting_seconds=6.0,
                                                       message_seconds=10.0)
    await rig.start(agents=1, amd_available=False)
    campaign = rig.campaign([machine], amd_policy="hangup")
    await rig.dialer.start()
    await rig.run(40.0)
    (attempt,) = rig.attempts(campaign.id)
    assert attempt.amd_result is None and attempt.result == "answered" and attempt.agent_id is not None
    assert "amd" not in rig.legs[attempt.call_uuid].variables.get("current_application", "")
