"""Call: execute matching, hang-up semantics, DTMF, exact sendmsg bytes, typed apps on real captures."""

from __future__ import annotations

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.python.failure import Failure

from freeswitch.call import HungUpDuringExecute
from freeswitch.call_apps import BridgeOutcome, file_list
from freeswitch.esl.errors import CallHungUp, CommandError, CommandTimeout
from outbound_fixtures import ReplaySwitch, connect, make_server
from test_callserver import LINGER_NOTICE, event, ok, set_up


def live_call(clock: Clock | None = None):
    """A call whose handler parks forever, so the test drives it directly."""
    server = make_server(lambda call: defer.Deferred(), clock)
    proto, transport = set_up(server)
    return proto.call, proto, transport


def sent_event_uuid(transport) -> str:
    return transport.value().decode().rsplit("Event-UUID: ", 1)[1].split("\n")[0]


def complete(app: str, app_uuid: str, response: str = "_none_", **headers: str) -> bytes:
    return event("CHANNEL_EXECUTE_COMPLETE", Application=app, Application_UUID=app_uuid,
                 Application_Response=response, **headers)


def test_execute_writes_exact_sendmsg_with_event_lock_and_event_uuid():
    call, proto, transport = live_call()
    call.execute("playback", "/sounds/welcome.wav")
    app_uuid = sent_event_uuid(transport)
    assert transport.value() == (
        "sendmsg\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: /sounds/welcome.wav\n"
        f"event-lock: true\nEvent-UUID: {app_uuid}\n\n").encode()


def test_execute_long_argument_goes_in_a_body_with_content_length():
    call, proto, transport = live_call()
    arg = "file_string://" + "!".join(f"/sounds/{i:04d}.wav" for i in range(200))
    call.execute("playback", arg)
    app_uuid = sent_event_uuid(transport)
    body = arg.encode()
    assert transport.value() == (
        "sendmsg\ncall-command: execute\nexecute-app-name: playback\ncontent-type: text/plain\n"
        f"event-lock: true\nEvent-UUID: {app_uuid}\nContent-Length: {len(body)}\n\n").encode() + body


def test_hangup_writes_call_command_hangup_with_cause_once():
    call, proto, transport = live_call()
    call.hangup("USER_BUSY")
    call.hangup("USER_BUSY")
    assert transport.value() == b"sendmsg\ncall-command: hangup\nhangup-cause: USER_BUSY\n\n"


def test_execute_resolves_on_matching_application_uuid_not_the_next_completion():
    call, proto, transport = live_call()
    first = call.execute("playback", "a.wav")
    first_uuid = sent_event_uuid(transport)
    transport.clear()
    second = call.execute("set", "x=1")
    second_uuid = sent_event_uuid(transport)
    proto.dataReceived(ok() + ok() + complete("set", second_uuid, **{"variable_x": "1"}))
    assert not first.called
    assert second.result.application == "set" and second.result.variables["x"] == "1"
    proto.dataReceived(complete("socket", "00000000-0000-0000-0000-000000000000")
                       + complete("playback", first_uuid, "FILE%20PLAYED"))
    assert first.result.response == "FILE PLAYED"
    assert call.variables["x"] == "1"


def test_hangup_during_execute_fails_with_call_hung_up_carrying_cause_and_late_completion():
    call, proto, transport = live_call()
    running = call.execute("playback", "a.wav")
    app_uuid = sent_event_uuid(transport)
    proto.dataReceived(ok() + event("CHANNEL_HANGUP", Hangup_Cause="ORIGINATOR_CANCEL"))
    assert call.hung_up and not running.called
    proto.dataReceived(complete("playback", app_uuid, "FILE%20PLAYED", Hangup_Cause="ORIGINATOR_CANCEL"))
    error = running.result.value if isinstance(running.result, Failure) else None
    running.addErrback(lambda f: None)
    assert isinstance(error, HungUpDuringExecute) and isinstance(error, CallHungUp)
    assert error.cause == "ORIGINATOR_CANCEL" and error.app == "playback"
    assert error.event.response == "FILE PLAYED"


def test_execute_never_completed_fails_at_hangup_complete():
    call, proto, transport = live_call()
    running = call.execute("sleep", "10000")
    proto.dataReceived(ok() + event("CHANNEL_HANGUP_COMPLETE", Hangup_Cause="NORMAL_CLEARING"))
    failures = []
    running.addErrback(failures.append)
    assert failures[0].check(CallHungUp) and failures[0].value.event is None


