"""Switch: login, subscriptions, fail-fast while down, backoff, dispatch and command helpers."""

from __future__ import annotations

import pytest
from twisted.internet import defer
from twisted.internet.error import ConnectionDone, ConnectionRefusedError
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from freeswitch.esl.errors import ApiError, AuthenticationError, NotConnected
from freeswitch.switch import Switch
from test_protocol import api_response, plain_event, reply
from traces import frames

AUTH_REQUEST = b"Content-Type: auth/request\n\n"
OK = reply("+OK accepted")


class ClosingTransport(StringTransport):
    """A StringTransport whose close reaches the protocol, as a real one does."""

    def __init__(self, protocol) -> None:
        super().__init__()
        self._protocol = protocol

    def _close(self) -> None:
        if not self.disconnected:
            self.disconnected = True
            self._protocol.connectionLost(Failure(ConnectionDone()))

    def loseConnection(self) -> None:
        self._close()

    def abortConnection(self) -> None:
        self._close()


class FakeEndpoint:
    """Hands out StringTransport connections; ``refuse`` makes attempts fail."""

    def __init__(self) -> None:
        self.connections: list[tuple[object, ClosingTransport]] = []
        self.refuse = False

    def connect(self, factory):
        if self.refuse:
            return defer.fail(ConnectionRefusedError())
        protocol = factory.buildProtocol(None)
        transport = ClosingTransport(protocol)
        protocol.makeConnection(transport)
        self.connections.append((protocol, transport))
        return defer.succeed(protocol)

    @property
    def last(self):
        return self.connections[-1]


def make_switch(**kw) -> tuple[Switch, FakeEndpoint, Clock]:
    endpoint, clock = FakeEndpoint(), Clock()
    kw.setdefault("events", ["CHANNEL_CREATE", "CHANNEL_ANSWER", "CUSTOM sim::caller"])
    switch = Switch(endpoint, "ClueCon", clock=clock, jitter=lambda: 0.0, **kw)
    return switch, endpoint, clock


def log_in(endpoint: FakeEndpoint, replies: int = 1) -> ClosingTransport:
    protocol, transport = endpoint.last
    protocol.dataReceived(AUTH_REQUEST)
    protocol.dataReceived(OK)
    for _ in range(replies):
        protocol.dataReceived(reply("+OK event listener enabled plain"))
    return transport


def connected(**kw):
    switch, endpoint, clock = make_switch(**kw)
    switch.start()
    transport = log_in(endpoint)
    assert switch.connected
    transport.clear()
    return switch, endpoint, clock, transport


def failure_of(d) -> Exception:
    box: list = []
    d.addErrback(lambda f: box.append(f.value))
    assert box, "Deferred did not fail"
    return box[0]


def test_login_sends_auth_then_one_event_command_then_filters_and_fires_when_connected() -> None:
    switch, endpoint, _ = make_switch(filters=[("Event-Name", "CHANNEL_CREATE")])
    ready = switch.when_connected()
    switch.start()
    protocol, transport = endpoint.last
    assert transport.value() == b""
    protocol.dataReceived(AUTH_REQUEST)
    assert transport.value() == b"auth ClueCon\n\n"
    protocol.dataReceived(OK)
    assert transport.value() == (b"auth ClueCon\n\nevent plain BACKGROUND_JOB CHANNEL_ANSWER CHANNEL_CREATE "
                                 b"CUSTOM sim::caller\n\nfilter Event-Name CHANNEL_CREATE\n\n")
    assert not ready.called
    protocol.dataReceived(reply("+OK event listener enabled plain"))
    protocol.dataReceived(reply("+OK filter added. [Event-Name]=[CHANNEL_CREATE]"))
    assert ready.called and switch.connected


def test_commands_fail_fast_with_not_connected_before_login_and_after_loss() -> None:
    switch, endpoint, _ = make_switch()
    assert isinstance(failure_of(switch.api("status")), NotConnected)
    switch.start()
    endpoint.last[0].dataReceived(AUTH_REQUEST)
    assert isinstance(failure_of(switch.originate("user/1000")), NotConnected)
    assert endpoint.last[1].value() == b"auth ClueCon\n\n"  # nothing queued behind the login


