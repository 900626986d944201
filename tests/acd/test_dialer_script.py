"""Automated campaigns end to end: Dialer + simulator (loopback ESL, ``task.Clock``) + the IVR's campaign script
runner on the real database. The callees answer the script's prompts with keys, as a person on a phone does."""

from __future__ import annotations

import datetime as dt

import pytest
import pytest_twisted
from sqlalchemy import select

from crm_core.models import CampaignAnswer, CampaignContact, CampaignQuestion, DoNotCall
from crm_core.services.campaign_contacts import ContactRow, add_contacts
from crm_core.services.campaigns import change_campaign_status, create_campaign
from crm_core.services.dialing import claim_due_contacts
from dialer_rig import ME, finish, make
from freeswitch.sim.phones import Endpoint
from script_rig import heard, ivr_campaign, publish_script, runner_for, watch_prompts


@pytest.fixture
def rig(tmp_path, db_session):
    made = make(tmp_path, db_session)
    watch_prompts(made)
    publish_script(db_session)
    yield made
    finish(made)


def numbers(factories, n):
    return [f"+86{factories.new_mobile()}" for _ in range(n)]


def answers_of(session, attempt):
    session.expire_all()
    return {q.key: a.answer for a, q in session.execute(
        select(CampaignAnswer, CampaignQuestion).join(CampaignQuestion, CampaignAnswer.question_id == CampaignQuestion.id)
        .where(CampaignAnswer.attempt_id == attempt.id))}


def contact_of(session, campaign_id, number):
    session.expire_all()
    return session.scalars(select(CampaignContact).where(CampaignContact.campaign_id == campaign_id,
                                                         CampaignContact.number == number)).one()


@pytest_twisted.ensureDeferred
async def test_a_contact_answers_both_questions_and_hears_its_merge_fields(rig, factories, db_session):
    (person,) = numbers(factories, 1)
    rig.sim.directory.external[person[3:]] = Endpoint(answer_after=2.0, replies=["1", "4", ""], reply_after=1.0)
    await rig.start(agents=1, script=runner_for)
    campaign = ivr_campaign(rig, [person], data=[{"name": "王芳", "order": "SO20261125001"}])
    await rig.dialer.start()
    await rig.run(60.0)
    (attempt,) = rig.attempts(campaign.id)
    assert (attempt.result, attempt.hangup_cause) == ("answered", "NORMAL_CLEARING")
    assert answers_of(db_session, attempt) == {"satisfied": "1", "courier_rating": "4"}
    rows = db_session.scalars(select(CampaignAnswer).where(CampaignAnswer.attempt_id == attempt.id)).all()
    assert len(rows) == 2 and {r.contact_id for r in rows} == {attempt.contact_id}
    said = heard(rig, attempt.call_uuid)
    assert said[0] == "您好王芳，这里是某某购物。您的订单SO20261125001已经发货，感谢您的惠顾。"
    assert said[1].startswith("您对这次配送满意吗") and said[2].startswith("请为本次快递员")
    assert said[3].startswith("谢谢您的评价") and said[-1].startswith("感谢您的接听")  # silence: goodbye
    assert contact_of(db_session, campaign.id, person).status == "done"


@pytest_twisted.ensureDeferred
async def test_a_wrong_key_is_asked_again_and_the_right_one_kept(rig, factories, db_session):
    (person,) = numbers(factories, 1)
    rig.sim.directory.external[person[3:]] = Endpoint(answer_after=2.0, replies=["7", "1", "5", ""])
    await rig.start(agents=1, script=runner_for)
    campaign = ivr_campaign(rig, [person], data=[{"name": "李雷", "order": "SO1"}])
    await rig.dialer.start()
    await rig.run(60.0)
    (attempt,) = rig.attempts(campaign.id)
    assert answers_of(db_session, attempt) == {"satisfied": "1", "courier_rating": "5"}
    said = heard(rig, attempt.call_uuid)
    assert said[1].startswith("您对这次配送满意吗") and said[2] == "<invalid_input>"
    assert said[3].startswith("您对这次配送满意吗") and said[4].startswith("请为本次快递员")


