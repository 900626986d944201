"""Inbound event socket: auth, -ERR forms, bgapi, subscriptions, filters, myevents quirks."""

from __future__ import annotations

import json

from sim_helpers import plain_event


def replies(frames):
    return [f.headers.get("Reply-Text") for f in frames if f.content_type == "command/reply"]


def test_connect_sends_auth_request_only(harness):
    peer = harness.client(auth=False)
    assert [f.headers for f in peer.frames] == [{"Content-Type": "auth/request"}]


def test_command_before_auth_is_refused_but_connection_stays(harness):
    peer = harness.client(auth=False)
    assert replies(peer.send("api status")) == ["-ERR command not found"]
    assert not peer.disconnected
    assert replies(peer.send("auth ClueCon")) == ["+OK accepted"]


def test_wrong_password_gets_err_invalid_then_disconnect_notice_and_close(harness):
    peer = harness.client(auth=False)
    frames = peer.send("auth NotThePassword")
    assert frames[0].headers == {"Content-Type": "command/reply", "Reply-Text": "-ERR invalid"}
    assert frames[1].header_order == ["Content-Type", "Content-Length"]
    assert frames[1].text == "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
    assert peer.disconnected


def test_exit_replies_bye_then_plain_disconnect_notice(harness):
    peer = harness.client()
    frames = peer.send("exit")
    assert replies(frames) == ["+OK bye"]
    assert frames[1].content_type == "text/disconnect-notice"
    assert "Controlled-Session-UUID" not in frames[1].headers
    assert peer.disconnected


def test_crlf_commands_are_accepted(harness):
    peer = harness.client(auth=False)
    peer.protocol.dataReceived(b"auth ClueCon\r\n\r\napi version\r\n\r\n")
    frames = peer.pull()
    assert replies(frames) == ["+OK accepted"]
    assert frames[1].text == "FreeSWITCH Version 1.11.1-release~64bit ( 64bit)\n"


def test_idle_unauthenticated_connection_dropped_after_timeout(harness):
    peer = harness.client(auth=False)
    harness.clock.advance(24.9)
    assert not peer.disconnected
    harness.clock.advance(0.2)
    frames = peer.pull()
    assert frames[0].content_type == "text/disconnect-notice"
    assert peer.disconnected


def test_commands_split_into_tiny_chunks_still_parse(harness):
    peer = harness.client()
    frames = peer.send("api version", chunk=1)
    assert frames[0].headers == {"Content-Type": "api/response", "Content-Length": "49"}


def test_api_errors_live_in_the_body(harness):
    peer = harness.client()
    assert peer.send("api no_such_api_command arg1")[0].text == "-ERR no_such_api_command Command not found!\n"
    assert peer.send("api global_getvar nonexistent_var_xyz")[0].text == "-ERR no reply\n"
    assert peer.send("api show channels as json")[0].text == '{"row_count": 0}\n'
    assert peer.send("api reloadxml")[0].text == "+OK [Success]\n"
    assert peer.send("api uuid_kill 00000000-0000-0000-0000-000000000000")[0].text == "-ERR No such channel!\n"


def test_bgapi_without_subscription_delivers_no_event(harness):
    peer = harness.client()
    frames = peer.send("bgapi status")
    assert len(frames) == 1
    job = frames[0].headers["Job-UUID"]
    assert frames[0].header_order == ["Content-Type", "Reply-Text", "Job-UUID"]
    assert frames[0].headers["Reply-Text"] == f"+OK Job-UUID: {job}"
    harness.advance(0.1)
    assert peer.pull() == []


def test_bgapi_with_subscription_and_client_job_uuid(harness):
    peer = harness.client()
    assert replies(peer.send("event plain BACKGROUND_JOB")) == ["+OK event listener enabled plain"]
    job = "11111111-2222-3333-4444-555555555555"
    frames = peer.send("bgapi version", headers=[("Job-UUID", job)])
    assert frames[0].headers["Job-UUID"] == job
    assert frames[1].header_order == ["Content-Length", "Content-Type"]
    ev = plain_event(frames[1].text)
    assert ev["Event-Name"] == "BACKGROUND_JOB" and ev["Job-UUID"] == job and ev["Job-Command"] == "version"
    assert ev["_body"] == "FreeSWITCH Version 1.11.1-release~64bit ( 64bit)\n"
    assert "Job-Command-Arg" not in ev


