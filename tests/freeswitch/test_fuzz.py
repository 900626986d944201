"""Hypothesis fuzzing: garbage never escapes as anything but EslProtocolError, never hangs."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from freeswitch.esl.errors import EslProtocolError
from freeswitch.esl.events import parse_event
from freeswitch.esl.frames import Frame, FrameParser
from freeswitch.esl.protocol import EslProtocol
from freeswitch.esl.urlcode import fs_url_decode, fs_url_encode

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAX_HEADER, MAX_BODY = 1024, 4096

envelope = st.sampled_from([
    b"Content-Type: command/reply\nReply-Text: +OK\n\n",
    b"Content-Type: api/response\nContent-Length: 3\n\n+OK",
    b"Content-Length: 99999999999\n\n", b"Content-Length: -1\n\n", b"Content-Length: abc\n\n",
    b"no colon here\n\n", b"Content-Type: text/event-json\nContent-Length: 5\n\n{\"a\":",
    b"Content-Type: text/event-xml\nContent-Length: 9\n\n<event><h", b"X: %zz%\xff\xfe\n\n",
    b"Content-Type: text/event-plain\nContent-Length: 25\n\nEvent-Name: %E2%82\nContent-Length: 9\n\n",
])
stream = st.lists(st.one_of(st.binary(max_size=300), envelope), max_size=12).map(b"".join)


def _chunks(data: bytes, sizes: list[int]) -> list[bytes]:
    out, pos, i = [], 0, 0
    while pos < len(data):
        size = sizes[i % len(sizes)] if sizes else len(data)
        out.append(data[pos : pos + size])
        pos += size
        i += 1
    return out


@FUZZ
@given(stream, st.lists(st.integers(1, 9), max_size=5))
def test_parser_raises_only_protocol_errors_and_stays_within_its_limits(data: bytes, sizes: list[int]) -> None:
    parser = FrameParser(max_header_bytes=MAX_HEADER, max_body_bytes=MAX_BODY)
    for chunk in _chunks(data, sizes):
        try:
            frames = parser.feed(chunk)
        except EslProtocolError:
            assert parser.buffered == 0
            return
        assert parser.buffered <= MAX_HEADER + MAX_BODY + len(chunk) + 2
        for frame in frames:
            assert isinstance(frame, Frame)
            try:
                event = parse_event(frame)
            except EslProtocolError:
                continue
            dict(event.headers)


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from(["text/event-plain", "text/event-json", "text/event-xml"]))
def test_garbage_event_bodies_fail_only_with_protocol_errors(body: bytes, ctype: str) -> None:
    try:
        event = parse_event(Frame({"Content-Type": ctype}, body))
    except EslProtocolError:
        return
    event.name, len(event)


@FUZZ
@given(stream, st.lists(st.integers(1, 9), max_size=5))
def test_protocol_never_lets_an_exception_escape_and_fails_pending_on_garbage(data: bytes, sizes) -> None:
    protocol = EslProtocol(clock=Clock(), timeout=5)
    transport = StringTransport()
    protocol.makeConnection(transport)
    pending = protocol.api("status")
    outcomes: list = []
    pending.addBoth(outcomes.append)
    for chunk in _chunks(data, sizes):
        protocol.dataReceived(chunk)
    if transport.disconnected:
        assert outcomes, "garbage closed the connection but left a command pending"


@FUZZ
@given(st.text(max_size=200))
def test_url_encoding_round_trips_unless_a_percent_is_followed_by_two_hex_digits(text: str) -> None:
    encoded = fs_url_encode(text)
    assert all(0x21 <= ord(c) <= 0x7E for c in encoded)
    if "%" not in text:
        assert fs_url_decode(encoded) == text


@FUZZ
@given(st.text(max_size=100))
def test_url_decoding_never_raises(text: str) -> None:
    fs_url_decode(text)