def test_operations_after_hangup_fail_at_once_without_writing():
    call, proto, transport = live_call()
    proto.dataReceived(event("CHANNEL_HANGUP", Hangup_Cause="NORMAL_CLEARING"))
    transport.clear()
    for op in (call.answer(), call.playback("a.wav"), call.get_var("x"), call.set_var("a", "b"),
               call.next_dtmf(), call.break_media()):
        failures = []
        op.addErrback(failures.append)
        assert failures and failures[0].check(CallHungUp) and failures[0].value.cause == "NORMAL_CLEARING"
    assert call.hangup().called  # idempotent clean-up
    assert transport.value() == b""


def test_linger_notice_marks_hung_up_and_fails_pending_then_finish_sends_exit():
    call, proto, transport = live_call()
    running = call.execute("sleep", "1000")
    waiter = call.when_hung_up()
    proto.dataReceived(ok() + LINGER_NOTICE)
    failures = []
    running.addErrback(failures.append)
    assert failures[0].check(CallHungUp) and call.lingering and waiter.result == "NORMAL_CLEARING"
    transport.clear()
    call.finish()
    assert transport.value() == b"exit\n\n"


def test_connection_loss_fails_every_pending_operation():
    call, proto, transport = live_call()
    ops = [call.playback("a.wav"), call.get_var("x"), call.next_dtmf()]
    proto.connectionLost(Failure(ConnectionError("reset")))
    for op in ops:
        failures = []
        op.addErrback(failures.append)
        assert failures[0].check(CallHungUp), failures[0]


def test_refused_sendmsg_fails_execute_with_command_error():
    call, proto, transport = live_call()
    running = call.execute("playback", "a.wav")
    proto.dataReceived(ok("-ERR invalid session id [x]"))
    failures = []
    running.addErrback(failures.append)
    assert failures[0].check(CommandError)


def test_execute_timeout_uses_injected_clock():
    clock = Clock()
    call, proto, transport = live_call(clock)
    running = call.execute("playback", "a.wav", timeout=5)
    proto.dataReceived(ok())
    clock.advance(5)
    failures = []
    running.addErrback(failures.append)
    assert failures[0].check(CommandTimeout)


def test_dtmf_stream_pushes_to_handlers_and_queues_for_next_dtmf_with_timeout():
    clock = Clock()
    call, proto, transport = live_call(clock)
    pressed = []
    call.on_dtmf(pressed.append)
    proto.dataReceived(event("DTMF", DTMF_Digit="%23", DTMF_Duration="2240", DTMF_Source="RTP"))
    assert [(d.digit, d.duration, d.source) for d in pressed] == [("#", 2240, "RTP")]
    assert call.next_dtmf().result.digit == "#"
    waiting = call.next_dtmf(timeout=3)
    proto.dataReceived(event("DTMF", DTMF_Digit="5", DTMF_Duration="800", DTMF_Source="INBAND_AUDIO"))
    assert waiting.result.digit == "5"
    timed_out = call.next_dtmf(timeout=3)
    clock.advance(3)
    assert timed_out.result is None


def test_get_var_unset_returns_none_and_set_returns_raw_value():
    call, proto, transport = live_call()
    unset, present = call.get_var("nope"), call.get_var("destination_number")
    proto.dataReceived(ok("-ERR command not found") + ok("2000"))
    assert unset.result is None and present.result == "2000"


def test_set_vars_uses_multiset_with_a_free_delimiter():
    call, proto, transport = live_call()
    call.set_vars({"a": "1 2", "b": "x|y"})
    assert b"execute-app-name: multiset\nexecute-app-arg: ^^;a=1 2;b=x|y\n" in transport.value()


def test_playback_list_joins_with_file_string():
    assert file_list(["a.wav", "b.wav"]) == "file_string://a.wav!b.wav"
    assert file_list("a.wav") == file_list(["a.wav"]) == "a.wav"


def test_bridge_outcome_failed_uses_current_cause_not_stale_bridge_cause():
    outcome = BridgeOutcome.from_event({
        "variable_originate_disposition": "SUBSCRIBER_ABSENT", "variable_DIALSTATUS": "SUBSCRIBER_ABSENT",
        "variable_originate_failed_cause": "SUBSCRIBER_ABSENT", "variable_last_bridge_hangup_cause": "USER_BUSY"})
    assert not outcome.success and outcome.hangup_cause == "SUBSCRIBER_ABSENT" and outcome.other_uuid is None


# -- typed apps on real captures ----------------------------------------------------

SOUNDS = "/usr/local/share/freeswitch/sounds/hotln"


def run_capture(stem: str, handler):
    server = make_server(handler)
    proto, transport = connect(server)
    replay = ReplaySwitch(stem, proto, transport)
    replay.pump()
    assert replay.remaining == [], replay.remaining
    assert replay.sent[-1] == "exit\n\n"
    return proto.call


