"""Event decoding: lazy plain headers behave exactly like eager ones."""

from freeswitch.esl.events import Event, parse_json_event, parse_plain_event, parse_xml_event

PLAIN = (b"Event-Name: CHANNEL_ANSWER\nUnique-ID: u1\nCaller-Caller-ID-Name: Jos%C3%A9%20B\n"
         b"X-Array: ARRAY%3A%3Aa%7C%3Ab\nvariable_x: 1\n\n")


def test_lazy_plain_event_single_lookups_match_full_decode() -> None:
    lazy, eager = parse_plain_event(PLAIN), parse_plain_event(PLAIN)
    assert lazy.name == "CHANNEL_ANSWER" and lazy.uuid == "u1"
    assert lazy["Caller-Caller-ID-Name"] == "José B"
    assert lazy.values("X-Array") == ["a", "b"]
    assert lazy.variable("x") == "1" and lazy.variable("missing") is None
    assert "Unique" not in lazy and "Unique-ID" in lazy
    assert dict(eager) == dict(lazy.headers) and len(eager) == 5


def test_lookups_after_the_peek_limit_use_the_decoded_headers() -> None:
    event = parse_plain_event(PLAIN)
    for _ in range(20):
        assert event["Unique-ID"] == "u1"
    assert event == parse_plain_event(PLAIN)


def test_events_from_dicts_still_work_for_the_simulator() -> None:
    event = Event({"Event-Name": "DTMF", "DTMF-Digit": "5"}, None)
    assert event.name == "DTMF" and event["DTMF-Digit"] == "5"


def test_json_and_xml_arrays_become_freeswitch_array_strings() -> None:
    j = parse_json_event(b'{"Event-Name":"CUSTOM","X-Array":["one","two"],"_body":"hi"}')
    x = parse_xml_event(b"<event><headers><Event-Name>CUSTOM</Event-Name><X-Array>one</X-Array>"
                        b"<X-Array>two</X-Array></headers></event>")
    assert j["X-Array"] == x["X-Array"] == "ARRAY::one|:two" and j.body == "hi"
