"""An engine stops mid-campaign with calls in flight; the next one on the same database and switch finishes it.

One simulator lives through both engines (switch.mode = freeswitch over
loopback, the campaign context of ``dialplans/campaign`` installed as on a
real switch). No attempt is lost, nobody is dialled twice, every contact ends
with an attempt row and the campaign completes.
"""

from __future__ import annotations

import pytest_twisted
from sqlalchemy import select

from crm_core.db import transaction
from crm_core.models import Campaign, CampaignAttempt, CampaignContact
from engine_rig import engine_settings, start_engine, wait_for
from test_engine_acd import seed
from test_engine_campaign import make_campaign
from test_engine_restart import switch_box  # noqa: F401,F811 -- the fixture

NUMBERS = [f"+86138000003{i:02d}" for i in range(5)]


def attempts(engine, campaign_id):
    with transaction(engine.sessions) as s:
        out = list(s.scalars(select(CampaignAttempt).where(CampaignAttempt.campaign_id == campaign_id)
                             .order_by(CampaignAttempt.id)))
        for a in out:
            s.expunge(a)
        return out


def settings_for(url, tmp, sim_port, engine_port):
    return engine_settings(url, tmp, HOTLINE_SWITCH_MODE="freeswitch", HOTLINE_SWITCH_HOST="127.0.0.1",
                           HOTLINE_SWITCH_PORT=str(sim_port), HOTLINE_SWITCH_PASSWORD="ClueCon",
                           HOTLINE_CALLSERVER_PORT=str(engine_port), HOTLINE_DIALER_TICK_SECONDS="0.2",
                           HOTLINE_DIALER_ENGINE_ID="box-a")


def staffed(engine):
    for agent_id in (1, 2):
        engine.acd.acd.login(agent_id, ["sales"])
    return engine


@pytest_twisted.ensureDeferred
async def test_restart_mid_campaign_loses_no_attempt_and_dials_nobody_twice(tmp_path, database_maker, switch_box):
    from freeswitch.sim.phones import Endpoint
    from hotline.sim_dialplan import install_campaign

    sim, sim_port, engine_port = switch_box
    install_campaign(sim)
    dialled: list[str] = []
    sim.core.listeners.append(lambda kind, data: kind == "leg_create" and data["target"].startswith(
        "sofia/gateway/") and dialled.append(data["channel"].profile["Destination-Number"]))
    for ext in ("1001", "1002"):
        sim.directory.register(ext, answer_after=0.3, talk_seconds=1.5)
    for n in NUMBERS:
        sim.directory.external[n[3:]] = Endpoint(answer_after=2.0, talk_seconds=60)
    url = database_maker("sqlite")
    seed(url, tmp_path)
    first = start_engine(settings_for(url, tmp_path, sim_port, engine_port), web=False)
    await first.switch.when_connected()
    await first.dialing.started
    staffed(first)
    campaign_id = make_campaign(first, NUMBERS, name="Restart")
    await wait_for(lambda: len(dialled) >= 2, timeout=15, what="two calls in flight")
    in_flight = [a.id for a in attempts(first, campaign_id) if a.ended_at is None]
    assert in_flight

    await first.stop()  # planned stop with calls in flight
    first.acd.stop()
    second = start_engine(settings_for(url, tmp_path, sim_port, engine_port), web=False)
    try:
        await second.switch.when_connected()
        await second.dialing.started
        staffed(second)

        def finished() -> bool:
            with transaction(second.sessions) as s:
                return s.get(Campaign, campaign_id).status == "completed"

        await wait_for(finished, timeout=60, what="the campaign completed")
        rows = attempts(second, campaign_id)
        assert all(a.ended_at is not None and a.result for a in rows)  # no attempt lost (left open)
        assert {a.id for a in rows} >= set(in_flight)
        with transaction(second.sessions) as s:
            contacts = list(s.scalars(select(CampaignContact).where(CampaignContact.campaign_id == campaign_id)))
            assert all(c.status in ("done", "failed") for c in contacts)
            assert {c.number for c in contacts} == {a.number for a in rows}  # every contact has an attempt row
        for n in NUMBERS:  # every originate has its attempt; nobody was reached twice
            mine = [a for a in rows if a.number == n]
            assert dialled.count(n[3:]) == len([a for a in mine if a.hangup_cause != "NOT_SENT"])
            assert sum(a.result == "answered" for a in mine) <= 1
    finally:
        await second.stop()
        second.acd.stop()
