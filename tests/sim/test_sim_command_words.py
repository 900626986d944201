"""The simulator decides what a command line is the way mod_event_socket's parse_command does.

Pure rules first (freeswitch/sim/commands.py), then on a connection; the
same lines are checked against FreeSWITCH itself in the real-switch stage
(tests/esl_checks.py).
"""

from __future__ import annotations

import pytest

from freeswitch.sim.api_calls import blank_split
from freeswitch.sim.commands import c_atoi, log_level, match_command, name_event
from freeswitch.sim.core import EVENT_NAMES


def word(line: str, **state) -> str | None:
    state = {"authed": True, "bound": False, **state}
    match = match_command(line, **state)
    return match.word if match else None


@pytest.mark.parametrize("line,expected", [
    ("exit", "exit"), ("EXIT", "exit"), ("exitfoo", "exit"), ("...", "exit"),
    ("api status", "api"), ("API status", "api"), ("api", None), ("apistatus", None),
    ("bgapi status", "bgapi"), ("bgapi", None), ("sendevent CUSTOM", "sendevent"), ("SENDEVENTX", "sendevent"),
    ("sendmsg", "sendmsg"), ("SendMsg uuid", "sendmsg"), ("filter a b", "filter"), ("filter", None),
    ("event plain ALL", "event"), ("events plain ALL", "event"), ("EVENTFOO", "event"),
    ("nixevent X", "nixevent"), ("noevents", "noevents"), ("NOEVENTSX", "noevents"),
    ("log 7", "log"), ("logfoo", "log"), ("LOG", "log"), ("nolog", "nolog"), ("linger", "linger"),
    ("LINGER 5", "linger"), ("nolinger", "nolinger"), ("divert_events on", "divert_events"),
    ("myevents", None), ("myevents abc", "myevents"), ("MYEVENTS abc", "myevents"),
    ("connect", None), ("getvar x", None), ("resume", None), ("auth x", None), ("userauth x", None),
    (" api status", None), ("status", None), ("", None),
])
def test_inbound_authenticated_words(line, expected):
    assert word(line) == expected


def test_before_auth_only_auth_userauth_and_exit():
    assert word("AUTH secret", authed=False) == "auth"
    assert word("auth", authed=False) is None  # "auth " needs its space
    assert word("userauth a@b:c", authed=False) == "userauth"
    assert word("exit", authed=False) == "exit"
    assert word("api status", authed=False) is None and word("event plain ALL", authed=False) is None


def test_a_bound_connection_has_connect_getvar_resume_and_bare_myevents():
    for line, expected in (("connect", "connect"), ("CONNECTED", "connect"), ("getvar x", "getvar"),
                           ("GETVARX", "getvar"), ("resume", "resume"), ("myevents", "myevents"),
                           ("myevents json", "myevents"), ("api status", "api")):
        assert word(line, bound=True) == expected, line


def test_an_outbound_socket_without_full_control_stops_after_sendmsg():
    state = {"bound": True, "outbound": True, "full": False}
    assert word("sendmsg", **state) == "sendmsg" and word("getvar x", **state) == "getvar"
    assert word("api status", **state) is None and word("event plain ALL", **state) is None
    assert word("api status", bound=True, outbound=True, full=True) == "api"


def test_unloading_the_event_socket_from_itself_is_rewritten_to_a_background_api():
    match = match_command("please UNLOAD Mod_Event_Socket now", authed=True, bound=False)
    assert (match.word, match.tail) == ("api", "bgapi unload mod_event_socket")


def test_the_tail_is_handed_on_untouched():
    assert match_command("eventfoo plain ALL", authed=True, bound=False).tail == "foo plain ALL"
    assert match_command("auth  two spaces", authed=False, bound=False).tail == " two spaces"


def test_event_names_any_case_and_after_13_characters():
    assert name_event("channel_answer", EVENT_NAMES) == "CHANNEL_ANSWER"
    assert name_event("SWITCH_EVENT_HEARTBEAT", EVENT_NAMES) == "HEARTBEAT"
    assert name_event("NOT_AN_EVENT", EVENT_NAMES) is None


def test_log_levels_and_atoi():
    assert [log_level(x) for x in ("7", "info", "DEBUG", "disable", "99", "64", "-3", "bogus")] == \
        [7, 6, 7, -1, 63, None, 0, None]
    assert [c_atoi(x) for x in ("5", " 12x", "-1", "abc", "")] == [5, 12, -1, 0, 0]


def test_originate_arguments_split_on_spaces_outside_quotes():
    assert blank_split("user/1001 '&socket(127.0.0.1:1 async full)'") == [
        ("user/1001", "user/1001"), ("'&socket(127.0.0.1:1 async full)'", "&socket(127.0.0.1:1 async full)")]
    assert [c for _, c in blank_split("{a='b c'}user/1 &park()  XML")] == ["{a=b c}user/1", "&park()", "XML"]
    assert [c for _, c in blank_split(r"x it\'s")] == ["x", "it's"]


def test_connection_replies_follow_the_rules(harness):
    peer = harness.client()
    replies = lambda frames: [f.headers.get("Reply-Text") for f in frames if f.content_type == "command/reply"]  # noqa: E731
    assert replies(peer.send("events plain HEARTBEAT")) == ["+OK event listener enabled plain"]
    assert replies(peer.send("event xml")) == ["-ERR no keywords supplied"]
    assert replies(peer.send("event HEARTBEAT")) == ["+OK event listener enabled xml"]  # the format stuck
    assert replies(peer.send("event plain CUSTOM sim::x CHANNEL_ANSWER")) == ["+OK event listener enabled plain"]
    assert peer.protocol.subs.custom >= {"sim::x", "CHANNEL_ANSWER"}  # after CUSTOM every word is a subclass
    assert "CHANNEL_ANSWER" not in peer.protocol.subs.events
    assert replies(peer.send("log")) == ["+OK log level  [7]"]
    assert replies(peer.send("filter add Event-Name")) == ["+OK filter added. [Event-Name]=[(null)]"]
