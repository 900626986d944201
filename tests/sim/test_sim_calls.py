"""bridge, originate, agent phones and the inbound uuid_* api on live calls."""

from __future__ import annotations

import json

import pytest

from test_sim_apps import completes, execute


@pytest.fixture
def answered(harness):
    def make(script=""):
        call, session = harness.call(script=script)
        session.send("myevents")
        session.send("linger")
        execute(session, "answer")
        harness.advance(0.05)
        return call, session
    return make


def test_bridge_to_answering_phone_then_phone_hangs_up_call_continues(harness, answered):
    harness.sim.directory.register("1001", answer_after=2.0, talk_seconds=5.0)
    call, session = answered()
    execute(session, "bridge", "user/1001")
    harness.advance(2.1)
    names = session.event_names()
    assert "CHANNEL_BRIDGE" in names
    assert "CHANNEL_OUTGOING" not in names  # b-leg events never reach the socket (myevents)
    bridge = [e for e in session.events() if e["Event-Name"] == "CHANNEL_BRIDGE"][0]
    assert bridge["Other-Type"] == "originatee" and bridge["Bridge-A-Unique-ID"] == call.uuid
    b_uuid = bridge["Bridge-B-Unique-ID"]
    assert bridge["Other-Leg-Unique-ID"] == b_uuid
    harness.advance(5.1)
    done = completes(session)[-1]
    assert done["Application"] == "bridge" and done["Application-Response"] == "_none_"
    v = call.channel.variables
    assert (v["originate_disposition"], v["DIALSTATUS"], v["endpoint_disposition"]) == ("SUCCESS", "SUCCESS", "ANSWER")
    assert v["bridge_hangup_cause"] == v["last_bridge_hangup_cause"] == "NORMAL_CLEARING"
    assert v["bridge_uuid"] == v["last_bridge_to"] == v["signal_bond"] == b_uuid
    assert call.channel.up
    names = session.event_names()
    assert names[-2:] == ["CHANNEL_UNBRIDGE", "CHANNEL_EXECUTE_COMPLETE"]


@pytest.mark.parametrize("setup,cause,dialstatus", [
    (lambda d: d.unregister("1001"), "USER_NOT_REGISTERED", "USER_NOT_REGISTERED"),
    (lambda d: d.register("1001", busy=True), "USER_BUSY", "BUSY"),
    (lambda d: d.register("1001", reject=True), "CALL_REJECTED", "BUSY"),
    (lambda d: d.register("1001", answer_after=None), "NO_ANSWER", "NOANSWER"),
    (lambda d: None, "SUBSCRIBER_ABSENT", "SUBSCRIBER_ABSENT"),
])
def test_failed_bridge_with_continue_on_fail_keeps_call(harness, answered, setup, cause, dialstatus):
    setup(harness.sim.directory)
    call, session = answered()
    execute(session, "set", "continue_on_fail=true")
    execute(session, "bridge", "{originate_timeout=3}user/1001")
    harness.advance(3.2)
    done = completes(session)[-1]
    assert done["Application"] == "bridge" and done["Application-Response"] == "_none_"
    v = call.channel.variables
    assert (v["originate_disposition"], v["DIALSTATUS"], v["originate_failed_cause"]) == (cause, dialstatus, cause)
    assert call.channel.up


