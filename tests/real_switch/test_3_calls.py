"""Real SIP calls through the switch to the engine: feature codes, the IVR with both kinds of keys, the agent.

Agent 1001's phone is a sipp phone registered with its generated password
(conftest ``agent_phone``); callers are sipp callers on the trunk, sending
keys as RFC 2833 RTP events (rtp.py) or as SIP INFO: one reaches the agent
with RFC 2833 keys, one leaves a complaint with SIP INFO keys, one (SIP
INFO) waits in hold music through an engine crash and reaches the agent
after the restart. Each test sets the agent state it needs with feature
codes first.
"""

from __future__ import annotations

import time

import pytest

from calls import Record, assert_played_files_exist, channel_of, closed_cdr, dial_feature, digits, executes, menu, \
    nudge, start_caller, wait_state
from events import on_channel
from rtp import RtpStream
from sipp import Caller

DID = "4008001234"


@pytest.fixture(scope="module")
def record(deployment):
    return Record(deployment.db_url)


def feature_channel(events, code: str, start: int) -> str:
    return events.wait(lambda e: e.get("Event-Name") == "CHANNEL_CREATE" and e.get("Caller-Destination-Number") == code
                       and (e.get("Channel-Name") or "").startswith("sofia/agents/1001@"),
                       f"the {code} call", 20, start)["Unique-ID"]


@pytest.mark.timeout(180)
def test_star61_logs_in_not_ready_star63_makes_ready_each_after_its_confirmation(deployment, events, record,
                                                                                agent_phone):
    agent = record.agent_id("1001")
    dial_feature(deployment, agent_phone, "*62", "feature-62")
    wait_state(record, agent, "logged_out")
    for code, state in (("*61", "not_ready"), ("*63", "available")):
        start = events.mark()
        dial_feature(deployment, agent_phone, code, f"feature-{code[1:]}")
        uuid = feature_channel(events, code, start)
        assert events.find(executes(uuid, "socket"), start)  # the dialplan handed it to the engine
        said = events.wait(lambda e: e.get("Event-Name") == "CHANNEL_EXECUTE_COMPLETE" and e.get("Unique-ID") == uuid
                           and e.get("Application") == "playback", f"the {code} confirmation", 20, start)
        assert said["Application-Response"] == "FILE PLAYED"
        assert_played_files_exist(events, uuid, start)
        changed = wait_state(record, agent, state)
        assert changed >= int(said["Event-Date-Timestamp"]) / 1e6 - 0.05  # not before the confirmation ended


@pytest.mark.timeout(240)
def test_caller_walks_the_ivr_with_rfc2833_keys_reaches_the_agent_phone_and_the_cdr_closes(
        deployment, events, api, record, agent_phone):
    dial_feature(deployment, agent_phone, "*63", "feature-63-ready")
    agent = record.agent_id("1001")
    wait_state(record, agent, "available")
    stream = RtpStream()
    one, zero = deployment.sipp_dir / "walk-1.pcap", deployment.sipp_dir / "walk-0.pcap"
    caller = Caller("13900000101", DID, "127.0.0.1")
    stream.dtmf(one, "1")
    stream.dtmf(zero, "0")
    caller.wait_info().play(one).wait_info().play(zero)
    caller.wait_info().bye()
    start = events.mark()
    sipp = start_caller(deployment, caller, "caller-rfc2833")
    uuid = channel_of(events, caller.ani, start)
    menu(events, uuid, start, 1, "the language menu")
    nudge(api, uuid)  # 1: Mandarin
    menu(events, uuid, start, 2, "the main menu")
    nudge(api, uuid)  # 0: an agent
    bridged = events.wait(on_channel(uuid, "CHANNEL_BRIDGE"), "the agent phone to answer", 60, start)
    leg = bridged["Other-Leg-Unique-ID"]
    created = events.wait(on_channel(leg, "CHANNEL_CREATE"), "the agent leg", 5, start)
    assert created["Channel-Name"] == f"sofia/agents/1001@127.0.0.1:{agent_phone.port}"
    assert digits(events, uuid, start) == [("1", "RTP"), ("0", "RTP")]
    time.sleep(1.0)  # talking
    nudge(api, uuid)  # the caller hangs up
    sipp.ok(30)
    events.wait(on_channel(uuid, "CHANNEL_HANGUP_COMPLETE"), "the caller's hang-up", 20, start)
    row = closed_cdr(record, uuid)
    assert row.agent_id == agent and row.answered_at is not None and row.ended_at >= row.answered_at
    assert row.dnis == DID and row.ani == caller.ani
    assert_played_files_exist(events, uuid, start)


def _speech(folder, text: str):
    """The caller's words as 8 kHz speech (espeak-ng), for the switch to record."""
    from ivr.prompts.tts import DEFAULT_RATE, make_synthesizer, render_wav

    wav = folder / "complaint-words.wav"
    render_wav(make_synthesizer("espeak-ng"), text, "gmw/en-us", DEFAULT_RATE, wav)
    return wav


def _loudest(path) -> int:
    import struct
    import wave

    with wave.open(str(path), "rb") as w:
        frames = w.readframes(w.getnframes())
        assert w.getsampwidth() == 2
    return max(abs(s) for s in struct.unpack(f"<{len(frames) // 2}h", frames)) if frames else 0


