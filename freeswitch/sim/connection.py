"""ESL command handling shared by inbound connections and outbound socket sessions.

mod_event_socket runs the same ``parse_command`` for both directions; which
command a line is follows its matching rules exactly (``freeswitch.sim.commands``:
case-insensitive, mostly by prefix, some words only on a connection bound to
a channel). Every reply text, its ``-ERR`` form and the per-connection event
state (``freeswitch.sim.subscriptions``: format, event list, subclasses,
filters; the ``myevents`` uuid here) follow the 1.11.1 traces and the C code.
Commands are handled strictly in order; while an ``api`` runs, this
connection's events wait so the reply comes first, as on a real switch.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from twisted.internet import defer
from twisted.internet.protocol import Protocol

from freeswitch.esl.errors import EslProtocolError
from freeswitch.esl.frames import Frame, FrameParser, encode_frame
from freeswitch.esl.urlcode import fs_url_encode
from freeswitch.sim import api as sim_api
from freeswitch.sim.commands import c_atoi, log_level, match_command, name_event
from freeswitch.sim.core import EVENT_NAMES, SimCore, new_uuid
from freeswitch.sim.event import SimEvent, api_frame, disconnect_frame, linger_frame, reply_frame
from freeswitch.sim.subscriptions import FORMATS, Subscriptions

log = logging.getLogger(__name__)

#: the fixed list ``myevents`` subscribes in mod_event_socket (as a real 1.11.1 sends them)
MYEVENTS = frozenset("""CHANNEL_ANSWER CHANNEL_APPLICATION CHANNEL_BRIDGE CHANNEL_CREATE CHANNEL_DATA
CHANNEL_DESTROY CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE CHANNEL_ORIGINATE
CHANNEL_UUID CHANNEL_OUTGOING CHANNEL_PARK CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_STATE CHANNEL_UNBRIDGE
CHANNEL_UNPARK DETECTED_SPEECH DTMF NOTALK TALK""".split())

__all__ = ["EslConnection", "FORMATS", "MYEVENTS", "apply_sendmsg"]


class EslConnection(Protocol):
    """One ESL connection as the switch sees it; subclasses add auth or the session side."""

    outbound = False
    #: outbound sockets: ``full`` control (else nothing after ``sendmsg`` is a command)
    full_control = True

    def __init__(self, core: SimCore) -> None:
        self.core = core
        self.parser = FrameParser(command_mode=True)
        self.authenticated = False
        self.closed = False
        self.subs = Subscriptions()
        self.session_uuid: str | None = None  # myevents / outbound channel
        self.myevents = False
        self.async_mode = False  # LFLAG_ASYNC (outbound "async", inbound after myevents)
        self.linger: int | None = None  # None = no linger, -1 = until exit
        self.log_level: int | None = None
        self.line = ""  # the command line being handled
        self._commands: deque[Frame] = deque()
        self._busy = False
        self._held: list[SimEvent] | None = None

    @property
    def event_format(self) -> str | None:
        """The format events go out in, or None while not listening."""
        return self.subs.format if self.subs.on else None

    @property
    def bound(self) -> bool:
        """Bound to a channel (outbound, or inbound after ``myevents <uuid>`` found it)."""
        return self.session_uuid is not None

    # -- wiring -------------------------------------------------------------
    def connectionMade(self) -> None:
        # mod_event_socket sets TCP_NODELAY on every listener socket (inbound
        # and outbound); without it small event frames wait for delayed ACKs.
        set_nodelay = getattr(self.transport, "setTcpNoDelay", None)
        if set_nodelay is not None:
            set_nodelay(True)
        self.core.subscribe(self)

    def connectionLost(self, reason: Any = None) -> None:
        self.closed = True
        self.core.unsubscribe(self)

    def write(self, data: bytes) -> None:
        if not self.closed and self.transport is not None:
            self.transport.write(data)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.core.unsubscribe(self)
            self.transport.loseConnection()

    def dataReceived(self, data: bytes) -> None:
        try:
            frames = self.parser.feed(data)
        except EslProtocolError:
            self.close()
            return
        self._commands.extend(frames)
        self._pump()

    def _pump(self) -> None:
        while self._commands and not self._busy and not self.closed:
            frame = self._commands.popleft()
            result = self.handle(frame)
            if isinstance(result, defer.Deferred):
                self._busy = True
                result.addErrback(lambda f: log.error("command failed: %s", f.getTraceback()))
                result.addBoth(self._done)

    def _done(self, _: Any) -> None:
        self._busy = False
        self._pump()

    # -- events -------------------------------------------------------------
    def wants(self, event: SimEvent) -> bool:
        if self.myevents and self.session_uuid:
            uuid = event.get("Unique-ID")
            if uuid is not None and uuid != self.session_uuid:
                return False
        return self.subs.wants(event)

    def deliver(self, event: SimEvent) -> None:
        if self.closed or not self.wants(event):
            return
        if self._held is not None:
            self._held.append(event)
        else:
            self.write(event.frame(self.event_format or "plain"))

    def _hold(self) -> None:
        if self._held is None:
            self._held = []

    def _release(self) -> None:
        held, self._held = self._held, None
        for event in held or ():
            if not self.closed:
                self.write(event.frame(self.event_format or "plain"))

    # -- commands -----------------------------------------------------------
    def reply(self, text: str, extra: list[tuple[str, str]] | None = None) -> None:
        self.write(reply_frame(text, extra))

    def handle(self, frame: Frame) -> defer.Deferred | None:
        match = match_command(frame.command or "", authed=self.authenticated, bound=self.bound,
                              outbound=self.outbound, full=self.full_control)
        if match is None:
            self.reply("-ERR command not found")
            return None
        if match.word == "exit":
            self.reply("+OK bye")
            self.goodbye()
            return None
        self.line = match.line
        return getattr(self, "cmd_" + match.word)(match.tail, frame)

    def goodbye(self) -> None:
        """Disconnect notice (session-bound sockets name their uuid) then close."""
        self.write(disconnect_frame(self.session_uuid if (self.outbound or self.myevents) else None))
        self.close()

    def cmd_api(self, rest: str, frame: Frame) -> defer.Deferred:
        self._hold()
        cmd, _, args = rest.partition(" ")
        d = defer.ensureDeferred(sim_api.execute(self.core, cmd, args.strip(), self))

        def send(body: str) -> None:
            self.write(api_frame(body))
            self._release()

        return d.addCallback(send)

    def cmd_bgapi(self, rest: str, frame: Frame) -> None:
        job = _header(frame, "job-uuid") or new_uuid()
        self.reply(f"+OK Job-UUID: {job}", [("Job-UUID", job)])
        cmd, _, args = rest.partition(" ")
        args = args.strip()
        owner = self.session_uuid if self.outbound else None
        d = defer.ensureDeferred(sim_api.execute(self.core, cmd, args, None))

        def done(body: str) -> None:
            ev = self.core.base_event("BACKGROUND_JOB", ("mod_event_socket.c", "api_exec", 1569))
            ev.add("Job-UUID", job)
            if owner:
                ev.add("Job-Owner-UUID", owner)
            ev.add("Job-Command", cmd)
            if args:
                ev.add("Job-Command-Arg", args)
            ev.body = body
            self.core.fire(ev)

        d.addCallback(done)
        d.addErrback(lambda f: log.error("bgapi failed: %s", f.getTraceback()))
        return None

    def cmd_event(self, rest: str, frame: Frame) -> None:
        self.reply(self.subs.event(rest))
        self.core.refresh_subscriber(self)
        return None

    def cmd_nixevent(self, rest: str, frame: Frame) -> None:
        self.reply(self.subs.nixevent(rest))
        return None

    def cmd_noevents(self, rest: str, frame: Frame) -> None:
        self.reply(self.subs.noevents())
        return None

    def cmd_filter(self, rest: str, frame: Frame) -> None:
        self.reply(self.subs.filter(rest))
        return None

    def cmd_divert_events(self, rest: str, frame: Frame) -> None:
        if not self.bound:
            self.reply("-ERR not controlling a session.")
            return None
        value = rest.lstrip(" ")
        if not value:
            self.reply("-ERR missing value.")
            return None
        self.reply("+OK events diverted" if value.lower() == "on" else "+OK events not diverted")
        return None

    def cmd_log(self, rest: str, frame: Frame) -> None:
        text = rest.lstrip(" ").partition(" ")[0]
        level = log_level(text) if text else 7
        if level is None:
            self.reply("-ERR invalid log level")
            return None
        self.log_level = level
        self.reply(f"+OK log level {text} [{level}]")
        return None

    def cmd_nolog(self, rest: str, frame: Frame) -> None:
        if self.log_level is None:
            self.reply("-ERR not loging")
            return None
        self.log_level = None
        self.reply("+OK no longer logging")
        return None

    def cmd_sendevent(self, rest: str, frame: Frame) -> None:
        name = name_event(rest.lstrip(" \t"), EVENT_NAMES) or "CUSTOM"
        event_uuid = new_uuid()
        subclass = frame.headers.get("Event-Subclass")
        base = self.core.base_event(name, ("mod_event_socket.c", "parse_command", 2272))
        ev = SimEvent()
        if subclass:
            ev.add("Event-Subclass", subclass)
        ev.add("Command", f"sendevent {name}")
        for key in frame.header_order:
            value = frame.headers[key].lstrip(" ")
            if key in ("Event-Subclass", "Event-Name") or not value:
                continue
            ev.add(key, value)
        ev.add("Event-UUID", event_uuid)
        ev.headers += base.headers
        if frame.body:
            ev.body = frame.body.decode("utf-8", errors="replace")
        self.reply(f"+OK {event_uuid}")
        self.core.fire(ev)
        return None

    def cmd_sendmsg(self, rest: str, frame: Frame) -> None:
        uuid = rest.lstrip(" ") or _header(frame, "session-id") or ""
        if not uuid and self.bound:
            uuid = self.session_uuid or ""
        channel = self.core.channels.get(uuid) if uuid else None
        if channel is None:
            self.reply(f"-ERR invalid session id [{uuid}]")
            return None
        self.reply("+OK")
        apply_sendmsg(channel, frame)
        return None

    # -- session binding (myevents / linger) --------------------------------
    def cmd_linger(self, rest: str, frame: Frame) -> None:
        if not self.bound:
            self.reply("-ERR not controlling a session")
            return None
        seconds = c_atoi(rest[1:]) if rest[:1] == " " and rest[1:] else -1
        self.linger = seconds if seconds >= 0 else -1
        self.reply("+OK will linger" if seconds == -1 else f"+OK will linger {seconds} seconds")
        return None

    def cmd_resume(self, rest: str, frame: Frame) -> None:
        channel = self.core.channels.get(self.session_uuid or "")
        if channel is not None:
            channel.variables["socket_resume"] = "true"
        self.reply("+OK")
        return None

    def cmd_connect(self, rest: str, frame: Frame) -> None:
        """The serialised CHANNEL_DATA of the bound channel as the reply (no Content-Length, values encoded)."""
        channel = self.core.channels.get(self.session_uuid or "")
        headers = [(n, fs_url_encode(v)) for n, v in channel.channel_data_event().headers] if channel else []
        headers += [("Content-Type", "command/reply"), ("Reply-Text", "%2BOK%0A"),
                    ("Socket-Mode", "async" if self.async_mode else "static"),
                    ("Control", "full" if self.outbound and self.full_control else "single-channel")]
        self.write(encode_frame(headers))
        return None

    def cmd_getvar(self, rest: str, frame: Frame) -> None:
        """The raw value, or ``-ERR command not found`` when unset or empty (an empty reply is an error)."""
        _, space, name = self.line.partition(" ")
        channel = self.core.channels.get(self.session_uuid or "")
        value = channel.get_variable(name) if (space and channel is not None) else None
        self.reply(value or "-ERR command not found")
        return None

    def cmd_nolinger(self, rest: str, frame: Frame) -> None:
        if not self.bound:
            self.reply("-ERR not controlling a session")
            return None
        self.linger = None
        self.reply("+OK will not linger")
        return None

    def enable_myevents(self, line: str) -> None:
        """The fixed list on; the format from ``xml``/``XML``/``json``/``JSON`` anywhere in ``line`` (C's strstr)."""
        self.myevents = True
        self.async_mode = True
        self.subs.myevents(MYEVENTS)
        if "xml" in line or "XML" in line:
            self.subs.format = "xml"
        if "json" in line or "JSON" in line:
            self.subs.format = "json"
        self.core.refresh_subscriber(self)

    def cmd_myevents(self, rest: str, frame: Frame) -> None:
        if self.myevents:
            self.reply("-ERR aready enabled.")
            return None
        line = self.line
        if not self.bound:  # inbound "myevents <uuid> [format]": binds the connection to that channel
            uuid, space, _fmt = rest[1:].partition(" ")
            channel = self.core.channels.get(uuid)
            if channel is None and space:
                self.reply("-ERR invalid uuid")
                return None
            line = line[: len(line) - len(rest)] + " " + uuid  # C cut the line at the format word
            if channel is not None:
                self.session_uuid = channel.uuid
                channel.bound.append(self)
        self.enable_myevents(line)
        self.reply("+OK Events Enabled")
        return None

    def channel_gone(self, channel: Any) -> None:
        """The bound channel reached HANGUP_COMPLETE: linger notice or disconnect."""
        if self.closed:
            return
        if self.linger is None:
            self.write(disconnect_frame(channel.uuid))
            self.close()
            return
        self.write(linger_frame(channel.uuid, channel.name, self.linger))
        if self.linger > 0:
            # FreeSWITCH checks once a second: 'linger 2' closed ~2.3 s after the notice
            self.core.clock.callLater(self.linger + 0.3, self._linger_over, channel.uuid)

    def _linger_over(self, uuid: str) -> None:
        if not self.closed:
            self.write(disconnect_frame(uuid))
            self.close()


def apply_sendmsg(channel: Any, frame: Frame) -> None:
    """sendmsg call-command: execute / hangup / unicast... on a channel."""
    headers = {k.lower(): v for k, v in frame.headers.items()}
    command = headers.get("call-command", "execute").lower()
    if command == "execute":
        app = headers.get("execute-app-name", "")
        arg = headers.get("execute-app-arg", "")
        if not arg and frame.body and headers.get("content-type", "").startswith("text/plain"):
            arg = frame.body.decode("utf-8", errors="replace").strip()
        try:
            loops = max(1, int(headers.get("loops", "1")))
        except ValueError:
            loops = 1
        event_uuid = frame.headers.get("Event-UUID") or headers.get("event-uuid")
        for _ in range(loops):
            channel.execute(app, arg, event_uuid)
    elif command == "hangup":
        cause = headers.get("hangup-cause", "NORMAL_CLEARING")
        channel.clock.callLater(channel.exec_delay, channel.hangup, cause)


def _header(frame: Frame, name: str) -> str | None:
    """A command header by name in any case (FreeSWITCH's event headers are case-insensitive)."""
    for key, value in frame.headers.items():
        if key.lower() == name:
            return value
    return None