@pytest_twisted.ensureDeferred
async def test_silence_records_no_answer_and_the_call_goes_on(rig, factories, db_session):
    (person,) = numbers(factories, 1)
    # three silent waits at the first question (the first try and two retries), then a rating
    rig.sim.directory.external[person[3:]] = Endpoint(answer_after=2.0, replies=["", "", "", "3", ""])
    await rig.start(agents=1, script=runner_for)
    campaign = ivr_campaign(rig, [person], data=[{"name": "韩梅梅", "order": "SO2"}])
    await rig.dialer.start()
    await rig.run(90.0)
    (attempt,) = rig.attempts(campaign.id)
    assert attempt.result == "answered"
    assert answers_of(db_session, attempt) == {"courier_rating": "3"}
    said = heard(rig, attempt.call_uuid)
    assert said[1:7] == [said[1], "<timeout>", said[1], "<timeout>", said[1], said[6]]
    assert said[6].startswith("请为本次快递员")


@pytest_twisted.ensureDeferred
async def test_a_hang_up_mid_survey_keeps_the_answers_given_so_far(rig, factories, db_session):
    (person,) = numbers(factories, 1)
    rig.sim.directory.external[person[3:]] = Endpoint(answer_after=2.0, replies=["2", "hangup"])
    await rig.start(agents=1, script=runner_for)
    campaign = ivr_campaign(rig, [person], data=[{"name": "张伟", "order": "SO3"}])
    await rig.dialer.start()
    await rig.run(60.0)
    (attempt,) = rig.attempts(campaign.id)
    assert attempt.result == "answered" and attempt.ended_at is not None
    assert answers_of(db_session, attempt) == {"satisfied": "2"}
    assert heard(rig, attempt.call_uuid)[2] == "很抱歉给您带来不便，我们会认真改进。"  # the answer's own branch
    assert contact_of(db_session, campaign.id, person).status == "done"


@pytest_twisted.ensureDeferred
async def test_key_9_puts_the_number_on_the_do_not_call_list_and_later_claims_skip_it(rig, factories, db_session):
    (person,) = numbers(factories, 1)
    rig.sim.directory.external[person[3:]] = Endpoint(answer_after=2.0, replies=["1", "5", "9"])
    await rig.start(agents=1, script=runner_for)
    # a second campaign already holds the number (a draft: started after the call)
    other = create_campaign(db_session, "Reminder", actor=ME, mode="ivr", ivr_script="delivery_care",
                            caller_id="4008001234", calling_hours_start=dt.time(8, 0))
    add_contacts(db_session, other.id, [ContactRow(person, {"name": "赵敏", "order": "SO5"})])
    campaign = ivr_campaign(rig, [person], data=[{"name": "赵敏", "order": "SO4"}])
    await rig.dialer.start()
    await rig.run(60.0)
    (attempt,) = rig.attempts(campaign.id)
    assert attempt.result == "answered"
    assert answers_of(db_session, attempt) == {"satisfied": "1", "courier_rating": "5"}
    assert heard(rig, attempt.call_uuid)[-1].startswith("好的，我们以后不会再给您打此类电话")
    listed = db_session.get(DoNotCall, person)
    assert listed is not None and listed.added_by == "campaign" and listed.expires_at is None
    contact = contact_of(db_session, campaign.id, person)
    assert (contact.status, contact.skip_reason) == ("skipped", "do_not_call")
    # the other campaign starts: its claim refuses the number with the reason
    change_campaign_status(db_session, other.id, "running", actor=ME, at=rig.now())
    batch = claim_due_contacts(db_session, other.id, 5, now=rig.now())
    assert batch.claims == () and [(r, why) for _c, r, why in batch.blocked] == [("blocked_dnc", "do_not_call")]
    assert contact_of(db_session, other.id, person).skip_reason == "do_not_call"
    await rig.run(30.0)
    assert rig.dialled() == [person[3:]]  # dialled once, never again