def test_error_forms_match_freeswitch(harness):
    peer = harness.client()
    assert replies(peer.send("linger")) == ["-ERR not controlling a session"]
    assert replies(peer.send("nolinger")) == ["-ERR not controlling a session"]
    assert replies(peer.send("myevents")) == ["-ERR command not found"]
    assert replies(peer.send("this_is_not_a_command")) == ["-ERR command not found"]
    assert replies(peer.send("event plain NOT_AN_EVENT_NAME")) == ["-ERR no keywords supplied"]
    assert replies(peer.send("nixevent BACKGROUND_JOB")) == ["+OK events nixed"]  # also turns listening on
    assert replies(peer.send("noevents")) == ["+OK no longer listening for events"]  # as inbound/02 shows
    assert replies(peer.send("noevents")) == ["-ERR not listening for events"]
    assert replies(peer.send("log 7")) == ["+OK log level 7 [7]"]
    assert replies(peer.send("nolog")) == ["+OK no longer logging"]
    assert replies(peer.send("nolog")) == ["-ERR not loging"]
    assert replies(peer.send("filter")) == ["-ERR command not found"]
    assert replies(peer.send("sendmsg 00000000-0000-0000-0000-000000000000",
                              [("call-command", "execute"), ("execute-app-name", "answer")])) == [
        "-ERR invalid session id [00000000-0000-0000-0000-000000000000]"]


def test_filters_add_and_delete(harness):
    peer = harness.client()
    peer.send("event plain ALL")
    assert replies(peer.send("filter Event-Name HEARTBEAT")) == ["+OK filter added. [Event-Name]=[HEARTBEAT]"]
    peer.send("api version")
    assert "API" not in peer.event_names()
    harness.clock.advance(20)
    assert "HEARTBEAT" in peer.event_names(peer.pull())
    assert replies(peer.send("filter delete Event-Name HEARTBEAT")) == ["+OK filter deleted. [Event-Name][HEARTBEAT]"]
    assert replies(peer.send("filter delete Event-Name NEVERADDED")) == ["+OK filter deleted. [Event-Name][NEVERADDED]"]


def test_api_event_follows_api_reply(harness):
    peer = harness.client()
    peer.send("event plain API")
    frames = peer.send("api status")
    assert frames[0].content_type == "api/response"
    ev = plain_event(frames[1].text)
    assert ev["Event-Name"] == "API" and ev["API-Command"] == "status"


def test_heartbeat_every_20_seconds_with_re_schedule(harness):
    peer = harness.client()
    peer.send("event plain HEARTBEAT RE_SCHEDULE")
    harness.clock.advance(20)
    assert peer.event_names(peer.pull()) == ["HEARTBEAT", "RE_SCHEDULE"]
    harness.clock.advance(20)
    assert peer.event_names(peer.pull()) == ["HEARTBEAT", "RE_SCHEDULE"]


def test_json_and_xml_event_formats(harness):
    peer = harness.client()
    assert replies(peer.send("event json BACKGROUND_JOB")) == ["+OK event listener enabled json"]
    frames = peer.send("bgapi version")
    assert frames[1].content_type == "text/event-json"
    data = json.loads(frames[1].text)
    assert data["Event-Name"] == "BACKGROUND_JOB" and data["_body"].startswith("FreeSWITCH Version")
    assert all(isinstance(v, str) for v in data.values())
    assert not frames[1].text.endswith("\n")
    peer.send("event xml BACKGROUND_JOB")
    frames = peer.send("bgapi version")
    assert frames[1].content_type == "text/event-xml"
    assert frames[1].text.startswith("<event>\n  <headers>\n    <Event-Name>BACKGROUND_JOB</Event-Name>")
    assert "<Event-Date-Local>" in frames[1].text and "%3A" in frames[1].text
    assert frames[1].text.endswith("  </body>\n</event>\n")