def test_bad_password_fails_when_connected_and_backs_off_instead_of_storming() -> None:
    switch, endpoint, clock = make_switch(auth_retry_delay=60)
    ready = switch.when_connected()
    switch.start()
    protocol, transport = endpoint.last
    protocol.dataReceived(AUTH_REQUEST)
    protocol.dataReceived(reply("-ERR invalid"))
    error = failure_of(ready)
    assert isinstance(error, AuthenticationError) and "ClueCon" not in str(error)
    assert transport.disconnected and not switch.connected
    clock.advance(59)
    assert len(endpoint.connections) == 1
    clock.advance(2)
    assert len(endpoint.connections) == 2
    log_in(endpoint)
    assert switch.connected


def test_lost_connection_fails_pending_then_reconnects_with_backoff_and_resubscribes() -> None:
    switch, endpoint, clock, transport = connected(initial_delay=1.0, max_delay=8.0)
    states: list = []
    switch.add_state_listener(states.append)
    pending = switch.api("status")
    transport.loseConnection()
    assert "ConnectionLost" in type(failure_of(pending)).__name__
    assert states == [False]
    assert isinstance(failure_of(switch.api("status")), NotConnected)
    endpoint.refuse = True
    delays = []
    for _ in range(5):
        before = clock.seconds()
        calls = clock.getDelayedCalls()
        assert len(calls) == 1
        delays.append(calls[0].getTime() - before)
        clock.advance(delays[-1])
    assert delays == [2.0, 4.0, 8.0, 8.0, 8.0]  # exponential, capped
    endpoint.refuse = False
    clock.advance(8.0)
    new = log_in(endpoint)
    assert new.value().startswith(b"auth ClueCon\n\nevent plain BACKGROUND_JOB")
    assert switch.connected and states == [False, True]


def test_subscribe_dispatches_by_name_and_custom_subclass_and_survives_a_bad_handler() -> None:
    switch, endpoint, _, transport = connected()
    got: list = []
    switch.subscribe("CHANNEL_ANSWER", lambda e: (_ for _ in ()).throw(RuntimeError("bug")))
    switch.subscribe("CHANNEL_ANSWER", lambda e: got.append(("answer", e.uuid)))
    switch.subscribe("CUSTOM", lambda e: got.append(("caller", e["X-Digit"])), subclass="sim::caller")
    switch.subscribe("CUSTOM", lambda e: got.append(("agent", 1)), subclass="sim::agent")
    switch.subscribe("*", lambda e: got.append(("any", e.name)))
    assert transport.value() == b"event plain CUSTOM sim::agent\n\n"  # only the new one goes out
    protocol = endpoint.last[0]
    protocol.dataReceived(reply("+OK event listener enabled plain"))
    protocol.dataReceived(plain_event({"Event-Name": "CHANNEL_ANSWER", "Unique-ID": "u1"}))
    protocol.dataReceived(plain_event({"Event-Subclass": "sim::caller", "Event-Name": "CUSTOM", "X-Digit": "5"}))
    assert got == [("answer", "u1"), ("any", "CHANNEL_ANSWER"), ("caller", "5"), ("any", "CUSTOM")]


def test_originate_builds_escaped_variables_and_returns_the_new_uuid() -> None:
    switch, endpoint, _, transport = connected()
    d = switch.originate("sofia/gateway/gw/5551234", variables={"origination_caller_id_name": "Smith, John"},
                         timeout=20, origination_uuid="u-1")
    sent = transport.value().decode()
    assert sent.startswith("bgapi originate {origination_uuid=u-1,originate_timeout=20,"
                           "origination_caller_id_name='Smith\\, John'}sofia/gateway/gw/5551234 &park()\n")
    job = sent.split("Job-UUID: ")[1].split("\n")[0]
    protocol = endpoint.last[0]
    protocol.dataReceived(reply(f"+OK Job-UUID: {job}"))
    protocol.dataReceived(plain_event({"Event-Name": "BACKGROUND_JOB", "Job-UUID": job}, "+OK u-1\n"))
    assert d.result == "u-1"


def test_originate_quotes_an_application_whose_argument_has_spaces() -> None:
    """Unquoted, FreeSWITCH splits the line on spaces: ``socket(h:p`` ran static, without full control."""
    switch, _, _, transport = connected()
    switch.originate("user/1001", app="&socket(127.0.0.1:8084 async full)", origination_uuid="u-2")
    assert " '&socket(127.0.0.1:8084 async full)'\n" in transport.value().decode()
    switch.originate("loopback/3002", app="3002 XML public")  # exten dialplan context: three arguments
    assert " 3002 XML public\n" in transport.value().decode()


