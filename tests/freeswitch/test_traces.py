"""Every real FreeSWITCH capture parses frame by frame exactly as captured."""

from __future__ import annotations

import random

import pytest

from freeswitch.esl.events import EVENT_CONTENT_TYPES, parse_event
from freeswitch.esl.frames import FrameParser
from traces import app_bytes, frames, fs_bytes, stems

STEMS = stems() or ["<no traces>"]


def _feed_in_chunks(parser: FrameParser, data: bytes, rng: random.Random) -> list:
    out = []
    pos = 0
    while pos < len(data):
        size = rng.randint(1, 9)
        out += parser.feed(data[pos : pos + size])
        pos += size
    return out


def _assert_matches(parsed: list, expected: list[dict]) -> None:
    assert len(parsed) == len(expected)
    for frame, want in zip(parsed, expected):
        assert frame.headers == want["headers"]
        assert frame.body == want["body"].encode("utf-8")


@pytest.mark.parametrize("stem", STEMS)
def test_fs_to_app_fed_whole_matches_ground_truth_and_every_event_decodes(stem: str) -> None:
    parser = FrameParser()
    parsed = parser.feed(fs_bytes(stem))
    _assert_matches(parsed, frames(stem))
    assert parser.buffered == 0
    for frame in parsed:
        if frame.content_type in EVENT_CONTENT_TYPES:
            event = parse_event(frame)
            assert event.name
            assert len(event.headers) > 3


@pytest.mark.parametrize("stem", STEMS)
def test_fs_to_app_fed_in_random_1_to_9_byte_chunks_matches_ground_truth(stem: str) -> None:
    parser = FrameParser()
    parsed = _feed_in_chunks(parser, fs_bytes(stem), random.Random(stem))
    _assert_matches(parsed, frames(stem))
    assert parser.buffered == 0


@pytest.mark.parametrize("stem", STEMS)
def test_app_to_fs_parses_in_command_mode_whole_and_chunked(stem: str) -> None:
    data = app_bytes(stem)
    expected = frames(stem, "out")
    whole = FrameParser(command_mode=True).feed(data)
    chunked = _feed_in_chunks(FrameParser(command_mode=True), data, random.Random(stem))
    assert len(whole) == len(expected) == len(chunked)
    for frame, again, want in zip(whole, chunked, expected):
        first_line = want["raw"].split("\n", 1)[0].rstrip("\r").strip()
        assert frame.command == again.command == first_line
        assert frame.headers == again.headers and frame.body == again.body


def test_crlf_commands_from_01c_parse_like_lf_ones() -> None:
    parsed = FrameParser(command_mode=True).feed(app_bytes("inbound/01c_crlf_line_endings"))
    assert [f.command for f in parsed] == ["auth ClueCon", "api version", "exit"]
    assert all(f.headers == {} for f in parsed)


def _events_of(stem: str, content_type: str) -> list:
    return [parse_event(f) for f in FrameParser().feed(fs_bytes(stem)) if f.content_type == content_type]


@pytest.mark.parametrize("ctype", sorted(EVENT_CONTENT_TYPES))
def test_encoding_edge_cases_decode_the_same_in_plain_json_and_xml_except_the_lossy_escape(ctype: str) -> None:
    custom = [e for e in _events_of("inbound/07_encoding_edgecases_and_log", ctype)
              if e.subclass == "fsref::enc" and "X-Unsafe" in e.headers]
    assert custom, ctype
    event = custom[0]
    assert event["X-Unsafe"] == "\"#&+:;<=>?@[\\]^`{|} ,/()!~*'$"
    assert event["X-Utf8"] == "über €"
    assert event["X-Tab"] == "a\tb"
    assert event["X-Pct-Invalid"] == "50%zz and 7%"
    assert event["X-Leading-Spaces"] == "three spaces before"
    assert event.values("X-Array") == ["one", "two", "three"]
    assert "X-Empty" not in event
    # FreeSWITCH does not re-escape "%41", so plain and xml lose it; json keeps the text.
    assert event["X-Pct-Valid-Escape"] == ("100%41 stays" if ctype == "text/event-json" else "100A stays")


def test_json_event_with_duplicate_content_length_keeps_its_body() -> None:
    events = _events_of("inbound/03_event_json", "text/event-json")
    with_body = [e for e in events if e.name == "CUSTOM" and e.body]
    assert with_body
    assert with_body[0]["Content-Length"] == str(len(with_body[0].body.encode()))


def test_plain_custom_event_body_with_blank_line_inside_is_cut_by_its_content_length() -> None:
    events = _events_of("inbound/07_encoding_edgecases_and_log", "text/event-plain")
    bodies = [e.body for e in events if e.body]
    assert "line one\nline two\n\nend" in bodies


def test_log_data_frames_keep_empty_user_data_header() -> None:
    logs = [f for f in FrameParser().feed(fs_bytes("inbound/07_encoding_edgecases_and_log"))
            if f.content_type == "log/data"]
    assert logs and logs[0].headers["User-Data"] == ""
    assert logs[0].body.endswith(b"\n")
    assert len(logs[0].body) == int(logs[0].headers["Content-Length"])


def test_outbound_connect_reply_decodes_url_encoded_reply_text_and_channel_data() -> None:
    first = FrameParser().feed(fs_bytes("outbound/01_linger_exit"))[0]
    assert first.content_type == "command/reply"
    assert first.headers["Reply-Text"] == "%2BOK%0A"
    assert first.reply_text == "+OK"
    assert first.header("Socket-Mode") == "async" and first.header("Control") == "full"
    assert first.header("Channel-Name").startswith("sofia/")
    assert "Content-Length" not in first.headers


def test_background_job_plain_event_carries_its_result_as_body() -> None:
    jobs = [e for e in _events_of("inbound/02_main_plain", "text/event-plain") if e.name == "BACKGROUND_JOB"]
    assert jobs and all(e["Job-UUID"] and e.body is not None for e in jobs)
