"""The dialer's record: claims with open attempts, DNC at dial time, hours screen, one call per number across
campaigns and processes, results with per-disposition retries, recovery after a restart, figures."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from crm_core.db import make_engine, session_factory, transaction
from crm_core.exceptions import InvalidInput
from crm_core.models import CallDetailRecord, CampaignAttempt, CampaignContact, DoNotCall
from crm_core.services import attempt_recovery, campaign_figures, dialing
from crm_core.services.campaign_contacts import ContactRow, add_contacts
from crm_core.services.campaigns import Actor, change_campaign_status, create_campaign, set_questions

ME = Actor("manager")
NOW = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.timezone.utc)


def running(session, factories, numbers=None, **settings):
    numbers = numbers or [f"+86{factories.new_mobile()}" for _ in range(3)]
    campaign = create_campaign(session, f"Dial {factories.next_serial()}", actor=ME, caller_id="4008001234",
                               mode="predictive", **settings)
    add_contacts(session, campaign.id, [ContactRow(n, {"name": f"n{i}"}) for i, n in enumerate(numbers)])
    change_campaign_status(session, campaign.id, "running", actor=ME, at=NOW)
    return campaign, numbers


def attempts_of(session, campaign_id):
    return list(session.scalars(select(CampaignAttempt).where(CampaignAttempt.campaign_id == campaign_id)
                                .order_by(CampaignAttempt.id)))


def contact(session, campaign_id, number):
    return session.scalars(select(CampaignContact).where(CampaignContact.campaign_id == campaign_id,
                                                         CampaignContact.number == number)).one()


def test_claim_records_an_open_attempt_with_the_origination_uuid_before_anything_is_dialled(db_session, factories):
    campaign, numbers = running(db_session, factories)
    batch = dialing.claim_due_contacts(db_session, campaign.id, 2, now=NOW, engine_id="box-1")
    assert [c.number for c in batch.claims] == numbers[:2]
    assert batch.status == "running" and batch.pacing_version == campaign.pacing_version
    rows = attempts_of(db_session, campaign.id)
    assert [(a.number, a.call_uuid, a.ended_at, a.result, a.claimed_by, a.caller_id) for a in rows] == [
        (c.number, c.call_uuid, None, None, "box-1", "+864008001234") for c in batch.claims]
    first = contact(db_session, campaign.id, numbers[0])
    assert (first.status, first.attempts, first.last_attempt_at) == ("dialing", 1, NOW)
    assert batch.claims[0].data == {"name": "n0"} and batch.claims[0].attempt_no == 1
    # a second claim finds only the third contact; a paused campaign gives nothing
    assert [c.number for c in dialing.claim_due_contacts(db_session, campaign.id, 5, now=NOW).claims] == numbers[2:]
    change_campaign_status(db_session, campaign.id, "paused", actor=ME)
    assert dialing.claim_due_contacts(db_session, campaign.id, 5, now=NOW).claims == ()


def test_a_number_put_on_the_do_not_call_list_after_import_is_blocked_at_dial_time(db_session, factories):
    campaign, numbers = running(db_session, factories)
    db_session.add(DoNotCall(number=numbers[0], reason="asked today"))
    db_session.flush()
    batch = dialing.claim_due_contacts(db_session, campaign.id, 3, now=NOW)
    assert [c.number for c in batch.claims] == numbers[1:]
    assert batch.blocked == ((contact(db_session, campaign.id, numbers[0]).id, "blocked_dnc", "do_not_call"),)
    blocked = contact(db_session, campaign.id, numbers[0])
    assert (blocked.status, blocked.skip_reason, blocked.attempts) == ("skipped", "do_not_call", 0)
    row = attempts_of(db_session, campaign.id)[0]
    assert (row.number, row.result, row.ended_at, row.call_uuid) == (numbers[0], "blocked_dnc", NOW, None)


def test_the_hours_screen_blocks_and_reschedules_without_dialling(db_session, factories):
    campaign, numbers = running(db_session, factories)
    later = NOW + dt.timedelta(hours=13)
    seen = []

    def screen(candidate):
        seen.append((candidate.number, candidate.timezone, candidate.attempts))
        if candidate.number == numbers[1]:
            return dialing.Screen(False, later, "hours")
        return dialing.Screen(True)

    batch = dialing.claim_due_contacts(db_session, campaign.id, 3, now=NOW, screen=screen)
    assert [c.number for c in batch.claims] == [numbers[0], numbers[2]]
    assert seen[0] == (numbers[0], "Asia/Shanghai", 0)
    held = contact(db_session, campaign.id, numbers[1])
    assert (held.status, held.next_attempt_at, held.attempts) == ("pending", later, 0)
    assert [(a.number, a.result, a.hangup_cause) for a in attempts_of(db_session, campaign.id)
            if a.result] == [(numbers[1], "blocked_hours", "hours")]
    assert dialing.claim_due_contacts(db_session, campaign.id, 3, now=NOW, screen=screen).claims == ()
    assert [c.number for c in dialing.claim_due_contacts(db_session, campaign.id, 3, now=later).claims] == [
        numbers[1]]


def test_one_number_is_never_in_flight_in_two_campaigns(db_session, factories):
    shared = f"+86{factories.new_mobile()}"
    first, _ = running(db_session, factories, [shared])
    second, others = running(db_session, factories, [shared, f"+86{factories.new_mobile()}"])
    claim = dialing.claim_due_contacts(db_session, first.id, 1, now=NOW).claims[0]
    assert [c.number for c in dialing.claim_due_contacts(db_session, second.id, 5, now=NOW).claims] == others[1:]
    dialing.close_attempt(db_session, claim.attempt_id, "no_answer", at=NOW + dt.timedelta(seconds=30),
                          hangup_cause="NO_ANSWER")
    assert [c.number for c in dialing.claim_due_contacts(db_session, second.id, 5, now=NOW).claims] == [shared]


def test_results_move_the_contact_by_its_disposition_rule(db_session, factories):
    campaign, numbers = running(db_session, factories, retry_minutes=60, max_attempts=4,
                                retry_rules={"busy": {"retry_minutes": 5, "max_attempts": 2}})
    at = NOW
    claims = {c.number: c for c in dialing.claim_due_contacts(db_session, campaign.id, 3, now=at).claims}
    closed = dialing.close_attempt(db_session, claims[numbers[0]].attempt_id, "busy", at=at, hangup_cause="USER_BUSY")
    assert (closed.contact_status, closed.next_attempt_at) == ("pending", at + dt.timedelta(minutes=5))
    closed = dialing.close_attempt(db_session, claims[numbers[1]].attempt_id, "no_answer", at=at)
    assert (closed.contact_status, closed.next_attempt_at) == ("pending", at + dt.timedelta(minutes=60))
    closed = dialing.close_attempt(db_session, claims[numbers[2]].attempt_id, "answered", at=at, talk_seconds=95.5,
                                   agent_id=None, wait_to_agent=0.4)
    assert closed.contact_status == "done"
    again = dialing.close_attempt(db_session, claims[numbers[2]].attempt_id, "busy", at=at)  # idempotent
    assert again.already_closed and again.result == "answered"
    # busy a second time: its rule allows two busy attempts
    at += dt.timedelta(minutes=5)
    claim = dialing.claim_due_contacts(db_session, campaign.id, 3, now=at).claims
    assert [c.number for c in claim] == [numbers[0]]
    closed = dialing.close_attempt(db_session, claim[0].attempt_id, "busy", at=at)
    assert (closed.contact_status, closed.next_attempt_at) == ("failed", None)
    # abandoned: not rung again the same day
    at += dt.timedelta(minutes=60)
    claim = dialing.claim_due_contacts(db_session, campaign.id, 3, now=at).claims
    closed = dialing.close_attempt(db_session, claim[0].attempt_id, "abandoned", at=at)
    assert closed.next_attempt_at == at + dt.timedelta(hours=24)
    with pytest.raises(InvalidInput):
        dialing.close_attempt(db_session, claim[0].attempt_id, "blocked_dnc")


def test_max_attempts_over_all_dispositions_and_the_campaign_completes(db_session, factories):
    campaign, numbers = running(db_session, factories, [f"+86{factories.new_mobile()}"], max_attempts=2,
                                retry_minutes=1)
    at = NOW
    for result in ("no_answer", "failed"):
        claim = dialing.claim_due_contacts(db_session, campaign.id, 1, now=at).claims[0]
        closed = dialing.close_attempt(db_session, claim.attempt_id, result, at=at)
        at += dt.timedelta(minutes=2)
    assert closed.contact_status == "failed" and closed.campaign_completed
    assert campaign.status == "completed"


def test_machine_with_a_message_left_is_done_and_answers_are_stored(db_session, factories):
    campaign, numbers = running(db_session, factories, voice_file="msg.wav", amd_policy="leave_message")
    set_questions(db_session, campaign.id, [{"key": "q1", "prompt": "满意吗", "valid_digits": "12"},
                                            {"key": "q2", "prompt": "再买吗", "valid_digits": "12"}], actor=ME)
    claims = dialing.claim_due_contacts(db_session, campaign.id, 3, now=NOW).claims
    closed = dialing.close_attempt(db_session, claims[0].attempt_id, "machine", at=NOW, amd_result="MACHINE",
                                   message_left=True)
    assert closed.contact_status == "done"
    dialing.mark_answered(db_session, claims[1].attempt_id, at=NOW, amd_result="HUMAN")
    dialing.record_answer(db_session, claims[1].attempt_id, "q1", "1", at=NOW)
    with pytest.raises(InvalidInput):
        dialing.record_answer(db_session, claims[1].attempt_id, "q2", "7")
    with pytest.raises(InvalidInput):
        dialing.record_answer(db_session, claims[1].attempt_id, "nope", "1")
    dialing.close_attempt(db_session, claims[1].attempt_id, "answered", at=NOW, answers={"q1": "2", "q2": "2"})
    summary = campaign_figures.campaign_summary(db_session, campaign.id)
    assert summary["answers"] == {"q1": {"1": 1}, "q2": {"2": 1}}  # the first answer keyed is the one kept
    assert summary["results"] == {"machine": 1, "answered": 1} and summary["in_flight"] == 1


def test_an_originate_that_never_reached_the_switch_does_not_count_as_a_try(db_session, factories):
    campaign, numbers = running(db_session, factories)
    claim = dialing.claim_due_contacts(db_session, campaign.id, 1, now=NOW).claims[0]
    closed = dialing.release_unsent(db_session, claim.attempt_id, at=NOW)
    row = contact(db_session, campaign.id, claim.number)
    assert (closed.result, row.status, row.attempts) == ("failed", "pending", 0)
    assert attempts_of(db_session, campaign.id)[0].hangup_cause == "NOT_SENT"


def test_a_skipped_preview_contact_is_a_skipped_attempt_never_counted_as_dialled(db_session, factories):
    from crm_core.services.campaign_progress import campaign_progress

    campaign, numbers = running(db_session, factories, [f"+86{factories.new_mobile()}" for _ in range(4)])
    claims = dialing.claim_due_contacts(db_session, campaign.id, 4, now=NOW, mode="preview").claims
    for claim, reason in zip(claims, ("wrong_number", "do_not_call", "later")):
        closed = dialing.skip_attempt(db_session, claim.attempt_id, reason, at=NOW, by="agent 3")
        assert closed.result == "skipped"
    with pytest.raises(InvalidInput):
        dialing.skip_attempt(db_session, claims[3].attempt_id, "bored", at=NOW)
    with pytest.raises(InvalidInput):  # only the agent's skip records it, with its reason
        dialing.close_attempt(db_session, claims[3].attempt_id, "skipped", at=NOW)
    dialing.close_attempt(db_session, claims[3].attempt_id, "busy", at=NOW)
    assert [(a.result, a.hangup_cause) for a in attempts_of(db_session, campaign.id)] == [
        ("skipped", "wrong_number"), ("skipped", "do_not_call"), ("skipped", "later"), ("busy", None)]
    statuses = [(c.status, c.skip_reason, c.attempts) for c in (contact(db_session, campaign.id, n) for n in numbers)]
    assert statuses[:3] == [("skipped", "wrong_number", 1), ("skipped", "do_not_call", 1), ("pending", None, 0)]
    assert db_session.get(DoNotCall, numbers[1]).added_by == "agent 3"
    summary = campaign_figures.campaign_summary(db_session, campaign.id)
    assert summary["results"] == {"skipped": 3, "busy": 1} and summary["dialled"] == 1  # only the busy call
    assert campaign_progress(db_session, campaign.id, now=NOW)["pace_per_minute"] == 0.2  # 1 placed in 5 min


def test_recovery_keeps_live_calls_and_closes_the_rest_from_what_is_known(db_session, factories):
    campaign, numbers = running(db_session, factories, [f"+86{factories.new_mobile()}" for _ in range(5)])
    claims = dialing.claim_due_contacts(db_session, campaign.id, 4, now=NOW, engine_id="box-1").claims
    foreign = dialing.claim_due_contacts(db_session, campaign.id, 1, now=NOW, engine_id="box-2").claims[0]
    dialing.mark_answered(db_session, claims[1].attempt_id, at=NOW)
    db_session.add(CallDetailRecord(uuid=claims[2].call_uuid, entered_at=NOW, answered_at=NOW,
                                    ended_at=NOW + dt.timedelta(seconds=42), hangup_cause="NORMAL_CLEARING",
                                    direction="outbound"))
    db_session.flush()
    later = NOW + dt.timedelta(minutes=3)
    report = attempt_recovery.recover_open_attempts(db_session, "box-1", {claims[0].call_uuid: True}, now=later)
    assert [(k.attempt_id, k.answered) for k in report.kept] == [(claims[0].attempt_id, True)]
    by_id = {c.attempt_id: c for c in report.closed}
    assert by_id[claims[1].attempt_id].result == "answered"
    assert by_id[claims[2].attempt_id].result == "answered"
    assert by_id[claims[3].attempt_id].result == "failed"
    rows = {a.id: a for a in attempts_of(db_session, campaign.id)}
    assert rows[claims[2].attempt_id].talk_seconds == 42 and rows[claims[3].attempt_id].hangup_cause == \
        attempt_recovery.LOST_ON_RESTART
    assert rows[foreign.attempt_id].ended_at is None  # another engine's recent attempt is left alone
    stale = attempt_recovery.recover_open_attempts(db_session, "box-1", {}, now=NOW + attempt_recovery.STALE_ATTEMPT_AGE
                                          + dt.timedelta(minutes=1))
    assert {c.attempt_id for c in stale.closed} == {claims[0].attempt_id, foreign.attempt_id}


def test_abandon_counts_cover_the_campaign_and_the_rolling_thirty_days(db_session, factories):
    campaign, numbers = running(db_session, factories, [f"+86{factories.new_mobile()}" for _ in range(3)])
    claims = dialing.claim_due_contacts(db_session, campaign.id, 3, now=NOW).claims
    old = NOW - dt.timedelta(days=40)
    dialing.close_attempt(db_session, claims[0].attempt_id, "abandoned", at=old)
    dialing.close_attempt(db_session, claims[1].attempt_id, "answered", at=NOW)
    dialing.close_attempt(db_session, claims[2].attempt_id, "no_answer", at=NOW)
    counts = campaign_figures.abandon_counts(db_session, campaign.id, now=NOW)
    assert counts == campaign_figures.AbandonCounts(2, 1, 1, 0)


def test_settings_snapshot_for_the_dialer(db_session, factories):
    campaign, _ = running(db_session, factories, abandon_cap_percent=2, retry_rules={"machine": {"max_attempts": 1}})
    snap = dialing.campaign_settings(db_session, campaign.id)
    assert snap.abandon_cap == pytest.approx(0.02) and snap.retry["machine"].max_attempts == 1
    assert snap.calling_hours == (dt.time(9), dt.time(21)) and snap.caller_id == "+864008001234"
    assert (campaign.id, campaign.pacing_version, "running") in dialing.running_campaigns(db_session)


# -- across processes: real transactions on their own database ------------------------------------------------

def test_two_engines_claiming_at_once_never_take_the_same_contact(fresh_db_url):
    from crm_core.migrate import upgrade

    upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    sessions = session_factory(engine)
    try:
        with transaction(sessions) as session:
            campaign = create_campaign(session, "Race", actor=ME, caller_id="4008001234")
            add_contacts(session, campaign.id, [ContactRow(f"+861380000{n:04d}", {}) for n in range(40)])
            change_campaign_status(session, campaign.id, "running", actor=ME, at=NOW)
            campaign_id = campaign.id
        taken: dict[str, list[str]] = {}
        barrier = threading.Barrier(2)

        def claim(name: str) -> None:
            barrier.wait()
            got: list[str] = []
            for _ in range(10):
                with transaction(sessions) as session:
                    got += [c.number for c in dialing.claim_due_contacts(session, campaign_id, 3, now=NOW,
                                                                         engine_id=name).claims]
            taken[name] = got

        threads = [threading.Thread(target=claim, args=(name,)) for name in ("box-1", "box-2")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        both = taken["box-1"] + taken["box-2"]
        assert len(both) == len(set(both)), "a contact was claimed by both engines"
        # SKIP LOCKED lets a claim come back short while the other engine holds rows; what is left is
        # still claimable, once, by anyone
        with transaction(sessions) as session:
            rest = [c.number for c in dialing.claim_due_contacts(session, campaign_id, 40, now=NOW,
                                                                 engine_id="box-3").claims]
        assert len(both + rest) == len(set(both + rest)) == 40
        with transaction(sessions) as session:
            assert len(attempt_recovery.open_attempts(session, "box-1", now=NOW)) == len(taken["box-1"])
    finally:
        engine.dispose()
