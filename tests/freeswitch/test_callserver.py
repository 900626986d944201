"""CallServer / OutboundProtocol: socket set-up, handler lifecycle, linger and exit.

Replays real FreeSWITCH 1.11.1 outbound captures (``fs-traces/outbound``) and
synthetic frames; no reactor, only StringTransport and task.Clock.
"""

from __future__ import annotations

import logging

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.python.failure import Failure

from freeswitch.callserver import CallServer
from freeswitch.esl.errors import CallHungUp
from outbound_fixtures import ReplaySwitch, connect, make_server

UUID = "11111111-2222-3333-4444-555555555555"


def connect_reply(uuid: str = UUID, ani: str = "0912345678", dnis: str = "8001") -> bytes:
    """A minimal outbound connect reply: URL-encoded channel data, no Content-Length."""
    return (
        "Event-Name: CHANNEL_DATA\nCore-UUID: core-1\n"
        f"Channel-Name: sofia/ref/{ani}%40127.0.0.1%3A5090\nUnique-ID: {uuid}\nAnswer-State: ringing\n"
        f"Caller-Caller-ID-Name: Mrs%20Wang\nCaller-Caller-ID-Number: {ani}\nCaller-Destination-Number: {dnis}\n"
        "variable_sip_subject: fsref%20test\nvariable_media_source: tv%3Aad%2042\n"
        "Content-Type: command/reply\nReply-Text: %2BOK%0A\nSocket-Mode: async\nControl: full\n\n"
    ).encode()


def ok(text: str = "+OK") -> bytes:
    return f"Content-Type: command/reply\nReply-Text: {text}\n\n".encode()


def event(name: str, uuid: str = UUID, **headers: str) -> bytes:
    body = f"Event-Name: {name}\nUnique-ID: {uuid}\n" + "".join(
        f"{k if k.startswith('variable_') else k.replace('_', '-')}: {v}\n" for k, v in headers.items()) + "\n"
    return f"Content-Length: {len(body)}\nContent-Type: text/event-plain\n\n{body}".encode()


LINGER_NOTICE = (f"Content-Type: text/disconnect-notice\nControlled-Session-UUID: {UUID}\n"
                 "Content-Disposition: linger\nChannel-Name: sofia/ref/x\nLinger-Time: -1\n"
                 "Content-Length: 0\n\n").encode()
GOODBYE = b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
DISCONNECT_NOTICE = (f"Content-Type: text/disconnect-notice\nControlled-Session-UUID: {UUID}\n"
                     f"Content-Disposition: disconnect\nContent-Length: {len(GOODBYE)}\n\n").encode() + GOODBYE


def set_up(server: CallServer, uuid: str = UUID):
    """Connect, answer connect/myevents/event/linger; return (proto, transport)."""
    proto, transport = connect(server)
    assert transport.value() == b"connect\n\n"
    transport.clear()
    proto.dataReceived(connect_reply(uuid))
    assert transport.value().startswith(b"myevents\n\nevent plain ")
    transport.clear()
    proto.dataReceived(ok("+OK Events Enabled") + ok("+OK event listener enabled plain") + ok("+OK will linger"))
    return proto, transport


# -- set-up ---------------------------------------------------------------------

def test_connect_reply_builds_call_with_decoded_identity_and_variables():
    calls = []
    server = make_server(lambda call: calls.append(call) or defer.Deferred())
    proto, transport = connect(server)
    proto.dataReceived(connect_reply())
    assert transport.value() == (b"connect\n\nmyevents\n\nevent plain PLAYBACK_START PLAYBACK_STOP "
                                 b"RECORD_START RECORD_STOP CHANNEL_CALLSTATE\n\nlinger\n\n")
    assert calls == []  # the handler waits for the subscriptions
    proto.dataReceived(ok("+OK Events Enabled") + ok("+OK event listener enabled plain") + ok("+OK will linger"))
    [call] = calls
    assert (call.uuid, call.ani, call.dnis, call.caller_name) == (UUID, "0912345678", "8001", "Mrs Wang")
    assert call.channel_name == "sofia/ref/0912345678@127.0.0.1:5090"
    assert call.core_uuid == "core-1"
    assert call.variables == {"sip_subject": "fsref test", "media_source": "tv:ad 42"}
    assert not call.answered and not call.hung_up
    assert server.live_calls[UUID] is call and server.live_count == 1


def test_linger_seconds_and_no_extra_events_are_configurable():
    server = make_server(lambda call: None, linger_seconds=5, extra_events=())
    proto, transport = connect(server)
    proto.dataReceived(connect_reply())
    assert transport.value() == b"connect\n\nmyevents\n\nlinger 5\n\n"


