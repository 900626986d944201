"""What a waiting caller hears in a running engine: position and expected wait from the prompt catalogue, in the
caller's language (not stock FreeSWITCH sounds, which the simulator cannot play and a Chinese caller could not use)."""

from __future__ import annotations

import pytest
import pytest_twisted

from engine_rig import engine_settings, start_engine, wait_for
from ivr.prompts.catalogue import Catalogue
from test_engine_acd import seed


@pytest.fixture
def hotline(tmp_path, database_maker):
    url = database_maker("sqlite")
    seed(url, tmp_path)
    engine = start_engine(engine_settings(url, tmp_path, HOTLINE_ACD_ANNOUNCE_EVERY="1",
                                          HOTLINE_ACD_CALLBACK_AFTER="0"), web=False)
    pytest_twisted.blockon(engine.switch.when_connected())
    yield engine
    engine.acd.stop()
    pytest_twisted.blockon(engine.stop())


@pytest_twisted.ensureDeferred
async def test_waiting_callers_hear_their_position_in_their_language_from_the_catalogue(hotline):
    acd = hotline.acd.acd
    for agent_id in (1, 2):
        acd.set_state(agent_id, "break", "meeting")  # nobody to answer: both wait, the wait has no estimate
    first = hotline.simulator.place_call("13900000001", "4008001234", "wait_prompt 2; wait 0.2; press 0; wait_hangup")
    await wait_for(lambda: first.uuid in acd.callers, timeout=20, what="the first caller in line", call=first)
    second = hotline.simulator.place_call("13900000002", "4008001234", "wait_prompt 2; wait 0.2; press 0; wait_hangup")
    await wait_for(lambda: second.uuid in acd.callers, timeout=20, what="the second caller in line", call=second)
    catalogue = Catalogue.load()
    next_in_line = catalogue.render_text("queue_next", "zh")
    one_ahead = catalogue.render_text("queue_position_no_estimate", "zh", position=1)

    def heard(call, words):
        return any(e.get("text") == words for e in call.transcript if e["event"] == "prompt")

    await wait_for(lambda: heard(first, next_in_line) and heard(second, one_ahead), timeout=20,
                   what="the position announcements", call=second)
    files = [e["file"] for e in first.transcript if e["event"] == "prompt"]
    assert not [f for f in files if "ivr-you_are_number" in f or "digits/" in f]  # no stock sounds
