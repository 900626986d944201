"""Scripted outbound callees of the simulator, through the real Switch client over loopback TCP.

``originate`` answers, rings out (NO_ANSWER after ``originate_timeout``), is
busy or refused with the causes FreeSWITCH gives (``-ERR USER_BUSY``,
``-ERR UNALLOCATED_NUMBER`` ..., ``sip_term_status`` on the leg), or is
answered by a machine that mod_amd's ``amd`` classifies and whose beep
mod_avmd reports as ``CUSTOM avmd::beep``; a seeded mix decides for numbers
nobody set.
"""

from __future__ import annotations

import collections

import pytest
import pytest_twisted
from twisted.internet import defer

from freeswitch.esl.errors import ApiError
from freeswitch.sim.apps.amd import amd_decision
from freeswitch.sim.callees import CalleeMix
from freeswitch.sim.phones import Endpoint
from loopback_clock import LoopbackClock


@pytest.fixture
def rig(tmp_path):
    made = LoopbackClock(tmp_path)
    yield made
    pytest_twisted.blockon(defer.ensureDeferred(made.stop()))


def outcome(d: defer.Deferred) -> list:
    box: list = []
    d.addBoth(box.append)
    return box


@pytest_twisted.ensureDeferred
async def test_busy_and_network_refusals_come_back_after_their_delay_with_freeswitch_causes(rig):
    switch = await rig.switch()
    hangups: list = []
    switch.subscribe("CHANNEL_HANGUP", hangups.append)
    ext = rig.sim.directory.external
    ext["13800000001"] = Endpoint(busy=True, fail_after=1.5)
    ext["13800000002"] = Endpoint(fail_cause="UNALLOCATED_NUMBER", fail_after=0.5)
    busy = outcome(switch.originate("sofia/gateway/itsp/13800000001", "&park()", timeout=30))
    gone = outcome(switch.originate("sofia/gateway/itsp/13800000002", "&park()", timeout=30))
    await rig.advance(1.0)
    assert busy == [] and len(gone) == 1
    assert isinstance(gone[0].value, ApiError) and gone[0].value.reply == "-ERR UNALLOCATED_NUMBER"
    await rig.advance(0.6)
    await rig.wait_for(lambda: busy, what="busy result")
    assert busy[0].value.reply == "-ERR USER_BUSY"
    await rig.wait_for(lambda: len(hangups) == 2, what="hangup events")
    causes = {e["Caller-Destination-Number"]: (e["Hangup-Cause"], e.get("variable_sip_term_status"))
              for e in hangups}
    assert causes == {"13800000001": ("USER_BUSY", "486"), "13800000002": ("UNALLOCATED_NUMBER", "404")}


@pytest_twisted.ensureDeferred
async def test_an_unanswered_call_rings_until_originate_timeout_then_no_answer(rig):
    switch = await rig.switch()
    rig.sim.directory.external["13800000003"] = Endpoint(answer_after=None)
    result = outcome(switch.originate("sofia/gateway/itsp/13800000003", "&park()", timeout=20))
    await rig.advance(19.5)
    assert result == []  # still ringing: it rings the whole time it was given
    await rig.advance(1.0)
    await rig.wait_for(lambda: result, what="no answer")
    assert result[0].value.reply == "-ERR NO_ANSWER"


@pytest_twisted.ensureDeferred
async def test_amd_tells_a_person_from_a_machine_with_mod_amd_variables_and_events(rig):
    switch = await rig.switch()
    events: list = []
    switch.subscribe("CUSTOM", events.append, subclass="amd::human")
    switch.subscribe("CUSTOM", events.append, subclass="amd::machine")
    ext = rig.sim.directory.external
    ext["13800000004"] = Endpoint(answer_after=3.0, greeting_seconds=0.8)
    ext["13800000005"] = Endpoint(answer_after=15.0, machine=True, greeting_seconds=8.0)
    person = outcome(switch.originate("sofia/gateway/itsp/13800000004", "&amd()", timeout=30,
                                      origination_uuid="00000000-0000-4000-8000-000000000004"))
    machine = outcome(switch.originate("sofia/gateway/itsp/13800000005", "&amd()", timeout=30,
                                       origination_uuid="00000000-0000-4000-8000-000000000005"))
    await rig.advance(3.0)
    await rig.wait_for(lambda: person, what="answer")
    assert person == ["00000000-0000-4000-8000-000000000004"]
    await rig.advance(1.7)
    await rig.wait_for(lambda: events, what="amd::human")
    assert (events[0]["Event-Subclass"], events[0]["Amd-Status"], events[0]["Call-command"]) == (
        "amd::human", "HUMAN", "amd")
    assert await switch.uuid_getvar(person[0], "amd_result") == "HUMAN"
    await rig.advance(10.3 + 1.5)
    await rig.wait_for(lambda: len(events) == 2, what="amd::machine")
    assert events[1]["Unique-ID"] == "00000000-0000-4000-8000-000000000005"
    assert await switch.uuid_getvar(machine[0], "amd_cause") == "LONGGREETING"


