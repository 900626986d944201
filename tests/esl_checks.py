"""Event-socket behaviour the simulator claims, as checks that run against any switch: the simulator or FreeSWITCH.

``tests/sim/test_sim_esl_checks.py`` runs every check against the simulator
over TCP; ``tests/real_switch/test_esl_fidelity.py`` runs the same checks,
unchanged, against a real FreeSWITCH 1.11.1. Expected values come from
mod_event_socket's C code and the captures in ``tests/data/fs-traces.tar.xz``:
command words matched case-insensitively and mostly by prefix (see
``freeswitch/sim/commands.py``), the exact reply texts and ``-ERR`` forms,
the event header layout, ``Application-UUID`` echoing, linger and the
disconnect notices of an outbound socket.

Each check takes a :class:`Target` and raises AssertionError naming the
command whose reply differed. Everything is a plain blocking socket
(``freeswitch.esl.blocking``), so the checks know nothing of the switch
behind the port.
"""

from __future__ import annotations

import socket
import time
import uuid as uuidlib
from dataclasses import dataclass
from typing import Callable

from freeswitch.esl.blocking import BlockingEsl, EslRefused, plain_event
from freeswitch.esl.frames import Frame

#: header names every event starts with, in this order (the captures' CHANNEL_EXECUTE_COMPLETE)
CORE_HEADERS = ["Event-Name", "Core-UUID", "FreeSWITCH-Hostname", "FreeSWITCH-Switchname", "FreeSWITCH-IPv4",
                "FreeSWITCH-IPv6", "Event-Date-Local", "Event-Date-GMT", "Event-Date-Timestamp",
                "Event-Calling-File", "Event-Calling-Function", "Event-Calling-Line-Number", "Event-Sequence"]
GOODBYE = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
NO_UUID = "00000000-0000-0000-0000-000000000000"

#: (command line, reply text) on an authenticated inbound connection not bound to a channel, in this order
INBOUND_COMMAND_WORDS: list[tuple[str, str]] = [
    ("api", "-ERR command not found"),  # "api " needs its space
    ("bgapi", "-ERR command not found"),
    ("filter", "-ERR command not found"),
    (" api version", "-ERR command not found"),  # a leading space matches no word
    ("filter Event-Name", "-ERR invalid syntax"),
    ("FILTER Event-Name HEARTBEAT", "+OK filter added. [Event-Name]=[HEARTBEAT]"),
    ("Filter add Event-Name RE_SCHEDULE", "+OK filter added. [Event-Name]=[RE_SCHEDULE]"),
    ("filter delete Event-Name", "+OK filter deleted. [Event-Name][]"),
    ("filter delete all", "+OK filter deleted. [all][]"),
    ("noevents", "-ERR not listening for events"),
    ("event xml", "-ERR no keywords supplied"),  # ... but the format is xml from now on
    ("event NOT_AN_EVENT_NAME", "-ERR no keywords supplied"),
    ("event HEARTBEAT", "+OK event listener enabled xml"),
    ("Events plain HEARTBEAT", "+OK event listener enabled plain"),  # "event" matches as a prefix
    ("eventfoo json heartbeat", "+OK event listener enabled json"),
    ("EVENT plain SWITCH_EVENT_HEARTBEAT", "+OK event listener enabled plain"),
    ("nixevent", "-ERR no keywords supplied"),
    ("NIXEVENT heartbeat", "+OK events nixed"),
    ("NOEVENTS", "+OK no longer listening for events"),
    ("noeventsX", "-ERR not listening for events"),
    ("nixevent HEARTBEAT", "+OK events nixed"),  # a known name switches listening on
    ("noevents", "+OK no longer listening for events"),
    ("log", "+OK log level  [7]"),
    ("LOG info", "+OK log level info [6]"),
    ("log 99", "+OK log level 99 [63]"),
    ("log bogus", "-ERR invalid log level"),
    ("logfoo", "-ERR invalid log level"),  # "log" matches as a prefix; "foo" is no level
    ("NOLOG", "+OK no longer logging"),
    ("nolog", "-ERR not loging"),
    ("linger", "-ERR not controlling a session"),
    ("LINGER 5", "-ERR not controlling a session"),
    ("Nolinger", "-ERR not controlling a session"),
    ("divert_events on", "-ERR not controlling a session."),
    ("myevents", "-ERR command not found"),  # unbound: only "myevents <uuid>"
    ("MYEVENTS", "-ERR command not found"),
    (f"myevents {NO_UUID} json", "-ERR invalid uuid"),
    ("connect", "-ERR command not found"),  # connect/getvar/resume need a bound channel
    ("getvar channel_name", "-ERR command not found"),
    ("resume", "-ERR command not found"),
    ("sendmsg", "-ERR invalid session id []"),
    (f"SENDMSG {NO_UUID}", f"-ERR invalid session id [{NO_UUID}]"),
    ("auth whatever", "-ERR command not found"),  # only before authentication
    ("userauth a@b:c", "-ERR command not found"),
    ("this_is_not_a_command", "-ERR command not found"),
]


