"""Call.variables kept current from raw event lines: the same dict as decoding every event in full."""

from __future__ import annotations

import pytest

from freeswitch.call import Call, ExecuteComplete, channel_variables
from freeswitch.esl.events import EVENT_CONTENT_TYPES, Event, parse_event, parse_plain_event
from freeswitch.esl.frames import FrameParser
from traces import fs_bytes, require_traces

UUID = "3a9a3c5e-0000-4000-8000-00000000c0de"


def plain(*lines: str) -> Event:
    return parse_plain_event(("\n".join(lines) + "\n\n").encode())


def full_fold(start: dict[str, str], events: list[Event], uuid: str = UUID) -> dict[str, str]:
    """What Call.variables must equal: every variable_* header of every event of the call, in order."""
    out = dict(start)
    for event in events:
        if event.uuid == uuid:
            out.update(channel_variables(event.headers))
    return out


def fed_call(events: list[Event], uuid: str = UUID) -> Call:
    call = Call(channel=None, channel_data={"Unique-ID": uuid, "variable_start": "1"})  # type: ignore[arg-type]
    for event in events:
        call.handle_event(event)
    return call


def test_raw_variable_lines_span_first_to_last_variable_and_none_once_decoded() -> None:
    event = plain("Event-Name: X", f"Unique-ID: {UUID}", "variable_a: 1", "Other: y", "variable_b: 2%20x",
                  "Application: set")
    assert event.raw_variable_lines() == [b"variable_a: 1", b"Other: y", b"variable_b: 2%20x"]
    assert plain("Event-Name: DTMF", "DTMF-Digit: 1").raw_variable_lines() == []
    assert plain("variable_only: 1").raw_variable_lines() == [b"variable_only: 1"]
    event.headers  # decoded in full: the caller must use the headers
    assert event.raw_variable_lines() is None
    assert Event({"variable_a": "1"}).raw_variable_lines() is None


def test_retyped_keeps_the_event_lazy_and_equal() -> None:
    event = plain("Event-Name: CHANNEL_EXECUTE_COMPLETE", "Application: playback",
                  "Application-Response: FILE%20PLAYED", "variable_playback_terminator_used: %23")
    complete = event.retyped(ExecuteComplete)
    assert complete.raw_variable_lines() is not None  # nothing decoded yet
    assert complete.response == "FILE PLAYED" and complete.variable("playback_terminator_used") == "#"
    assert complete == event and complete.variables == {"playback_terminator_used": "#"}


def test_changed_unset_and_url_encoded_variables_merge_like_a_full_decode() -> None:
    events = [
        plain("Event-Name: CHANNEL_EXECUTE", f"Unique-ID: {UUID}", "variable_a: 1", "variable_b: x%20y"),
        plain("Event-Name: DTMF", f"Unique-ID: {UUID}", "DTMF-Digit: %23"),
        plain("Event-Name: CHANNEL_EXECUTE_COMPLETE", f"Unique-ID: {UUID}", "variable_a: 2", "variable_b: x%20y",
              "variable_c: %E4%B8%AD"),
        plain("Event-Name: CHANNEL_EXECUTE", "Unique-ID: another-leg", "variable_a: 9"),
        plain("Event-Name: CHANNEL_EXECUTE", f"Unique-ID: {UUID}", "variable_b: x%20y"),  # a and c unset: kept
        plain("Event-Name: CHANNEL_EXECUTE", f"Unique-ID: {UUID}", "variable_a: 2", "variable_b: z"),
        Event({"Event-Name": "CHANNEL_STATE", "Unique-ID": UUID, "variable_d": "json"}),
        plain("Event-Name: CHANNEL_EXECUTE", f"Unique-ID: {UUID}", "variable_a: 2", "variable_b: z"),
    ]
    call = fed_call(events)
    expected = full_fold({"start": "1"}, events)
    assert call.variables == expected
    assert expected == {"start": "1", "a": "2", "b": "z", "c": "中", "d": "json"}


@pytest.mark.parametrize("stem", ["calls/02_pagd_read.outbound", "calls/04_bridge.outbound",
                                  "calls/03_record.outbound"])
def test_real_capture_merges_to_the_same_variables_after_every_event(stem: str) -> None:
    require_traces()
    frames = [f for f in FrameParser().feed(fs_bytes(stem)) if f.content_type in EVENT_CONTENT_TYPES]
    events = [parse_event(f) for f in frames]
    uuid = next(e.uuid for e in events if e.uuid)
    call = fed_call([], uuid)
    reference = [parse_event(f) for f in frames]  # decoded separately: the call sees lazy events
    for i, event in enumerate(events):
        call.handle_event(event)
        assert call.variables == full_fold({"start": "1"}, reference[: i + 1], uuid), f"after event {i}"
    assert len(call.variables) > 50
