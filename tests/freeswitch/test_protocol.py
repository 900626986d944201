"""EslProtocol on a StringTransport and a Clock: exact bytes, ordering, typed failures."""

from __future__ import annotations

import pytest
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from freeswitch.esl.errors import (
    ApiError, AuthenticationError, CommandError, CommandNotFound, CommandTimeout, ConnectionLost,
    InvalidSession,
)
from freeswitch.esl.protocol import EslProtocol

REPLY_OK = b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n"


def reply(text: str) -> bytes:
    return f"Content-Type: command/reply\nReply-Text: {text}\n\n".encode()


def api_response(body: str) -> bytes:
    data = body.encode()
    return b"Content-Type: api/response\nContent-Length: %d\n\n" % len(data) + data


def plain_event(headers: dict[str, str], body: str | None = None) -> bytes:
    from freeswitch.esl.urlcode import fs_url_encode
    lines = "".join(f"{k}: {fs_url_encode(v)}\n" for k, v in headers.items())
    if body is not None:
        lines += f"Content-Length: {len(body.encode())}\n\n{body}"
    else:
        lines += "\n"
    data = lines.encode()
    return b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(data) + data


def connect(timeout: float | None = 5.0) -> tuple[EslProtocol, StringTransport, Clock, list]:
    clock = Clock()
    protocol = EslProtocol(clock=clock, timeout=timeout)
    transport = StringTransport()
    protocol.makeConnection(transport)
    events: list = []
    protocol.add_event_handler(events.append)
    return protocol, transport, clock, events


def feed_chunked(protocol: EslProtocol, data: bytes, size: int) -> None:
    for i in range(0, len(data), size):
        protocol.dataReceived(data[i : i + size])


@pytest.mark.parametrize("chunk", range(1, 10))
def test_api_writes_exact_bytes_and_fires_with_utf8_body_fed_in_small_chunks(chunk: int) -> None:
    protocol, transport, _, _ = connect()
    d = protocol.api("eval über")
    assert transport.value() == "api eval über\n\n".encode()
    results: list = []
    d.addCallback(results.append)
    feed_chunked(protocol, api_response("Grüße ☎ 你好\n"), chunk)
    assert results == ["Grüße ☎ 你好\n"]


def test_replies_are_matched_to_commands_in_order_with_events_interleaved() -> None:
    protocol, transport, _, events = connect()
    first, second = [], []
    protocol.api("uuid_getvar abc sip_from_user").addCallback(first.append)
    protocol.send_command("event plain CHANNEL_PARK").addCallback(lambda f: second.append(f.reply_text))
    assert transport.value() == b"api uuid_getvar abc sip_from_user\n\nevent plain CHANNEL_PARK\n\n"
    stream = (plain_event({"Event-Name": "CHANNEL_PARK", "Unique-ID": "abc"}) + api_response("sipp")
              + plain_event({"Event-Name": "API"}) + reply("+OK event listener enabled plain"))
    feed_chunked(protocol, stream, 7)
    assert first == ["sipp"]
    assert second == ["+OK event listener enabled plain"]
    assert [e.name for e in events] == ["CHANNEL_PARK", "API"]


def test_bgapi_sends_job_uuid_and_fires_on_matching_background_job_only() -> None:
    protocol, transport, _, events = connect()
    results: list = []
    protocol.bgapi("status", job_uuid="job-1").addCallback(results.append)
    assert transport.value() == b"bgapi status\nJob-UUID: job-1\n\n"
    protocol.dataReceived(reply("+OK Job-UUID: job-1") + b"Job-UUID: job-1\n\n")
    assert results == []
    protocol.dataReceived(plain_event({"Event-Name": "BACKGROUND_JOB", "Job-UUID": "other"}, "+OK x\n"))
    assert results == [] and events[-1]["Job-UUID"] == "other"  # unknown job: delivered, ignored
    protocol.dataReceived(plain_event({"Event-Name": "BACKGROUND_JOB", "Job-UUID": "job-1",
                                       "Job-Command": "status"}, "UP 0 years\n"))
    assert results == ["UP 0 years\n"]


def test_bgapi_err_result_fails_with_api_error_carrying_the_text() -> None:
    protocol, _, _, _ = connect()
    d = protocol.bgapi("originate loopback/1 &park", job_uuid="j")
    protocol.dataReceived(reply("+OK Job-UUID: j"))
    protocol.dataReceived(plain_event({"Event-Name": "BACKGROUND_JOB", "Job-UUID": "j"}, "-ERR NO_ANSWER\n"))
    error = _failure_of(d)
    assert isinstance(error, ApiError) and error.reply == "-ERR NO_ANSWER"


def _failure_of(d) -> Exception:
    box: list = []
    d.addErrback(lambda f: box.append(f.value))
    assert box, "Deferred did not fail"
    return box[0]