@dataclass(frozen=True)
class Target:
    """Where the event socket is, and a dial string that answers (for the outbound-socket checks)."""

    host: str
    port: int
    password: str
    answering: str  # e.g. "user/1001" on the simulator, a sipp UAS on FreeSWITCH
    timeout: float = 10.0

    def connect(self, auth: bool = True) -> BlockingEsl:
        return BlockingEsl(self.host, self.port, self.password if auth else None, timeout=self.timeout)


def _reply(esl: BlockingEsl, line: str, headers: list[tuple[str, str]] | None = None) -> str:
    return esl.command(line, headers).headers.get("Reply-Text", "")


def _goodbye(esl: BlockingEsl) -> Frame:
    """The disconnect notice that ends a connection (events before it are skipped)."""
    while True:
        frame = esl.frame()
        if frame.content_type == "text/disconnect-notice":
            return frame


def _closed(esl: BlockingEsl) -> bool:
    try:
        return esl.sock.recv(1) == b""
    except (ConnectionError, socket.timeout):
        return True


def check_before_auth(target: Target) -> None:
    """Only auth (any case) and exit work before auth; anything else is refused and the connection stays."""
    esl = target.connect(auth=False)
    try:
        assert esl.greeting.content_type == "auth/request" and esl.greeting.header_order == ["Content-Type"]
        for line in ("api status", "event plain ALL", "AUTHX", "auth"):
            assert _reply(esl, line) == "-ERR command not found", line
        assert _reply(esl, f"AUTH {target.password}") == "+OK accepted"
    finally:
        esl.close()


def check_password_is_compared_exactly(target: Target) -> None:
    """Everything after ``auth `` is the password: a second space or a trailing one is a wrong password."""
    for line in (f"auth  {target.password}", f"auth {target.password} ", "auth wrong"):
        esl = target.connect(auth=False)
        try:
            assert _reply(esl, line) == "-ERR invalid", repr(line)
            notice = _goodbye(esl)
            assert notice.header_order == ["Content-Type", "Content-Length"] and notice.text == GOODBYE
            assert _closed(esl), repr(line)
        finally:
            esl.close()


def check_exit_words(target: Target) -> None:
    """``exit`` matches as a prefix in any case, and ``...`` is exit too; before auth as well."""
    for line, auth in (("EXIT", True), ("exitfoo", True), ("...", True), ("exit", False)):
        esl = target.connect(auth=auth)
        try:
            assert _reply(esl, line) == "+OK bye", line
            notice = _goodbye(esl)
            assert "Controlled-Session-UUID" not in notice.headers and notice.text == GOODBYE
            assert _closed(esl), line
        finally:
            esl.close()


def check_inbound_command_words(target: Target) -> None:
    """The reply of every command word by the C code's matching rules (INBOUND_COMMAND_WORDS)."""
    esl = target.connect()
    try:
        for line, expected in INBOUND_COMMAND_WORDS:
            assert _reply(esl, line) == expected, line
        version = esl.command("API version")
        assert version.content_type == "api/response" and version.text.startswith("FreeSWITCH Version")
        assert _reply(esl, "BGAPI version").startswith("+OK Job-UUID: ")
        sent = _reply(esl, "SendEvent custom", [("Event-Subclass", "hotline::check")])
        assert sent.startswith("+OK ") and len(sent) == 4 + 36, sent
    finally:
        esl.close()


def check_api_error_bodies(target: Target) -> None:
    """Errors of ``api`` are in the body, not the Reply-Text."""
    esl = target.connect()
    try:
        assert esl.api("no_such_api_command arg1") == "-ERR no_such_api_command Command not found!\n"
        assert esl.api(f"uuid_kill {NO_UUID}") == "-ERR No such channel!\n"
        assert esl.api("global_getvar hotline_no_such_variable_xyz") == "-ERR no reply\n"
        assert esl.api(f"uuid_exists {NO_UUID}") == "false"
    finally:
        esl.close()