def test_sendevent_custom_reaches_subscriber_in_traced_header_order(harness):
    peer = harness.client()
    peer.send("event plain CUSTOM fsref::test")
    frames = peer.send("sendevent CUSTOM", [("Event-Subclass", "fsref::test"),
                                            ("X-Fsref-Header", "a value with spaces & symbols %/:="),
                                            ("X-Empty", " ")], body="hello body\n")
    assert frames[0].headers["Reply-Text"].startswith("+OK ")
    names = [n for n in frames[1].text.split("\n\n")[0].split("\n")]
    assert names[0] == "Event-Subclass: fsref%3A%3Atest"
    assert names[1] == "Command: sendevent%20CUSTOM"
    assert names[2] == "X-Fsref-Header: a%20value%20with%20spaces%20%26%20symbols%20%25/%3A%3D"
    assert not any(n.startswith("X-Empty") for n in names)
    assert frames[1].text.endswith("Content-Length: 11\n\nhello body\n")


def test_myevents_quirks_on_inbound(harness):
    peer = harness.client()
    call, _ = harness.call(script="")
    assert replies(peer.send(f"myevents json {call.uuid}")) == ["-ERR invalid uuid"]
    assert replies(peer.send(f"myevents {call.uuid} json")) == ["+OK Events Enabled"]
    assert replies(peer.send(f"myevents {call.uuid}")) == ["-ERR aready enabled."]
    assert replies(peer.send("linger 3")) == ["+OK will linger 3 seconds"]
    peer.send(f"api uuid_kill {call.uuid}")
    harness.advance(0.1)
    peer.pull()
    frames = peer.frames
    kinds = [f.content_type for f in frames]
    assert "text/disconnect-notice" in kinds
    linger = [f for f in frames if f.headers.get("Content-Disposition") == "linger"][0]
    assert linger.headers["Linger-Time"] == "3"
    assert not peer.disconnected
    harness.advance(3.5, step=0.1)
    last = peer.pull()[-1]
    assert last.headers.get("Content-Disposition") == "disconnect"
    assert peer.disconnected


def test_myevents_unknown_uuid_enables_all_channel_events(harness):
    peer = harness.client()
    assert replies(peer.send("myevents 00000000-0000-0000-0000-000000000001")) == ["+OK Events Enabled"]
    harness.call()
    assert "CHANNEL_CREATE" in peer.event_names(peer.pull())


def test_sendmsg_on_inbound_runs_app_with_event_uuid_as_application_uuid(harness):
    peer = harness.client()
    harness.sim.set_target("3000", "park")
    call = harness.sim.place_call("100", "3000")
    harness.advance(0.2)
    peer.send("event plain CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE")
    frames = peer.send(f"sendmsg {call.uuid}", [("call-command", "execute"), ("execute-app-name", "set"),
                                               ("execute-app-arg", "fsref_var=hello world"),
                                               ("Event-UUID", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")])
    assert replies(frames) == ["+OK"]
    harness.advance(0.1)
    evs = peer.events(peer.pull())
    assert [e["Event-Name"] for e in evs] == ["CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE"]
    assert all(e["Application-UUID"] == "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" for e in evs)
    assert peer.send(f"api uuid_getvar {call.uuid} fsref_var")[0].text == "hello world"


def test_acl_refusal_is_a_rude_rejection_then_goodbye_without_auth_request(harness):
    harness.sim.factory.allowed = lambda host: host == "127.0.0.2"
    peer = harness.client(auth=False)
    frames = peer.frames
    assert frames[0].header_order == ["Content-Type", "Content-Length"]
    assert frames[0].content_type == "text/rude-rejection" and frames[0].text == "Access Denied, go away.\n"
    assert frames[1].content_type == "text/disconnect-notice"
    assert peer.disconnected
