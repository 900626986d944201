"""An automated campaign on the real switch: `hotline campaign start`, the engine's dialer originates through
the trunk profile with its origination uuid, the customer's phone (sipp) answers, the answered leg runs the
shipped campaign context into the engine's CallServer, the survey script is spoken and answered with RFC 2833
keys, and the attempt, its answers and the outbound CDR are stored.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from calls import Record, assert_played_files_exist, closed_cdr, digits, menu, nudge, poll
from crm_core.models import Campaign, CampaignAnswer, CampaignAttempt, CampaignQuestion
from events import on_channel
from free_ports import free_port_range
from rtp import RtpStream
from sipp import Callee, Sipp

CUSTOMER = "+8613900000505"
CALLER_ID = "4008008888"
NAME = "real switch survey"


def midday_zone() -> str:
    """A fixed-offset zone where it is about 13:00 now: the calling window is open whenever the test runs."""
    hour = dt.datetime.now(dt.timezone.utc).hour
    offset = (13 - hour + 12) % 24 - 12
    return "UTC" if offset == 0 else f"Etc/GMT{'+' if offset < 0 else '-'}{abs(offset)}"


@pytest.fixture(scope="module")
def record(deployment):
    return Record(deployment.db_url)


def make_campaign(record: Record) -> int:
    """An automated campaign on the demo's survey script (`hotline demo-data` publishes it), one contact."""
    from crm_core.services.campaign_contacts import ContactRow, add_contacts
    from crm_core.services.campaigns import Actor, create_campaign, set_questions

    def make(s):
        me = Actor("campaign")
        row = create_campaign(s, NAME, actor=me, mode="ivr", ivr_script="delivery_care", caller_id=CALLER_ID,
                              timezone=midday_zone(), skip_holidays=False, ring_seconds=30)
        set_questions(s, row.id, [{"key": "satisfied", "prompt": "您对这次配送满意吗？满意请按1，不满意请按2。",
                                   "valid_digits": "12"},
                                  {"key": "courier_rating", "prompt": "请为本次快递员的服务打分，请按1到5。",
                                   "valid_digits": "12345"}], actor=me)
        add_contacts(s, row.id, [ContactRow(CUSTOMER, {"name": "王芳", "order": "SO202612060001"})])
        return row.id

    return record.read(make)


@pytest.mark.timeout(300)
def test_an_automated_campaign_dials_the_customer_who_answers_the_survey_with_rfc2833_keys(deployment, events, api,
                                                                                           record):
    campaign_id = make_campaign(record)
    stream = RtpStream(ssrc=0x5EC0DE01)
    one, five = deployment.sipp_dir / "survey-1.pcap", deployment.sipp_dir / "survey-5.pcap"
    stream.dtmf(one, "1")
    stream.dtmf(five, "5")
    phone = Callee(CUSTOMER[3:], CALLER_ID, "127.0.0.1")
    phone.wait_info().play(one).wait_info().play(five).wait_bye()
    uas = Sipp(deployment.sipp_dir, "customer-survey", phone.xml(), f"127.0.0.1:{deployment.ports.trunk}",
               deployment.ports.callee, media_port=free_port_range(4), calls=1, timeout=240)
    try:
        start = events.mark()
        out = deployment.hotline("campaign", "start", NAME)
        assert "draft -> running" in out
        attempt = poll(lambda: record.read(lambda s: s.scalar(select(CampaignAttempt.call_uuid).where(
            CampaignAttempt.campaign_id == campaign_id))), bool, 30, "the attempt written before the originate")
        created = events.wait(on_channel(attempt, "CHANNEL_CREATE"), "the originated leg", 30, start)
        assert created["Channel-Name"] == f"sofia/trunk/{CUSTOMER[3:]}@127.0.0.1:{deployment.ports.callee}"
        assert created["Caller-Caller-ID-Number"] == CALLER_ID
        events.wait(on_channel(attempt, "CHANNEL_ANSWER"), "the customer to answer", 40, start)
        menu(events, attempt, start, 1, "the first survey question")
        nudge(api, attempt)  # 1: satisfied
        menu(events, attempt, start, 2, "the second survey question")
        nudge(api, attempt)  # 5: the courier's mark
        uas.ok(120)  # the script ends and the engine hangs up: the phone got its BYE
    finally:
        uas.stop()
    assert digits(events, attempt, start)[:2] == [("1", "RTP"), ("5", "RTP")]

    def stored(s):
        row = s.scalar(select(CampaignAttempt).where(CampaignAttempt.call_uuid == attempt))
        answers = dict(s.execute(select(CampaignQuestion.key, CampaignAnswer.answer)
                                 .join(CampaignQuestion, CampaignQuestion.id == CampaignAnswer.question_id)
                                 .where(CampaignAnswer.attempt_id == row.id)).all())
        return row.result, row.ended_at is not None, answers, s.get(Campaign, campaign_id).status

    result = poll(lambda: record.read(stored), lambda v: v[1], 30, "the attempt closed")
    assert result[0] == "answered" and result[2] == {"satisfied": "1", "courier_rating": "5"}
    assert result[3] == "completed"  # the only contact is done
    cdr = closed_cdr(record, attempt)
    assert (cdr.direction, cdr.campaign_id, cdr.dnis) == ("outbound", campaign_id, CUSTOMER)
    assert cdr.answered_at is not None
    assert_played_files_exist(events, attempt, start)