def test_failed_bridge_without_continue_on_fail_hangs_up_caller_in_traced_order(harness, answered):
    harness.sim.directory.unregister("1001")
    call, session = answered()
    execute(session, "bridge", "user/1001")
    harness.advance(0.1)
    names = session.event_names()
    i = names.index("CHANNEL_HANGUP")
    assert names[i:i + 4] == ["CHANNEL_HANGUP", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_UNPARK", "CHANNEL_EXECUTE_COMPLETE"]
    assert call.channel.hangup_cause == "USER_NOT_REGISTERED"


def test_unknown_endpoint_type_is_chan_not_implemented(harness, answered):
    call, session = answered()
    execute(session, "set", "continue_on_fail=true")
    execute(session, "bridge", "nosuchendpoint/foo")
    harness.advance(0.1)
    assert call.channel.variables["originate_disposition"] == "CHAN_NOT_IMPLEMENTED"


def test_caller_hangs_up_during_bridge(harness, answered):
    harness.sim.directory.register("1001", answer_after=0.5)
    call, session = answered(script="wait 2; hangup")
    execute(session, "bridge", "user/1001")
    harness.advance(2.5)
    names = session.event_names()
    i = names.index("CHANNEL_HANGUP")
    assert names[i:i + 5] == ["CHANNEL_HANGUP", "CHANNEL_UNBRIDGE", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_UNPARK",
                              "CHANNEL_EXECUTE_COMPLETE"]
    assert not harness.sim.channels or all(not ch.up for ch in harness.sim.channels.values())


def test_api_originate_to_phone_replies_uuid_then_events(harness):
    harness.sim.directory.register("1002", answer_after=0.0)
    peer = harness.client()
    peer.send("event plain CHANNEL_OUTGOING CHANNEL_CREATE CHANNEL_ORIGINATE CHANNEL_ANSWER CHANNEL_PARK CHANNEL_UUID")
    peer.send("api originate {origination_uuid=aaaaaaaa-1111-2222-3333-444444444444}user/1002 &park()")
    harness.advance(0.1)
    frames = peer.pull()
    assert frames[0].content_type == "api/response"  # the reply comes before the held events
    assert frames[0].text == "+OK aaaaaaaa-1111-2222-3333-444444444444\n"
    names = peer.event_names()
    assert names[:5] == ["CHANNEL_UUID", "CHANNEL_OUTGOING", "CHANNEL_CREATE", "CHANNEL_ORIGINATE", "CHANNEL_ANSWER"]
    assert "CHANNEL_PARK" in names
    assert peer.api("uuid_exists aaaaaaaa-1111-2222-3333-444444444444") == "true"


def test_api_originate_errors(harness):
    harness.sim.directory.register("1003", busy=True)
    harness.sim.directory.unregister("1004")
    peer = harness.client()
    assert peer.api("originate user/1004 &park()") == "-ERR USER_NOT_REGISTERED\n"
    assert peer.api("originate user/9999 &park()") == "-ERR SUBSCRIBER_ABSENT\n"
    assert peer.api("originate user/1003 &park()") == "-ERR USER_BUSY\n"


def test_bgapi_originate_no_answer_reports_in_background_job(harness):
    harness.sim.directory.register("1005", answer_after=None)
    peer = harness.client()
    peer.send("event plain BACKGROUND_JOB")
    peer.send("bgapi originate {originate_timeout=3}user/1005 &park()")
    harness.advance(3.1)
    job = [e for e in peer.events(peer.pull()) if e["Event-Name"] == "BACKGROUND_JOB"][0]
    assert job["_body"] == "-ERR NO_ANSWER\n"
    assert job["Job-Command-Arg"] == "{originate_timeout=3}user/1005 &park()"


def park_call(harness, dnis="3000"):
    harness.sim.set_target(dnis, "park")
    call = harness.sim.place_call("sipp", dnis)
    harness.advance(0.1)
    return call


def test_uuid_var_commands_have_traced_bodies(harness):
    call = park_call(harness)
    peer = harness.client()
    u = call.uuid
    assert peer.api(f"uuid_setvar {u} fsref hello world") == "+OK\n"
    assert peer.api(f"uuid_getvar {u} fsref") == "hello world"
    assert peer.api(f"uuid_setvar {u} fsref") == "+OK\n"
    assert peer.api(f"uuid_getvar {u} fsref") == "_undef_"
    assert peer.api(f"uuid_setvar_multi {u} a=1;b=2") == "+OK\n"
    assert peer.api(f"uuid_getvar {u} b") == "2"
    assert peer.api(f"uuid_exists {u}") == "true"
    assert peer.api("uuid_exists 00000000-0000-0000-0000-000000000000") == "false"
    assert peer.api(f"uuid_send_dtmf {u} 12#") == f"+OK {u} sent DTMF 12#.\n"
    dump = peer.api(f"uuid_dump {u}")
    assert dump.startswith("Event-Name: CHANNEL_DATA\n") and dump.endswith("\n\n")
    assert json.loads(peer.api(f"uuid_dump {u} json"))["Unique-ID"] == u


def test_uuid_recv_dtmf_produces_app_dtmf_events_20ms_apart(harness):
    call = park_call(harness)
    peer = harness.client()
    peer.send("event plain DTMF")
    assert peer.api(f"uuid_recv_dtmf {call.uuid} 34") == f"+OK {call.uuid} received DTMF 34.\n"
    harness.advance(0.1)
    evs = peer.events(peer.pull())
    assert [(e["DTMF-Digit"], e["DTMF-Source"]) for e in evs] == [("3", "APP"), ("4", "APP")]


def test_uuid_broadcast_and_break(harness):
    harness.wav("tone10s.wav", 10.0)
    call = park_call(harness)
    peer = harness.client()
    peer.send("event plain CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE PLAYBACK_START PLAYBACK_STOP")
    assert peer.api(f"uuid_broadcast {call.uuid} tone10s.wav aleg") == "+OK Message sent\n"
    harness.advance(1.5)
    assert peer.api(f"uuid_break {call.uuid}") == "+OK\n"
    harness.advance(0.1)
    evs = peer.events()
    assert [e["Event-Name"] for e in evs] == ["CHANNEL_EXECUTE", "PLAYBACK_START", "PLAYBACK_STOP",
                                              "CHANNEL_EXECUTE_COMPLETE"]
    assert evs[2]["Playback-Status"] == "break" and evs[3]["Application-Response"] == "FILE PLAYED"
    assert call.channel.up


def test_uuid_record_start_stop(harness):
    call = park_call(harness)
    peer = harness.client()
    peer.send("event plain RECORD_START RECORD_STOP MEDIA_BUG_START MEDIA_BUG_STOP")
    assert peer.api(f"uuid_record {call.uuid} start u.wav") == "+OK Success\n"
    harness.advance(1)
    assert peer.api(f"uuid_record {call.uuid} stop u.wav") == "+OK Success\n"
    assert peer.api(f"uuid_record {call.uuid} stop x.wav") == "-ERR Cannot stop record session!\n"
    assert peer.event_names() == ["RECORD_START", "MEDIA_BUG_START", "RECORD_STOP", "MEDIA_BUG_STOP"]
    assert (harness.recordings / "u.wav").exists()


def test_uuid_bridge_then_transfer_hangs_up_remaining_leg(harness):
    a = park_call(harness, "3000")
    b = park_call(harness, "3001")
    harness.sim.set_target("3003", "answer();sleep(1000);hangup()")
    peer = harness.client()
    assert peer.api(f"uuid_bridge {a.uuid} {b.uuid}") == f"+OK {b.uuid}\n"
    calls = json.loads(peer.api("show calls as json"))
    assert calls["row_count"] == 1 and calls["rows"][0]["b_uuid"] == b.uuid
    assert peer.api(f"uuid_transfer {b.uuid} 3003 XML public") == "+OK\n"
    harness.advance(0.1)
    assert a.channel.hangup_cause == "NORMAL_CLEARING"
    harness.advance(2)
    assert not b.channel.up


def test_show_channels_formats(harness):
    peer = harness.client()
    assert peer.api("show channels") == "\n0 total.\n"
    park_call(harness, "3000")
    park_call(harness, "3001")
    assert peer.api("show channels count") == "\n2 total.\n"
    data = json.loads(peer.api("show channels as json"))
    assert data["row_count"] == 2
    assert list(data["rows"][0])[:6] == ["uuid", "direction", "created", "created_epoch", "name", "state"]
    assert all(isinstance(v, str) for v in data["rows"][0].values())
    assert not peer.api("show channels as json").endswith("\n")


def test_hupall_replies_first_then_hangs_up_everything(harness):
    park_call(harness, "3000")
    park_call(harness, "3001")
    peer = harness.client()
    peer.send("event plain CHANNEL_HANGUP")
    frames = peer.send("api hupall NORMAL_CLEARING")
    assert frames[0].text == "+OK hangup all channels with cause NORMAL_CLEARING\n"
    harness.advance(1.5)
    assert peer.event_names(peer.pull()) == ["CHANNEL_HANGUP", "CHANNEL_HANGUP"]
    assert peer.api("show channels as json") == '{"row_count": 0}\n'