def test_originate_failure_cause_raises_api_error() -> None:
    switch, endpoint, _, transport = connected()
    d = switch.originate("loopback/3002", app="3002 XML public")
    job = transport.value().decode().split("Job-UUID: ")[1].split("\n")[0]
    assert " 3002 XML public\n" in transport.value().decode()
    endpoint.last[0].dataReceived(plain_event({"Event-Name": "BACKGROUND_JOB", "Job-UUID": job}, "-ERR USER_BUSY\n"))
    error = failure_of(d)
    assert isinstance(error, ApiError) and error.reply == "-ERR USER_BUSY"


@pytest.mark.parametrize("call, wire, body, expected", [
    (lambda s: s.uuid_getvar("u", "foo"), "api uuid_getvar u foo", "_undef_", None),
    (lambda s: s.uuid_getvar("u", "foo"), "api uuid_getvar u foo", "hello world", "hello world"),
    (lambda s: s.uuid_exists("u"), "api uuid_exists u", "false", False),
    (lambda s: s.uuid_bridge("a", "b"), "api uuid_bridge a b", "+OK b\n", "b"),
    (lambda s: s.uuid_kill("u", "USER_BUSY"), "api uuid_kill u USER_BUSY", "+OK", "+OK"),
    (lambda s: s.uuid_broadcast("u", "/s/a.wav"), "api uuid_broadcast u /s/a.wav aleg", "+OK Message sent\n", "+OK Message sent\n"),
    (lambda s: s.uuid_break("u"), "api uuid_break u", "+OK\n", "+OK\n"),
    (lambda s: s.uuid_setvar("u", "x", "1"), "api uuid_setvar u x 1", "+OK\n", "+OK\n"),
    (lambda s: s.uuid_transfer("u", "3003", "XML", "public"), "api uuid_transfer u 3003 XML public", "+OK\n", "+OK\n"),
    (lambda s: s.uuid_record("u", "start", "/r/a.wav", 30), "api uuid_record u start /r/a.wav 30", "+OK Success\n", "+OK Success\n"),
    (lambda s: s.uuid_send_dtmf("u", "12#"), "api uuid_send_dtmf u 12#", "+OK u sent DTMF 12#.\n", "+OK u sent DTMF 12#.\n"),
    (lambda s: s.hupall(), "api hupall NORMAL_CLEARING", "+OK hangup all channels with cause NORMAL_CLEARING\n",
     "+OK hangup all channels with cause NORMAL_CLEARING\n"),
    (lambda s: s.show_channels(), "api show channels as json", '{"row_count": 0}\n', []),
])
def test_api_helpers_write_exact_commands_and_parse_replies(call, wire, body, expected) -> None:
    switch, endpoint, _, transport = connected()
    d = call(switch)
    assert transport.value() == (wire + "\n\n").encode()
    endpoint.last[0].dataReceived(api_response(body))
    assert d.result == expected


def test_uuid_kill_unknown_channel_raises_api_error_with_the_switch_text() -> None:
    switch, endpoint, _, _ = connected()
    d = switch.uuid_kill("nope")
    endpoint.last[0].dataReceived(api_response("-ERR No such channel!\n"))
    assert failure_of(d).reply == "-ERR No such channel!"


def test_show_channels_parses_real_rows_into_typed_channel_rows() -> None:
    bodies = [f["body"] for f in frames("calls/05_inbound_api.inbound")
              if f["body"].startswith('{"row_count":') and '"application"' in f["body"]]
    switch, endpoint, _, _ = connected()
    d = switch.show_channels()
    endpoint.last[0].dataReceived(api_response(bodies[0]))
    rows = d.result
    assert len(rows) == 2 and rows[0].uuid and rows[0].read_rate == 8000
    assert rows[0].created_epoch > 0 and rows[0].application == "park"


def test_arguments_with_spaces_or_line_breaks_are_refused_before_sending() -> None:
    switch, _, _, transport = connected()
    assert isinstance(failure_of(switch.uuid_kill("a b")), ValueError)
    assert isinstance(failure_of(switch.api("status\nexit")), ValueError)
    assert isinstance(failure_of(switch.originate("user/1000", variables={"x": "a\nb"})), ValueError)
    assert transport.value() == b""