def test_setup_refused_hangs_up_and_drops_socket(caplog):
    server = make_server(lambda call: pytest.fail("handler must not run"))
    proto, transport = connect(server)
    proto.dataReceived(connect_reply())
    transport.clear()
    proto.dataReceived(ok("-ERR aready enabled.") + ok("+OK event listener enabled plain") + ok("+OK will linger"))
    assert transport.value() == b"sendmsg\ncall-command: hangup\nhangup-cause: NORMAL_TEMPORARY_FAILURE\n\n"
    assert transport.disconnecting
    assert UUID in caplog.text


# -- handler lifecycle ------------------------------------------------------------

def test_handler_exception_is_logged_with_uuid_and_call_hung_up_with_cause(caplog):
    def handler(call):
        raise RuntimeError("menu bug")

    server = make_server(handler)
    with caplog.at_level(logging.ERROR):
        proto, transport = set_up(server)
    assert transport.value() == b"sendmsg\ncall-command: hangup\nhangup-cause: NORMAL_TEMPORARY_FAILURE\n\n"
    assert server.handler_failures == 1
    assert UUID in caplog.text and "menu bug" in caplog.text


def test_handler_failing_deferred_is_logged_and_call_hung_up():
    failing: defer.Deferred = defer.Deferred()
    server = make_server(lambda call: failing, error_hangup_cause="SERVICE_UNAVAILABLE")
    proto, transport = set_up(server)
    assert transport.value() == b""
    failing.errback(Failure(ValueError("db down")))
    assert transport.value() == b"sendmsg\ncall-command: hangup\nhangup-cause: SERVICE_UNAVAILABLE\n\n"


def test_handler_failing_because_caller_hung_up_is_not_an_error():
    async def handler(call):
        await call.answer()

    server = make_server(handler)
    proto, transport = set_up(server)
    transport.clear()
    proto.dataReceived(ok() + event("CHANNEL_HANGUP", Hangup_Cause="ORIGINATOR_CANCEL"))
    assert server.handler_failures == 0
    assert transport.value() == b""  # no hangup sent for a dead call
    proto.dataReceived(LINGER_NOTICE)
    assert transport.value() == b"exit\n\n"


def test_handler_returning_with_call_up_gets_call_hung_up_then_exit_after_linger():
    server = make_server(lambda call: None)
    proto, transport = set_up(server)
    assert transport.value() == b"sendmsg\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING\n\n"
    transport.clear()
    proto.dataReceived(ok() + event("CHANNEL_HANGUP", Hangup_Cause="NORMAL_CLEARING")
                       + event("CHANNEL_HANGUP_COMPLETE", Hangup_Cause="NORMAL_CLEARING"))
    assert transport.value() == b""
    proto.dataReceived(LINGER_NOTICE)
    assert transport.value() == b"exit\n\n"
    proto.dataReceived(ok("+OK bye") + DISCONNECT_NOTICE)
    assert transport.disconnecting
    proto.connectionLost(Failure(ConnectionError("closed")))
    assert server.live_count == 0


def test_linger_notice_keeps_socket_until_handler_finishes_writing_records():
    records: defer.Deferred = defer.Deferred()

    async def handler(call):
        cause = await call.when_hung_up()
        await records  # e.g. the CDR insert in a thread pool
        assert cause == "USER_BUSY"

    server = make_server(handler)
    proto, transport = set_up(server)
    proto.dataReceived(event("CHANNEL_HANGUP", Hangup_Cause="USER_BUSY") + LINGER_NOTICE)
    call = server.live_calls[UUID]
    assert call.hung_up and call.lingering and call.hangup_cause == "USER_BUSY"
    assert transport.value() == b""  # socket kept while the handler writes
    records.callback(None)
    assert transport.value() == b"exit\n\n"


def test_handler_stuck_after_linger_loses_socket_after_grace():
    clock = Clock()
    server = make_server(lambda call: defer.Deferred(), clock, exit_grace=30)
    proto, transport = set_up(server)
    proto.dataReceived(event("CHANNEL_HANGUP", Hangup_Cause="NORMAL_CLEARING") + LINGER_NOTICE)
    clock.advance(29)
    assert transport.value() == b""
    clock.advance(1)
    assert transport.value() == b"exit\n\n"


