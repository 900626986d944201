"""FrameParser and encoders on hand-made frames."""

from __future__ import annotations

import pytest

from freeswitch.esl.errors import EslProtocolError
from freeswitch.esl.frames import FrameParser, encode_command, encode_frame


def test_content_length_counts_bytes_not_characters() -> None:
    body = "über\n".encode()
    data = b"Content-Type: api/response\nContent-Length: %d\n\n" % len(body) + body + b"Content-Type: auth/request\n\n"
    frames = FrameParser().feed(data)
    assert [f.content_type for f in frames] == ["api/response", "auth/request"]
    assert frames[0].text == "über\n"


def test_empty_header_value_and_header_order_are_kept() -> None:
    frame = FrameParser().feed(b"Content-Type: log/data\nUser-Data: \nLog-Level: 6\n\n")[0]
    assert frame.headers["User-Data"] == "" and frame.header_order == ["Content-Type", "User-Data", "Log-Level"]


@pytest.mark.parametrize("bad", [b"Content-Length: -1\n\n", b"Content-Length: 1e3\n\n",
                                 b"Content-Length: 99999999999\n\n", b"Content-Length: +5\n\n",
                                 b"no colon\n\n", b" Lead: x\n\n"])
def test_bad_frames_raise_protocol_error_and_clear_the_buffer(bad: bytes) -> None:
    parser = FrameParser()
    with pytest.raises(EslProtocolError):
        parser.feed(bad)
    assert parser.buffered == 0


def test_header_block_over_the_limit_is_refused_before_it_completes() -> None:
    parser = FrameParser(max_header_bytes=64)
    with pytest.raises(EslProtocolError):
        parser.feed(b"X: " + b"a" * 100)


def test_cached_envelopes_give_independent_header_dicts() -> None:
    parser = FrameParser()
    first, second = parser.feed(b"Content-Type: auth/request\n\n" * 2)
    first.headers["X"] = "mutated"
    assert "X" not in second.headers


def test_encode_command_adds_content_length_for_bodies_and_refuses_line_breaks() -> None:
    assert encode_command("sendmsg u", [("call-command", "execute")], "ä") == (
        "sendmsg u\ncall-command: execute\nContent-Length: 2\n\nä".encode())
    with pytest.raises(ValueError):
        encode_command("api status\nexit")
    assert encode_frame([("Content-Type", "auth/request")]) == b"Content-Type: auth/request\n\n"