@pytest.mark.parametrize("command, text, kind", [
    ("auth wrong", "-ERR invalid", AuthenticationError),
    ("api status", "-ERR command not found", CommandNotFound),
    ("getvar no_such_variable_xyz", "-ERR command not found", CommandNotFound),
    ("linger", "-ERR not controlling a session", CommandError),
    ("event plain NO_SUCH", "-ERR no keywords supplied", CommandError),
    ("noevents", "-ERR not listening for events", CommandError),
    ("nolog", "-ERR not loging", CommandError),
    ("myevents abc", "-ERR aready enabled.", CommandError),
    ("myevents json abc", "-ERR invalid uuid", InvalidSession),
    ("sendmsg 0000", "-ERR invalid session id [0000]", InvalidSession),
])
def test_every_err_reply_form_fails_with_its_typed_error_and_text(command, text, kind) -> None:
    protocol, _, _, _ = connect()
    d = protocol.send_command(command)
    protocol.dataReceived(reply(text))
    error = _failure_of(d)
    assert type(error) is kind and error.reply == text


def test_auth_error_does_not_leak_the_password_when_labelled() -> None:
    protocol, _, _, _ = connect()
    d = protocol.send_command("auth secret", label="auth ****")
    protocol.dataReceived(reply("-ERR invalid"))
    assert "secret" not in str(_failure_of(d))


@pytest.mark.parametrize("body", [
    "-ERR no_such_api_command Command not found!\n", "-ERR No such channel!\n",
    "-ERR NO_ROUTE_DESTINATION\n", "-ERR no reply\n", "-USAGE: <uuid>\n",
])
def test_api_error_in_body_fails_with_api_error(body: str) -> None:
    protocol, _, _, _ = connect()
    d = protocol.api("x")
    protocol.dataReceived(api_response(body))
    error = _failure_of(d)
    assert isinstance(error, ApiError) and error.reply == body.strip()


def test_connection_loss_fails_every_pending_command_and_job() -> None:
    protocol, _, _, _ = connect()
    a, b = protocol.api("status"), protocol.bgapi("status")
    protocol.connectionLost(Failure(ConnectionDone()))
    assert isinstance(_failure_of(a), ConnectionLost)
    assert isinstance(_failure_of(b), ConnectionLost)
    assert isinstance(_failure_of(protocol.api("status")), ConnectionLost)


def test_timeout_fails_the_command_and_drops_the_connection() -> None:
    protocol, transport, clock, _ = connect(timeout=5)
    d = protocol.api("status")
    clock.advance(4.9)
    assert not d.called
    clock.advance(0.2)
    assert isinstance(_failure_of(d), CommandTimeout)
    assert transport.disconnected


def test_reply_in_time_cancels_the_timer() -> None:
    protocol, transport, clock, _ = connect(timeout=5)
    protocol.api("status")
    protocol.dataReceived(api_response("UP\n"))
    assert clock.getDelayedCalls() == []
    assert not transport.disconnected


def test_bgapi_job_timeout_fails_the_job_but_keeps_the_connection() -> None:
    protocol, transport, clock, _ = connect()
    d = protocol.bgapi("originate x &park", job_uuid="j", timeout=10)
    protocol.dataReceived(reply("+OK Job-UUID: j"))
    clock.advance(10)
    assert isinstance(_failure_of(d), CommandTimeout)
    assert not transport.disconnected


def test_garbage_fails_pending_commands_and_aborts_the_connection() -> None:
    protocol, transport, _, _ = connect()
    d = protocol.api("status")
    protocol.dataReceived(b"Content-Type: api/response\nContent-Length: -5\n\n")
    error = _failure_of(d)
    assert isinstance(error, ConnectionLost) and "Content-Length" in str(error)
    assert transport.disconnected
    protocol.dataReceived(api_response("late"))  # ignored, no exception


def test_handler_exception_does_not_stop_other_handlers_or_replies() -> None:
    protocol, _, _, events = connect()

    def boom(event):
        raise RuntimeError("handler bug")

    protocol._event_handlers.insert(0, boom)
    d = protocol.api("status")
    protocol.dataReceived(plain_event({"Event-Name": "HEARTBEAT"}) + api_response("UP\n"))
    assert [e.name for e in events] == ["HEARTBEAT"]
    assert d.result == "UP\n"


def test_execute_message_sends_event_uuid_and_event_lock() -> None:
    protocol, transport, _, _ = connect()
    app_uuid, _ = protocol.execute_message("playback", "/tmp/a.wav", uuid="abc", app_uuid="app-1")
    assert app_uuid == "app-1"
    assert transport.value() == (b"sendmsg abc\ncall-command: execute\nexecute-app-name: playback\n"
                                 b"execute-app-arg: /tmp/a.wav\nevent-lock: true\nEvent-UUID: app-1\n\n")
