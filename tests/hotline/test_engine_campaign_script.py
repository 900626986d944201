"""The demo's automated campaign through the real path: `hotline demo-data`, the engine with its simulator,
`hotline campaign start` from another process, the IVR's menu engine speaking the TTS script to the demo
contacts, their keyed answers stored per contact and per question.

The demo contacts are the simulator's scripted callees (``install_demo_callees``): one satisfied customer,
one unhappy who asks for an agent (the campaign has no agents: the identification message, an abandoned
call), one who presses 9 (the do-not-call list), one silent at first and without an order number.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_twisted
from sqlalchemy import select

from crm_core.db import transaction
from crm_core.models import Campaign, CampaignAnswer, CampaignAttempt, CampaignContact, CampaignQuestion, \
    CallDetailRecord, DoNotCall
from engine_rig import engine_settings, in_thread, start_engine, wait_for
from test_engine_campaign import midday_zone

ROOT = Path(__file__).resolve().parents[2]
NAME = "发货关怀 delivery care"


def hotline_cli(url: str, tmp: Path, *argv: str) -> subprocess.CompletedProcess:
    """The `hotline` command in a process of its own, on the engine's database (as a manager would run it)."""
    env = {**os.environ, "HOTLINE_DB_URL": url, "HOTLINE_VAR_DIR": str(tmp / "var"), "HOTLINE_ADMIN_DEMO_MODE": "true"}
    return subprocess.run([sys.executable, "-m", "hotline", *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=180)


@pytest.fixture
def demo(tmp_path, database_maker):
    url = database_maker("sqlite")
    loaded = hotline_cli(url, tmp_path, "demo-data", "--scale", "0.02", "--no-progress")
    assert loaded.returncode == 0, loaded.stderr
    engine = start_engine(engine_settings(url, tmp_path, HOTLINE_DIALER_TICK_SECONDS="0.3",
                                          HOTLINE_DIALER_ENGINE_ID="box-demo"), web=False)
    pytest_twisted.blockon(engine.switch.when_connected())
    pytest_twisted.blockon(engine.dialing.started)
    yield engine, url, tmp_path
    engine.acd.stop()
    pytest_twisted.blockon(engine.stop())


def answers(session, attempt: CampaignAttempt) -> dict[str, str]:
    rows = session.execute(select(CampaignQuestion.key, CampaignAnswer.answer)
                           .join(CampaignQuestion, CampaignQuestion.id == CampaignAnswer.question_id)
                           .where(CampaignAnswer.attempt_id == attempt.id)).all()
    return dict(rows)


@pytest.mark.timeout(300)
@pytest_twisted.ensureDeferred
async def test_hotline_campaign_start_runs_the_demo_survey_and_stores_every_attempt_and_answer(demo):
    from crm_core.services.campaigns import Actor, update_campaign

    engine, url, tmp = demo
    with transaction(engine.sessions) as s:  # the manager's set-up: a zone where it is day now (calling hours)
        campaign = s.scalar(select(Campaign).where(Campaign.name == NAME))
        assert campaign is not None and campaign.status == "draft" and campaign.mode == "ivr"
        campaign_id = campaign.id
        update_campaign(s, campaign_id, {"timezone": midday_zone()}, actor=Actor("campaign"))
        contacts = {c.number: c.data for c in s.scalars(select(CampaignContact)
                                                         .where(CampaignContact.campaign_id == campaign_id))}
    assert len(contacts) == 4

    started = await in_thread(hotline_cli, url, tmp, "campaign", "start", NAME)
    assert started.returncode == 0, started.stderr
    assert "draft -> running" in started.stdout

    def attempts() -> list[CampaignAttempt]:
        with transaction(engine.sessions) as s:
            out = list(s.scalars(select(CampaignAttempt).where(CampaignAttempt.campaign_id == campaign_id)))
            for row in out:
                s.expunge(row)
            return out

    await wait_for(lambda: (done := attempts()) and len(done) == 4 and all(a.ended_at for a in done),
                   timeout=200, what="every demo contact called and the call closed")
    by_number = {a.number: a for a in attempts()}
    assert set(by_number) == set(contacts)  # every contact has its attempt, and nobody was called twice
    happy, unhappy, stop, silent = (by_number[n] for n in sorted(contacts))
    with transaction(engine.sessions) as s:
        assert answers(s, happy) == {"satisfied": "1", "courier_rating": "5"}
        assert answers(s, unhappy) == {"satisfied": "2", "courier_rating": "2"}
        assert answers(s, stop) == {"satisfied": "1", "courier_rating": "4"}
        assert answers(s, silent) == {"courier_rating": "3"}  # silent at the first question: no answer stored
        assert (happy.result, stop.result, silent.result) == ("answered", "answered", "answered")
        assert unhappy.result == "abandoned"  # asked for an agent; the campaign has none: the 2-s rule
        assert s.get(DoNotCall, stop.number) is not None
        skipped = s.scalar(select(CampaignContact).where(CampaignContact.campaign_id == campaign_id,
                                                         CampaignContact.number == stop.number))
        assert (skipped.status, skipped.skip_reason) == ("skipped", "do_not_call")
        cdrs = {r.uuid: r for r in s.scalars(select(CallDetailRecord)
                                             .where(CallDetailRecord.campaign_id == campaign_id))}
        assert {a.call_uuid for a in by_number.values()} <= set(cdrs)
        assert {r.direction for r in cdrs.values()} == {"outbound"}

    status = await in_thread(hotline_cli, url, tmp, "campaign", "status", NAME, "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["results"] == {"answered": 3, "abandoned": 1}
    assert report["engine_running"] is True