@pytest.mark.timeout(240)
def test_caller_walks_the_ivr_with_sip_info_keys_and_leaves_a_complaint_voicemail(deployment, events, api, record):
    from crm_core.models import Complaint
    from sqlalchemy import select

    stream = RtpStream()
    words = deployment.sipp_dir / "complaint-words.pcap"
    seconds = stream.speech(words, _speech(deployment.sipp_dir, "The knife I ordered arrived broken. "
                                                                 "Please call me back about it."))
    caller = Caller("13900000202", DID, "127.0.0.1")
    caller.wait_info().info_digit("2")  # language: English
    caller.wait_info().info_digit("5")  # complaints
    caller.wait_info().info_digit("1")  # category: product quality
    caller.wait_info().play(words, seconds).info_digit("#")  # speak after the beep, # ends the message
    caller.wait_info().info_digit("3")  # review: save it
    caller.wait_info().bye()  # back in the main menu: done
    start = events.mark()
    sipp = start_caller(deployment, caller, "caller-info-complaint")
    uuid = channel_of(events, caller.ani, start)
    for count, what in ((1, "the language menu"), (2, "the main menu"), (3, "the complaint categories")):
        menu(events, uuid, start, count, what)
        nudge(api, uuid)
    recording = events.wait(executes(uuid, "record"), "the recording to start", 60, start)
    nudge(api, uuid)
    menu(events, uuid, start, 4, "the review menu")
    nudge(api, uuid)
    menu(events, uuid, start, 5, "the main menu after the ticket number")
    nudge(api, uuid)
    sipp.ok(30)
    assert digits(events, uuid, start) == [("2", "ENDPOINT"), ("5", "ENDPOINT"), ("1", "ENDPOINT"),
                                           ("#", "ENDPOINT"), ("3", "ENDPOINT")]
    path = recording["Application-Data"].split()[0]
    complaint = record.read(lambda s: (lambda c: (c.category, c.voicemail.audio_path, c.voicemail.duration_seconds,
                                                  c.voicemail.call_uuid) if c else None)(
        s.scalars(select(Complaint).order_by(Complaint.id.desc())).first()))
    assert complaint is not None
    category, audio_path, duration, call_uuid = complaint
    assert (category, audio_path, call_uuid) == ("product_quality", path, uuid)
    assert duration >= seconds * 0.8
    assert _loudest(audio_path) > 1000  # the caller's RTP speech is in the file, not silence
    assert_played_files_exist(events, uuid, start)


@pytest.mark.timeout(300)
def test_engine_killed_with_a_caller_in_hold_music_serves_the_caller_after_restart(deployment, events, api, record,
                                                                                  agent_phone):
    """Killed, restarted: the caller hears Hotline's own "one moment", is back in line, and the agent takes it --
    the phone rings only once the agent's *63 call is over."""
    from ivr.prompts.switch_prompts import switch_prompt_path

    agent = record.agent_id("1001")
    dial_feature(deployment, agent_phone, "*61", "feature-61-login")  # logged in (whatever it was before)...
    dial_feature(deployment, agent_phone, "*64", "feature-64-not-ready")  # ...and not ready: nobody takes calls
    wait_state(record, agent, "not_ready")
    caller = Caller("13900000303", DID, "127.0.0.1")  # this one walks the IVR with SIP INFO keys
    caller.wait_info().info_digit("1").wait_info().info_digit("0").wait_info().bye()
    start = events.mark()
    sipp = start_caller(deployment, caller, "caller-restart")
    uuid = channel_of(events, caller.ani, start)
    for count, what in ((1, "the language menu"), (2, "the main menu")):
        menu(events, uuid, start, count, what)
        nudge(api, uuid)
    hold = lambda e: executes(uuid, "playback")(e) and e.get("Application-Data") == "local_stream://moh"  # noqa: E731
    events.wait(hold, "hold music", 60, start)
    assert api.api(f"uuid_getvar {uuid} hotline_acd_queue").strip() not in ("", "_undef_")  # its place, on the channel

    deployment.kill_engine()
    time.sleep(1.0)
    assert api.api(f"uuid_exists {uuid}").strip() == "true"  # the caller is still there, in the music
    restart = events.mark()
    deployment.start_engine()
    played = events.wait(lambda e: e.get("Event-Name") == "PLAYBACK_START" and e.get("Unique-ID") == uuid,
                         "the reconnect prompt", 60, restart)
    prompt = switch_prompt_path(deployment.var / "prompts", "reconnect_hold")
    assert played["Playback-File-Path"] == str(prompt) and prompt.is_file()  # Hotline's own file, and it exists
    events.wait(hold, "hold music again, back in line", 60, restart)

    ready = events.mark()
    dial_feature(deployment, agent_phone, "*63", "feature-63-after-restart")
    feature = feature_channel(events, "*63", ready)
    feature_gone = events.wait(on_channel(feature, "CHANNEL_HANGUP_COMPLETE"), "the *63 call to end", 20, ready)
    bridged = events.wait(on_channel(uuid, "CHANNEL_BRIDGE"), "the agent to answer the caller", 60, ready)
    rung = events.wait(on_channel(bridged["Other-Leg-Unique-ID"], "CHANNEL_CREATE"), "the agent leg", 5, ready)
    assert rung.at >= feature_gone.at  # never offered while the phone was on its *63 call
    nudge(api, uuid)
    sipp.ok(30)
    assert digits(events, uuid, start) == [("1", "ENDPOINT"), ("0", "ENDPOINT")]
    row = closed_cdr(record, uuid)
    assert row.agent_id == agent and row.answered_at is not None
    assert_played_files_exist(events, uuid, start)  # the reconnect prompt included
