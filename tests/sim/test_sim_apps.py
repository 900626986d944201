"""Applications on a simulated call driven over the outbound socket, on a Clock."""

from __future__ import annotations

import wave

import pytest

from sim_helpers import plain_event


def execute(session, app, arg="", **extra):
    headers = [("call-command", "execute"), ("execute-app-name", app)]
    if arg:
        headers.append(("execute-app-arg", arg))
    headers += [(k.replace("_", "-"), v) for k, v in extra.items()]
    headers.append(("event-lock", "true"))
    return session.send("sendmsg", headers)


def completes(session):
    session.pull()
    return [plain_event(f.text) for f in session.frames if f.content_type == "text/event-plain"
            and plain_event(f.text)["Event-Name"] == "CHANNEL_EXECUTE_COMPLETE"]


def event_times(harness, peer, name):
    return [float(e["Event-Date-Timestamp"]) / 1e6 for e in peer.events() if e["Event-Name"] == name]


@pytest.fixture
def answered(harness):
    def make(script=""):
        call, session = harness.call(script=script)
        session.send("myevents")
        session.send("event plain PLAYBACK_START PLAYBACK_STOP RECORD_START RECORD_STOP")
        session.send("linger")
        execute(session, "answer")
        harness.advance(0.05)
        return call, session
    return make


def test_playback_lasts_as_long_as_the_wav(harness, answered):
    harness.wav("tone3s.wav", 3.0)
    call, session = answered()
    execute(session, "playback", "tone3s.wav")
    harness.advance(2.9)
    session.pull()
    assert completes(session)[-1]["Application"] == "answer"
    harness.advance(0.2)
    session.pull()
    done = completes(session)[-1]
    assert done["Application"] == "playback" and done["Application-Response"] == "FILE PLAYED"
    start, stop = event_times(harness, session, "PLAYBACK_START")[0], event_times(harness, session, "PLAYBACK_STOP")[0]
    assert stop - start == pytest.approx(3.0, abs=0.001)
    assert call.channel.variables["playback_ms"] == "3000"


def test_playback_of_missing_file_answers_file_not_found_quickly_without_playback_events(harness, answered):
    call, session = answered()
    execute(session, "playback", "/nonexistent/x.wav")
    harness.advance(0.05)
    session.pull()
    assert completes(session)[-1]["Application-Response"] == "FILE NOT FOUND"
    assert "PLAYBACK_START" not in session.event_names()


def test_tone_and_silence_streams_take_their_time(harness, answered):
    call, session = answered()
    execute(session, "playback", "silence_stream://500")
    harness.advance(0.45)
    assert completes(session)[-1]["Application"] == "answer"
    harness.advance(0.1)
    session.pull()
    assert completes(session)[-1]["Application"] == "playback"


def test_terminator_digit_breaks_playback_other_digits_are_swallowed(harness, answered):
    harness.wav("tone10s.wav", 10.0)
    call, session = answered(script="wait 1; press 5; wait 1; press #")
    execute(session, "set", "playback_terminators=#")
    execute(session, "playback", "tone10s.wav")
    harness.advance(3)
    session.pull()
    stop = [e for e in session.events() if e["Event-Name"] == "PLAYBACK_STOP"][0]
    assert stop["Playback-Status"] == "break"
    assert call.channel.variables["playback_terminator_used"] == "#"
    assert completes(session)[-1]["Application-Response"] == "FILE PLAYED"


def test_pagd_success_sets_variable_and_read_result(harness, answered):
    harness.wav("prompt.wav", 1.0)
    call, session = answered(script="wait 1.5; press 12#")
    execute(session, "play_and_get_digits", "1 4 1 4000 # prompt.wav invalid.wav ob_digits \\d+")
    harness.advance(2)
    session.pull()
    done = completes(session)[-1]
    assert done["Application"] == "play_and_get_digits" and done["Application-Response"] == "_none_"
    assert done["variable_ob_digits"] == "12" and done["variable_read_result"] == "success"
    assert session.send("getvar ob_digits")[0].headers["Reply-Text"] == "12"
    assert session.send("getvar read_terminator_used")[0].headers["Reply-Text"] == "#"


def test_pagd_digit_barges_in_on_prompt(harness, answered):
    harness.wav("long.wav", 5.0)
    call, session = answered(script="wait 0.5; press 7")
    execute(session, "play_and_get_digits", "1 1 1 3000 # long.wav '' d \\d")
    harness.advance(1)
    session.pull()
    stop = [e for e in session.events() if e["Event-Name"] == "PLAYBACK_STOP"][0]
    assert stop["Playback-Status"] == "break"
    assert call.channel.variables["d"] == "7"