def test_two_calls_stalled_handler_does_not_delay_the_other():
    stalled: defer.Deferred = defer.Deferred()
    done = []

    async def handler(call):
        if call.uuid == UUID:
            await stalled
        else:
            await call.answer()
            done.append(call.uuid)

    server = make_server(handler)
    slow, slow_transport = set_up(server, UUID)
    other_uuid = "99999999-2222-3333-4444-555555555555"
    fast, fast_transport = set_up(server, other_uuid)
    assert server.live_count == 2
    sent = fast_transport.value().decode()
    app_uuid = sent.split("Event-UUID: ")[1].split("\n")[0]
    fast.dataReceived(ok() + event("CHANNEL_EXECUTE_COMPLETE", other_uuid, Application="answer",
                                   Application_UUID=app_uuid, Application_Response="_none_"))
    assert done == [other_uuid]
    assert slow_transport.value() == b""
    assert not stalled.called


def test_connection_lost_fails_pending_operations_with_call_hung_up_and_forgets_call():
    results = []

    async def handler(call):
        try:
            await call.playback("menu.wav")
        except CallHungUp as exc:
            results.append(exc.cause)

    server = make_server(handler)
    proto, transport = set_up(server)
    waiting = server.when_idle()
    proto.connectionLost(Failure(ConnectionError("reset")))
    assert results == ["ESL_CONNECTION_LOST"]
    assert server.live_count == 0 and waiting.called


def test_start_listens_on_port_zero_and_reports_port():
    from twisted.internet.testing import MemoryReactor
    reactor = MemoryReactor()
    server = CallServer(lambda call: None)
    server.start(reactor, "127.0.0.1", 0)
    assert reactor.tcpServers[0][0] == 0 and reactor.tcpServers[0][3] == "127.0.0.1"
    assert server.clock is reactor
    assert isinstance(server.listening_port, int)


# -- real captures ------------------------------------------------------------

@pytest.mark.parametrize("chunk", [None, 7])
def test_replay_linger_exit_capture_runs_answer_playback_digits_hangup_exit(chunk):
    seen = {}

    async def handler(call):
        seen["dest"] = await call.get_var("destination_number")
        seen["missing"] = await call.get_var("no_such_variable_xyz")
        await call.answer()
        seen["playback"] = await call.playback("tone_stream://%(300,100,440);loops=2")
        seen["digits"] = await call.play_and_get_digits(
            1, 4, 1, 4000, "#", "tone_stream://%(200,0,800)", "tone_stream://%(200,0,300)", "ob_digits", r"\d+")
        seen["dtmf"] = [d.digit for d in call.flush_dtmf()]
        await call.hangup()
        seen["cause"] = await call.when_hung_up()

    server = make_server(handler, extra_events=())
    proto, transport = connect(server)
    replay = ReplaySwitch("outbound/01_linger_exit", proto, transport, chunk)
    replay.pump()
    call = proto.call
    assert call.ani == "sipp" and call.dnis == "2000" and call.uuid == "44295a84-daa4-4fc7-b1bd-73d6d8dea37f"
    assert call.channel_name == "sofia/ref/sipp@127.0.0.1:5090"
    assert seen == {"dest": "2000", "missing": None, "playback": seen["playback"], "digits": "12",
                    "dtmf": ["1", "2", "#"], "cause": "NORMAL_CLEARING"}
    assert seen["playback"].played
    assert call.answered and call.lingering
    assert replay.remaining == [] and transport.disconnecting


def test_replay_remote_hangup_capture_resolves_when_hung_up_and_exits():
    seen = {}

    async def handler(call):
        await call.answer()
        await call.playback("tone_stream://%(300,100,440);loops=2")
        await call.play_and_get_digits(
            1, 4, 1, 4000, "#", "tone_stream://%(200,0,800)", "tone_stream://%(200,0,300)", "ob_digits", r"\d+")
        seen["park"] = (await call.park()).response  # refused on an async socket: completes at once
        seen["cause"] = await call.when_hung_up()

    server = make_server(handler, extra_events=())
    proto, transport = connect(server)
    replay = ReplaySwitch("outbound/04_remote_hangup", proto, transport)
    replay.pump()
    assert seen == {"park": "_none_", "cause": "NORMAL_CLEARING"}
    assert replay.sent[-1] == "exit\n\n" and replay.remaining == []


def test_replay_nolinger_capture_closes_on_disconnect_notice_without_exit():
    async def handler(call):
        await call.answer()
        await call.playback("tone_stream://%(300,100,440);loops=2")
        await call.play_and_get_digits(
            1, 4, 1, 4000, "#", "tone_stream://%(200,0,800)", "tone_stream://%(200,0,300)", "ob_digits", r"\d+")
        await call.hangup()

    server = make_server(handler, extra_events=(), linger=False)
    proto, transport = connect(server)
    replay = ReplaySwitch("outbound/03_nolinger", proto, transport)
    replay.pump()
    assert replay.remaining == [] and "exit\n\n" not in replay.sent
    assert transport.disconnecting and proto.call.hung_up and not proto.call.lingering