@pytest_twisted.ensureDeferred
async def test_key_1_reaches_a_campaign_agent_within_2_seconds(rig, factories, db_session):
    (person,) = numbers(factories, 1)
    rig.sim.directory.external[person[3:]] = Endpoint(answer_after=2.0, replies=["1", "4", "1"], talk_seconds=60)
    await rig.start(agents=1, script=runner_for)  # the agent's phone answers after 0.3 s
    campaign = ivr_campaign(rig, [person], data=[{"name": "周杰", "order": "SO6"}])
    await rig.dialer.start()
    await rig.run(90.0)
    (attempt,) = rig.attempts(campaign.id)
    assert (attempt.result, attempt.agent_id) == ("answered", rig.campaign_agents[0][0])
    assert attempt.wait_to_agent_seconds is not None and attempt.wait_to_agent_seconds < 2.0
    assert answers_of(db_session, attempt) == {"satisfied": "1", "courier_rating": "4"}
    assert heard(rig, attempt.call_uuid)[-1] == "正在为您转接客服，请稍候。"
    assert attempt.connected_at is not None and attempt.talk_seconds > 30  # the agent talked with the person


@pytest_twisted.ensureDeferred
async def test_key_1_with_no_agent_in_time_hears_who_called_and_is_abandoned(rig, factories, db_session):
    (person,) = numbers(factories, 1)
    rig.sim.directory.external[person[3:]] = Endpoint(answer_after=2.0, replies=["1", "4", "1"])
    await rig.start(agents=1, phone={"answer_after": 3.5}, script=runner_for)  # too slow for the 2-s rule
    campaign = ivr_campaign(rig, [person], data=[{"name": "周杰", "order": "SO7"}],
                            abandon_message="campaigns/we-called-4008001234.wav")
    await rig.dialer.start()
    await rig.run(60.0)
    (attempt,) = rig.attempts(campaign.id)
    assert attempt.result == "abandoned" and attempt.agent_id is None
    assert (attempt.call_uuid, "campaigns/we-called-4008001234.wav") in rig.played
    assert answers_of(db_session, attempt) == {"satisfied": "1", "courier_rating": "4"}
    assert rig.dialer.campaigns[campaign.id].pacer.budget.abandoned == 1


@pytest_twisted.ensureDeferred
async def test_a_script_that_does_not_fit_the_campaign_fails_the_attempt_with_a_cause(rig, factories, db_session):
    (person,) = numbers(factories, 1)
    rig.sim.directory.external[person[3:]] = Endpoint(answer_after=2.0, replies=["1"])
    await rig.start(agents=1, script=runner_for)
    # the campaign has only the first question: the script's rating node asks one it does not have
    campaign = ivr_campaign(rig, [person], questions=[{"key": "satisfied", "prompt": "满意吗", "valid_digits": "12"}])
    await rig.dialer.start()
    await rig.run(30.0)
    (attempt,) = rig.attempts(campaign.id)
    assert (attempt.result, attempt.hangup_cause) == ("failed", "SCRIPT_INVALID")
    assert heard(rig, attempt.call_uuid) == []  # nothing said: hung up at once
    assert contact_of(db_session, campaign.id, person).status == "pending"  # tried again later


@pytest_twisted.ensureDeferred
async def test_the_demo_callees_answer_the_demo_script(rig, db_session):
    from crm_core.demo import data
    from hotline.sim_dialplan import install_demo_callees

    shop = data.shop()["delivery_care"]
    await rig.start(agents=1, script=runner_for)
    specs = shop["contacts"]
    assert install_demo_callees(rig.sim) == [s["number"][3:] for s in specs]
    assert install_demo_callees(rig.sim) == []  # already there: left as they are
    campaign = ivr_campaign(rig, [s["number"] for s in specs], questions=shop["questions"],
                            data=[{k: v for k, v in s.items() if k not in ("number", "replies")} for s in specs])
    await rig.dialer.start()
    await rig.run(240.0)
    rows = {a.number: a for a in rig.attempts(campaign.id)}
    happy, unhappy, stop, silent = (rows[s["number"]] for s in specs)
    assert answers_of(db_session, happy) == {"satisfied": "1", "courier_rating": "5"}
    assert answers_of(db_session, unhappy) == {"satisfied": "2", "courier_rating": "2"}
    assert unhappy.agent_id is not None and unhappy.wait_to_agent_seconds < 2.0
    assert db_session.get(DoNotCall, stop.number) is not None
    assert answers_of(db_session, silent) == {"courier_rating": "3"}
    assert heard(rig, silent.call_uuid)[0] == "您好赵强，这里是某某购物。您的订单已经发货，感谢您的惠顾。"