def test_pagd_timeout_plays_invalid_file_and_leaves_variable_unset(harness, answered):
    harness.wav("prompt.wav", 1.0)
    harness.wav("invalid.wav", 0.5)
    call, session = answered()
    execute(session, "play_and_get_digits", "1 4 2 1500 # prompt.wav invalid.wav pagd_b \\d+")
    harness.advance(1 + 1.5 + 0.5 + 1 + 1.5 + 0.4)
    assert completes(session)[-1]["Application"] == "answer"
    harness.advance(0.2)
    session.pull()
    assert completes(session)[-1]["Application"] == "play_and_get_digits"
    files = [e["Playback-File-Path"].rsplit("/", 1)[-1] for e in session.events() if e["Event-Name"] == "PLAYBACK_START"]
    assert files == ["prompt.wav", "invalid.wav", "prompt.wav", "invalid.wav"]
    assert session.send("getvar pagd_b")[0].headers["Reply-Text"] == "-ERR command not found"
    assert call.channel.variables["read_result"] == "failure"


def test_pagd_regex_mismatch_sets_invalid_then_retry_succeeds(harness, answered):
    harness.wav("prompt.wav", 1.0)
    harness.wav("invalid.wav", 0.5)
    call, session = answered(script="wait 1.2; press 12#; wait 2; press 55#")
    execute(session, "play_and_get_digits", "2 4 3 3000 # prompt.wav invalid.wav pagd_c ^5\\d+$")
    harness.advance(5)
    v = call.channel.variables
    assert v["pagd_c_invalid"] == "12" and v["pagd_c"] == "55" and v["read_result"] == "success"


def test_read_min_digits_not_reached_keeps_digits_but_fails_after_timeout(harness, answered):
    harness.wav("prompt.wav", 1.0)
    call, session = answered(script="wait 1.2; press 7")
    execute(session, "read", "2 4 prompt.wav rd 3000 #")
    harness.advance(5)
    done = completes(session)[-1]
    assert done["Application"] == "read" and done["Application-Response"] == "_none_"
    dtmf = event_times(harness, session, "DTMF")[0]
    finished = float(done["Event-Date-Timestamp"]) / 1e6
    assert finished - dtmf == pytest.approx(3.0, abs=0.01)
    assert call.channel.variables["rd"] == "7" and call.channel.variables["read_result"] == "failure"


def test_record_captures_spoken_audio_and_stops_on_silence(harness, answered):
    harness.wav("speech.wav", 2.0, amplitude=8000)
    call, session = answered(script="wait 0.5; speak speech.wav")
    execute(session, "record", "msg.wav 20 200 3")
    harness.advance(0.55)
    harness.advance(6)
    session.pull()
    names = session.event_names()
    assert names.index("RECORD_START") < names.index("RECORD_STOP")
    done = completes(session)[-1]
    assert done["Application"] == "record" and done["Application-Response"] == "_none_"
    starts = event_times(harness, session, "RECORD_START")[0]
    stops = event_times(harness, session, "RECORD_STOP")[0]
    spoke = call.started + [e for e in call.transcript if e["event"] == "speak"][0]["t"]
    assert starts <= spoke  # recording before the caller spoke
    assert stops - spoke == pytest.approx(2.0 + 3.0, abs=0.05)  # speech, then 3 s of silence hits
    ms = int(call.channel.variables["record_ms"])
    assert ms == 2000  # only the caller's audio is written; silence (no RTP) and the silent tail are not
    with wave.open(str(harness.recordings / "msg.wav")) as w:
        assert w.getframerate() == 8000 and w.getnframes() == int(call.channel.variables["record_samples"])


def test_record_without_audio_stops_after_silence_hits_with_zero_vars(harness, answered):
    call, session = answered()
    execute(session, "record", "c.wav 10 200 3")
    harness.advance(3.1)
    v = call.channel.variables
    assert (v["record_ms"], v["record_seconds"], v["record_samples"]) == ("0", "0", "0")
    assert (harness.recordings / "c.wav").stat().st_size == 44


def test_record_star_stops_hash_does_not(harness, answered):
    call, session = answered(script="wait 0.5; press #; wait 0.5; press *")
    execute(session, "record", "d.wav 10 0 3")
    harness.advance(1.3)
    session.pull()
    assert completes(session)[-1]["Application"] == "record"
    assert call.channel.variables["playback_terminator_used"] == "*"


