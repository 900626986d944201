"""The simulator's own ``api sim ...`` commands and CUSTOM sim::transcript events."""

from __future__ import annotations

import json


def test_sim_call_returns_uuid_and_transcript_is_json(harness):
    harness.sim.set_target("9000", "answer();playback(silence_stream://500);hangup(NORMAL_CLEARING)")
    peer = harness.client()
    reply = peer.api('sim call {"from": "13800000001", "to": "9000", "script": "wait 0.2; press 5"}')
    assert reply.startswith("+OK ") and reply.endswith("\n")
    uuid = reply[4:].strip()
    harness.advance(2)
    data = json.loads(peer.api(f"sim transcript {uuid}"))
    assert data["uuid"] == uuid and data["up"] is False and data["hangup_cause"] == "NORMAL_CLEARING"
    kinds = [e["event"] for e in data["transcript"]]
    assert kinds[0] == "call" and "answer" in kinds and "prompt" in kinds and kinds[-1] == "hangup"
    assert {"event": "press", "digit": "5"} in [{k: v for k, v in e.items() if k != "t"} for e in data["transcript"]]


def test_sim_phone_register_set_list_unregister(harness):
    peer = harness.client()
    assert peer.api('sim phone register 1001 {"answer_after": 2}') == "+OK\n"
    assert peer.api('sim phone set 1001 {"talk_seconds": 5}') == "+OK\n"
    phones = json.loads(peer.api("sim phone list"))
    assert phones["1001"]["answer_after"] == 2 and phones["1001"]["talk_seconds"] == 5
    assert peer.api("sim phone unregister 1001") == "+OK\n"
    assert peer.api("originate user/1001 &park()") == "-ERR USER_NOT_REGISTERED\n"
    assert peer.api('sim phone set 1001 {"colour": "red"}').startswith("-ERR ")


def test_sim_target_routes_numbers(harness):
    peer = harness.client()
    assert peer.api("sim target 4.* park") == "+OK\n"
    assert json.loads(peer.api("sim target list"))[0]["pattern"] == "4.*"
    uuid = peer.api('sim call {"from": "1", "to": "4123"}')[4:].strip()
    harness.advance(0.1)
    assert harness.sim.channels[uuid].main_app[0] == "park"


def test_sim_dtmf_and_hangup_drive_a_live_call(harness):
    harness.sim.set_target("3000", "park")
    peer = harness.client()
    peer.send("event plain DTMF CHANNEL_HANGUP")
    uuid = peer.api('sim call {"from": "1", "to": "3000"}')[4:].strip()
    harness.advance(0.1)
    assert peer.api(f"sim dtmf {uuid} 12") == "+OK\n"
    harness.advance(0.3)
    assert peer.api(f"sim hangup {uuid} USER_BUSY") == "+OK\n"
    evs = peer.events()
    assert [e.get("DTMF-Digit") for e in evs if e["Event-Name"] == "DTMF"] == ["1", "2"]
    assert [e for e in evs if e["Event-Name"] == "CHANNEL_HANGUP"][0]["Hangup-Cause"] == "USER_BUSY"
    assert peer.api(f"sim hangup {uuid}") == "-ERR No such channel!\n"


def test_sim_errors_and_usage(harness):
    peer = harness.client()
    assert peer.api("sim").startswith("-USAGE")
    assert peer.api("sim call not-json").startswith("-ERR ")
    assert peer.api("sim transcript nope") == "-ERR no simulated call nope\n"


def test_custom_sim_transcript_events_reach_subscribers(harness):
    harness.sim.set_target("3000", "park")
    peer = harness.client()
    peer.send("event plain CUSTOM sim::transcript")
    harness.sim.place_call("1", "3000", "wait 0.2; press 9")
    harness.advance(0.5)
    evs = peer.events()
    assert all(e["Event-Subclass"] == "sim::transcript" for e in evs)
    assert [e["Sim-Event"] for e in evs][:2] == ["call", "app"]
    press = [e for e in evs if e["Sim-Event"] == "press"][0]
    data = json.loads(press["Sim-Data"])
    assert data["digit"] == "9" and data["t"] == 0.2