def test_replay_play_and_get_digits_and_read_return_collected_digits():
    got = []

    async def handler(call):
        await call.answer()
        pagd = lambda tries, timeout, var, regexp=r"\d+", mn=1, dt=None: call.play_and_get_digits(  # noqa: E731
            mn, 4, tries, timeout, "#", f"{SOUNDS}/tone1s.wav", f"{SOUNDS}/invalid.wav", var, regexp, dt)
        got.append(await pagd(1, 5000, "pagd_a"))
        got.append(await pagd(1, 2000, "pagd_b"))
        got.append(await pagd(2, 1500, "pagd_b2"))
        got.append(await pagd(2, 4000, "pagd_c", r"^5\d+$", mn=2))
        got.append(await pagd(1, 5000, "pagd_d"))
        got.append(await pagd(1, 5000, "pagd_e", dt=3000))
        for var, timeout, mn in (("read_a", 5000, 1), ("read_b", 2000, 1), ("read_c", 5000, 1),
                                 ("read_d", 5000, 1), ("read_e", 3000, 2)):
            got.append(await call.read(mn, 4, f"{SOUNDS}/tone1s.wav", var, timeout, "#"))
        await call.hangup()

    call = run_capture("calls/02_pagd_read.outbound", handler)
    assert got == ["12", "", "", "55", "", "1234", "34", "", "", "1234", "7"]
    assert call.variables["read_result"] == "failure"


def test_replay_record_reports_length_terminator_and_partial_file_on_caller_hangup():
    results = []

    async def handler(call):
        await call.answer()
        for name, limit in (("a", 10), ("b", 4), ("c", 10), ("d", 10), ("d1", 10)):
            results.append(await call.record(f"/var/lib/fsw/rec/{name}.wav", limit, 200, 3))
        await call.set_var("playback_terminators", "none")
        results.append(await call.record("/var/lib/fsw/rec/d2.wav", 3))
        results.append(await call.record("/var/lib/fsw/rec/e.wav", 10, 200, 3))

    call = run_capture("calls/03_record.outbound", handler)
    assert [(r.record_ms, r.record_seconds) for r in results] == [
        (6860, 6), (4920, 4), (0, 0), (0, 0), (0, 0), (0, 0), (2460, 2)]
    assert results[4].terminator == "*" and results[0].terminator is None
    assert results[-1].hung_up and results[-1].path.endswith("e.wav")
    assert call.hangup_cause == "NORMAL_CLEARING"


def test_replay_bridge_outcomes_and_failed_bridge_without_continue_on_fail_hangs_up():
    outcomes = []

    async def handler(call):
        await call.answer()
        outcomes.append(await call.bridge("loopback/3000/public"))
        outcomes.append(await call.bridge("user/1001", continue_on_fail=True))
        for dial in ("{originate_timeout=3}loopback/3001/public", "loopback/3002/public", "user/9999",
                     "nosuchendpoint/foo"):
            outcomes.append(await call.bridge(dial))
        try:
            await call.bridge("user/1001", continue_on_fail=False)
        except CallHungUp as exc:
            outcomes.append(exc)

    run_capture("calls/04_bridge.outbound", handler)
    first = outcomes[0]
    assert first.success and first.hangup_cause == "NORMAL_CLEARING"
    assert first.other_uuid == "43fc2388-ad65-4a88-85bf-cce62ded6ae4"
    assert [(o.success, o.disposition, o.dialstatus, o.hangup_cause) for o in outcomes[1:6]] == [
        (False, "USER_NOT_REGISTERED", "USER_NOT_REGISTERED", "USER_NOT_REGISTERED"),
        (False, "NO_ANSWER", "NOANSWER", "NO_ANSWER"),
        (False, "USER_BUSY", "BUSY", "USER_BUSY"),
        (False, "SUBSCRIBER_ABSENT", "SUBSCRIBER_ABSENT", "SUBSCRIBER_ABSENT"),
        (False, "CHAN_NOT_IMPLEMENTED", "CHAN_NOT_IMPLEMENTED", "CHAN_NOT_IMPLEMENTED")]
    hung_up = outcomes[6]
    assert isinstance(hung_up, HungUpDuringExecute) and hung_up.cause == "USER_NOT_REGISTERED"
    assert BridgeOutcome.from_event(hung_up.event).disposition == "USER_NOT_REGISTERED"


def test_replay_caller_hangs_up_during_bridge_fails_bridge_with_call_hung_up():
    errors = []

    async def handler(call):
        await call.answer()
        try:
            await call.bridge("{origination_caller_id_number=2000}loopback/3000/public")
        except CallHungUp as exc:
            errors.append(exc)

    run_capture("calls/04b_bridge_caller_hangup.outbound", handler)
    [error] = errors
    assert error.cause == "NORMAL_CLEARING"
    assert error.event.variable("originate_disposition") == "SUCCESS"