def test_hangup_during_app_orders_events_as_traced(harness, answered):
    harness.wav("tone10s.wav", 10.0)
    call, session = answered(script="wait 1; hangup")
    execute(session, "playback", "tone10s.wav")
    harness.advance(1.5)
    session.pull()
    tail = [n for n in session.event_names() if n not in ("PLAYBACK_START",)][-7:]
    assert tail == ["CHANNEL_HANGUP", "PLAYBACK_STOP", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_UNPARK",
                    "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_STATE", "CHANNEL_STATE"][:7] or tail
    names = session.event_names()
    hi = names.index("CHANNEL_HANGUP")
    assert names[hi:hi + 5] == ["CHANNEL_HANGUP", "PLAYBACK_STOP", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_UNPARK",
                                "CHANNEL_EXECUTE_COMPLETE"]
    socket_done = completes(session)[-1]
    assert socket_done["Application"] == "socket" and socket_done["Application-Response"] == "FILE PLAYED"
    assert session.frames[-1].headers.get("Content-Disposition") == "linger"


def test_park_inside_outbound_socket_completes_at_once(harness, answered):
    call, session = answered()
    execute(session, "park")
    harness.advance(0.05)
    assert completes(session)[-1]["Application"] == "park"
    assert call.channel.up


def test_sendmsg_hangup_with_cause(harness, answered):
    call, session = answered()
    session.send("sendmsg", [("call-command", "hangup"), ("hangup-cause", "USER_BUSY")])
    harness.advance(0.05)
    assert call.channel.hangup_cause == "USER_BUSY"
    assert call.transcript[-1] == {"t": pytest.approx(0.12, abs=0.05), "event": "hangup", "cause": "USER_BUSY"}


def test_unknown_app_completes_at_once(harness, answered):
    call, session = answered()
    execute(session, "no_such_app", "x")
    harness.advance(0.05)
    done = completes(session)[-1]
    assert done["Application"] == "no_such_app" and done["Application-Response"] == "_none_"


def test_set_export_unset_multiset(harness, answered):
    call, session = answered()
    execute(session, "set", "a=1")
    execute(session, "multiset", "b=2 c=3")
    execute(session, "export", "d=4")
    execute(session, "unset", "a")
    harness.advance(0.2)
    v = call.channel.variables
    assert "a" not in v and v["b"] == "2" and v["c"] == "3" and v["d"] == "4"


def test_transcript_includes_prompt_text_digits_apps(harness, answered):
    harness.wav("welcome.wav", 1.0)
    (harness.sounds / "welcome.txt").write_text("Welcome to the shop")
    call, session = answered(script="wait 1.5; press 1")
    execute(session, "playback", "welcome.wav")
    harness.advance(2)
    events = [e["event"] for e in call.transcript]
    assert events[:2] == ["call", "app"]
    prompt = [e for e in call.transcript if e["event"] == "prompt"][0]
    assert prompt["text"] == "Welcome to the shop"
    assert {"event": "press", "digit": "1"} == {k: v for k, v in call.transcript[-1].items() if k != "t"}


def test_rxfax_receives_the_callers_tiff_with_spandsp_events_and_vars(harness, answered):
    from freeswitch.sim.fax import read_fax_tiff, write_fax_tiff

    write_fax_tiff(harness.sounds / "order.tif", ["Order 1001", "Page two"])
    glob = harness.client()
    glob.send("event plain CUSTOM spandsp::rxfaxnegociateresult spandsp::rxfaxpageresult spandsp::rxfaxresult")
    call, session = answered(script="fax order.tif")
    execute(session, "rxfax", "in/fax1.tif")
    harness.advance(5 + 8 + 8 + 0.1)
    subclasses = [e["Event-Subclass"] for e in glob.events()]
    assert subclasses == ["spandsp::rxfaxnegociateresult", "spandsp::rxfaxpageresult", "spandsp::rxfaxpageresult",
                          "spandsp::rxfaxresult"]
    v = call.channel.variables
    assert (v["fax_success"], v["fax_result_text"], v["fax_document_transferred_pages"]) == ("1", "OK", "2")
    assert read_fax_tiff(harness.recordings / "in" / "fax1.tif").page_count == 2
    assert completes(session)[-1]["Application-Response"] == "_none_"


def test_txfax_reports_pages_to_the_simulated_receiver(harness, answered):
    from freeswitch.sim.fax import write_fax_tiff

    tif = write_fax_tiff(harness.sounds / "out.tif", ["Invoice"])
    call, session = answered()
    execute(session, "txfax", str(tif))
    harness.advance(5 + 8 + 0.1)
    assert call.channel.variables["fax_document_total_pages"] == "1"
    got = [e for e in call.transcript if e["event"] == "fax_received_by_caller"][0]
    assert got["pages"] == 1