def check_background_job_event(target: Target) -> None:
    """bgapi: the reply names the Job-UUID (a client's own is kept); the event only for subscribers."""
    esl = target.connect()
    try:
        assert _reply(esl, "event plain BACKGROUND_JOB") == "+OK event listener enabled plain"
        job = str(uuidlib.uuid4())
        reply = esl.command("bgapi version", [("Job-UUID", job)])
        assert reply.header_order == ["Content-Type", "Reply-Text", "Job-UUID"]
        assert reply.headers["Reply-Text"] == f"+OK Job-UUID: {job}" and reply.headers["Job-UUID"] == job
        frame = esl.next_event()
        assert frame.content_type == "text/event-plain" and frame.header_order == ["Content-Length", "Content-Type"]
        event = plain_event(frame)
        assert list(event.headers)[: len(CORE_HEADERS)] == CORE_HEADERS
        assert (event["Event-Name"], event["Job-UUID"], event["Job-Command"]) == ("BACKGROUND_JOB", job, "version")
        assert "Job-Command-Arg" not in event and (event.body or "").startswith("FreeSWITCH Version")
    finally:
        esl.close()


def check_outbound_socket(target: Target) -> None:
    """An outbound socket: connect reply, getvar, myevents, linger forms, Application-UUID, linger and goodbye."""
    listener = socket.create_server(("127.0.0.1", 0))
    control = target.connect()
    leg = str(uuidlib.uuid4())
    out: BlockingEsl | None = None
    try:
        port = listener.getsockname()[1]
        job = _reply(control, f"bgapi originate {{origination_uuid={leg},originate_timeout=15}}{target.answering} "
                              f"'&socket(127.0.0.1:{port} async full)'")
        assert job.startswith("+OK Job-UUID"), job
        out = BlockingEsl.accept(listener, timeout=target.timeout)
        hello = out.command("Connect")  # "connect" matches in any case
        assert hello.header_order[-4:] == ["Content-Type", "Reply-Text", "Socket-Mode", "Control"]
        got = [hello.headers[h] for h in hello.header_order[-4:]]
        assert got == ["command/reply", "%2BOK%0A", "async", "full"], got
        assert "Content-Length" not in hello.headers and hello.header("Unique-ID") == leg
        channel = hello.header("Channel-Name")
        assert channel and _reply(out, "GETVAR channel_name") == channel
        assert _reply(out, "getvar hotline_no_such_variable") == "-ERR command not found"
        assert _reply(out, "Myevents") == "+OK Events Enabled"
        assert _reply(out, "myevents") == "-ERR aready enabled."
        for line, expected in (("LINGER 7", "+OK will linger 7 seconds"), ("lingerX", "+OK will linger"),
                               ("divert_events", "-ERR missing value."),
                               ("DIVERT_EVENTS off", "+OK events not diverted"), ("resume", "+OK")):
            assert _reply(out, line) == expected, line
        marker = str(uuidlib.uuid4())
        assert _reply(out, "sendmsg", [("call-command", "execute"), ("execute-app-name", "playback"),
                                       ("execute-app-arg", "silence_stream://200"), ("Event-UUID", marker)]) == "+OK"
        done = _event(out, lambda e: e["Event-Name"] == "CHANNEL_EXECUTE_COMPLETE"
                      and e.get("Application-UUID") == marker)
        assert list(done.headers)[: len(CORE_HEADERS)] == CORE_HEADERS
        assert (done["Application"], done["Application-Response"], done["Unique-ID"]) == (
            "playback", "FILE PLAYED", leg)
        assert _reply(out, "sendmsg", [("call-command", "hangup"), ("hangup-cause", "NORMAL_CLEARING")]) == "+OK"
        notice = _goodbye(out)
        assert notice.headers.get("Content-Disposition") == "linger" and notice.headers["Linger-Time"] == "-1"
        assert notice.headers["Controlled-Session-UUID"] == leg and notice.headers["Channel-Name"] == channel
        assert _reply(out, "exit") == "+OK bye"
        last = _goodbye(out)
        assert (last.headers.get("Content-Disposition"), last.headers.get("Controlled-Session-UUID")) == (
            "disconnect", leg)
        assert last.text == GOODBYE
    finally:
        if out is not None:
            out.close()
        try:
            control.api(f"uuid_kill {leg}")
        except (OSError, EslRefused):
            pass
        control.close()
        listener.close()


def _event(esl: BlockingEsl, predicate: Callable, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = esl.next_event()
        if frame.content_type == "text/event-plain":
            event = plain_event(frame)
            if predicate(event):
                return event
    raise AssertionError("event not seen")


ALL_CHECKS: list[Callable[[Target], None]] = [
    check_before_auth, check_password_is_compared_exactly, check_exit_words, check_inbound_command_words,
    check_api_error_bodies, check_background_job_event, check_outbound_socket,
]