@pytest_twisted.ensureDeferred
async def test_avmd_reports_the_beep_after_the_greeting(rig):
    switch = await rig.switch()
    events: list = []
    for name in ("avmd::start", "avmd::beep", "avmd::stop"):
        switch.subscribe("CUSTOM", events.append, subclass=name)
    rig.sim.directory.external["13800000006"] = Endpoint(answer_after=2.0, machine=True, greeting_seconds=6.0)
    uuid = outcome(switch.originate("sofia/gateway/itsp/13800000006", "&park()", timeout=30))
    await rig.advance(2.0)
    await rig.wait_for(lambda: uuid, what="answer")
    assert await switch.api(f"uuid_broadcast {uuid[0]} app::avmd_start aleg") == "+OK Message sent\n"
    await rig.advance(0.3)
    await rig.wait_for(lambda: events, what="avmd::start")
    assert [e["Event-Subclass"] for e in events] == ["avmd::start"]
    await rig.advance(5.7)  # the greeting is still playing
    assert [e["Event-Subclass"] for e in events] == ["avmd::start"]
    await rig.advance(0.5)
    await rig.wait_for(lambda: len(events) == 2, what="avmd::beep")
    beep = events[1]
    assert (beep["Beep-Status"], beep["Unique-ID"], beep["Call-command"]) == ("DETECTED", uuid[0], "avmd")
    assert await switch.uuid_getvar(uuid[0], "avmd_detect") == "TRUE"
    await switch.api(f"uuid_broadcast {uuid[0]} app::avmd_stop aleg")
    await rig.advance(0.5)
    await rig.wait_for(lambda: len(events) == 3, what="avmd::stop")
    assert events[2]["Beep-Status"] == "DETECTED"
    await rig.advance(30.0)  # the machine records its message time, then hangs up
    assert not await switch.uuid_exists(uuid[0])


@pytest_twisted.ensureDeferred
async def test_a_seeded_callee_mix_decides_numbers_nobody_set_through_the_sim_api(rig):
    switch = await rig.switch()
    assert await switch.api('sim callees {"seed": 7, "answer": 0, "machine": 0, "busy": 1, "failed": 0}') == \
        "+OK\n"
    refused = outcome(switch.originate("sofia/gateway/itsp/13900000001", "&park()", timeout=30))
    await rig.advance(3.1)
    await rig.wait_for(lambda: refused, what="busy")
    assert refused[0].value.reply == "-ERR USER_BUSY"
    assert '"history": [["13900000001", 1, "busy"]]' in await switch.api("sim callees list")
    with pytest.raises(ApiError):
        await switch.api('sim callees {"seed": 1, "colour": 2}')


def test_the_mix_is_deterministic_per_number_and_attempt_and_follows_its_shares():
    first, second = CalleeMix(seed=3), CalleeMix(seed=3)
    numbers = [f"1380000{n:04d}" for n in range(2000)]
    for number in reversed(numbers):  # order does not matter
        second.endpoint_for(number)
    for number in numbers:
        first.endpoint_for(number)
    assert sorted(first.history) == sorted(second.history)
    kinds = collections.Counter(kind for _n, _i, kind in first.history)
    assert abs(kinds["answer"] / 2000 - 0.30) < 0.04 and abs(kinds["machine"] / 2000 - 0.10) < 0.03
    assert abs(kinds["no_answer"] / 2000 - 0.45) < 0.04
    again = first.endpoint_for(numbers[0])  # a retry is a new draw
    assert first.history[-1][:2] == (numbers[0], 2) and isinstance(again, Endpoint)
    with pytest.raises(ValueError):
        CalleeMix(answer=0.9, busy=0.5)


@pytest.mark.parametrize("callee, expected", [
    (Endpoint(greeting_seconds=1.0), (1.8, "HUMAN", "HUMAN")),
    (Endpoint(machine=True, greeting_seconds=9.0), (1.5, "MACHINE", "LONGGREETING")),
    (Endpoint(greeting_seconds=0.0), (2.5, "MACHINE", "INITIALSILENCE")),
    (Endpoint(machine=True, greeting_seconds=1.2), (2.0, "HUMAN", "HUMAN")),  # a short greeting fools it
])
def test_amd_decisions_follow_mod_amd_rules(callee, expected):
    at, result, cause = amd_decision(callee)
    assert (round(at, 3), result, cause) == expected
