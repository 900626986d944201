"""ESL command handling shared by inbound connections and outbound socket sessions.

mod_event_socket runs the same ``parse_command`` for both directions; only a
few commands differ (``auth`` inbound, ``connect``/``getvar`` outbound). Every
reply text, its ``-ERR`` form and the per-connection event filtering
(format, subscriptions, ``myevents`` uuid, filters) follow the 1.11.1 traces.
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
from freeswitch.esl.frames import Frame, FrameParser
from freeswitch.sim import api as sim_api
from freeswitch.sim.core import EVENT_NAMES, SimCore, new_uuid
from freeswitch.sim.event import SimEvent, api_frame, disconnect_frame, linger_frame, reply_frame

log = logging.getLogger(__name__)

#: the fixed list ``myevents`` subscribes (mod_event_socket; FINDINGS round 2 item 0)
MYEVENTS = frozenset("""CHANNEL_ANSWER CHANNEL_APPLICATION CHANNEL_BRIDGE CHANNEL_CREATE CHANNEL_DATA
CHANNEL_DESTROY CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE CHANNEL_ORIGINATE
CHANNEL_UUID CHANNEL_OUTGOING CHANNEL_PARK CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_STATE CHANNEL_UNBRIDGE
CHANNEL_UNPARK DETECTED_SPEECH DTMF NOTALK TALK""".split())

FORMATS = ("plain", "json", "xml")


class EslConnection(Protocol):
    """One ESL connection as the switch sees it; subclasses add auth or the session side."""

    outbound = False

    def __init__(self, core: SimCore) -> None:
        self.core = core
        self.parser = FrameParser(command_mode=True)
        self.authenticated = False
        self.closed = False
        self.event_format: str | None = None
        self.events: set[str] = set()
        self.custom: set[str] = set()
        self.all_events = False
        self.filters: list[tuple[str, str]] = []
        self.session_uuid: str | None = None  # myevents / outbound channel
        self.myevents = False
        self.linger: int | None = None  # None = no linger, -1 = until exit
        self.log_level: int | None = None
        self._commands: deque[Frame] = deque()
        self._busy = False
        self._held: list[SimEvent] | None = None

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
        if self.event_format is None:
            return False
        name = event.name
        if not self.all_events:
            if name == "CUSTOM":
                if event.subclass not in self.custom:
                    return False
            elif name not in self.events:
                return False
        if self.myevents and self.session_uuid:
            uuid = event.get("Unique-ID")
            if uuid is not None and uuid != self.session_uuid:
                return False
        if self.filters:
            return any(event.get(h) == v for h, v in self.filters)
        return True

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
        command = frame.command or ""
        word, _, rest = command.partition(" ")
        word = word.lower()
        rest = rest.strip()
        if word == "exit":
            self.reply("+OK bye")
            self.goodbye()
            return None
        method = getattr(self, "cmd_" + word, None)
        if method is None or not self.allowed(word):
            self.reply("-ERR command not found")
            return None
        return method(rest, frame)

    def allowed(self, word: str) -> bool:
        return True

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
        job = frame.headers.get("Job-UUID") or new_uuid()
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
        words = rest.split()
        fmt = "plain"
        if words and words[0].lower() in FORMATS:
            fmt = words.pop(0).lower()
        added = self.subscribe(words)
        if not added:
            self.reply("-ERR no keywords supplied")
            return None
        self.event_format = fmt
        self.reply(f"+OK event listener enabled {fmt}")
        return None

    def subscribe(self, words: list[str]) -> bool:
        custom_mode = False
        added = False
        for word in words:
            upper = word.upper()
            if custom_mode and upper not in EVENT_NAMES:
                self.custom.add(word)
                added = True
                continue
            if upper == "ALL":
                self.all_events = True
                added = True
            elif upper == "CUSTOM":
                custom_mode = True
                added = True
            elif upper in EVENT_NAMES:
                self.events.add(upper)
                added = True
        return added

    def cmd_nixevent(self, rest: str, frame: Frame) -> None:
        for word in rest.split():
            upper = word.upper()
            if upper == "ALL":
                self.all_events = False
                self.events.clear()
                self.custom.clear()
            else:
                self.events.discard(upper)
                self.custom.discard(word)
        self.reply("+OK events nixed")
        return None

    def cmd_noevents(self, rest: str, frame: Frame) -> None:
        if self.event_format is None:
            self.reply("-ERR not listening for events")
            return None
        self.event_format = None
        self.events.clear()
        self.custom.clear()
        self.all_events = False
        self.reply("+OK no longer listening for events")
        return None

    def cmd_filter(self, rest: str, frame: Frame) -> None:
        words = rest.split(None, 2)
        if words and words[0].lower() == "delete":
            if len(words) < 2:
                self.reply("-ERR invalid syntax")
                return None
            header = words[1]
            value = words[2] if len(words) > 2 else ""
            if header.lower() == "all":
                self.filters.clear()
            self.filters = [(h, v) for h, v in self.filters if not (h == header and (not value or v == value))]
            self.reply(f"+OK filter deleted. [{header}][{value}]")
            return None
        if len(words) < 2:
            self.reply("-ERR command not found")
            return None
        header, value = words[0], rest.split(None, 1)[1]
        self.filters.append((header, value))
        self.reply(f"+OK filter added. [{header}]=[{value}]")
        return None

    def cmd_divert_events(self, rest: str, frame: Frame) -> None:
        on = rest.strip().lower() == "on"
        self.reply("+OK events diverted" if on else "+OK events not diverted")
        return None

    def cmd_log(self, rest: str, frame: Frame) -> None:
        try:
            level = int(rest.strip() or 7)
        except ValueError:
            level = 7
        self.log_level = level
        self.reply(f"+OK log level {level} [{level}]")
        return None

    def cmd_nolog(self, rest: str, frame: Frame) -> None:
        if self.log_level is None:
            self.reply("-ERR not loging")
            return None
        self.log_level = None
        self.reply("+OK no longer logging")
        return None

    def cmd_sendevent(self, rest: str, frame: Frame) -> None:
        name = (rest.split() or ["CUSTOM"])[0].upper()
        event_uuid = new_uuid()
        subclass = frame.headers.get("Event-Subclass")
        base = self.core.base_event(name if name in EVENT_NAMES else "CUSTOM",
                                    ("mod_event_socket.c", "parse_command", 2272))
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
        uuid = rest.split()[0] if rest.split() else (self.session_uuid or "")
        channel = self.core.channels.get(uuid)
        if channel is None:
            self.reply(f"-ERR invalid session id [{uuid}]")
            return None
        self.reply("+OK")
        apply_sendmsg(channel, frame)
        return None

    # -- session binding (myevents / linger) --------------------------------
    def cmd_linger(self, rest: str, frame: Frame) -> None:
        if not self.session_uuid:
            self.reply("-ERR not controlling a session")
            return None
        try:
            seconds = int(rest) if rest else -1
        except ValueError:
            seconds = -1
        self.linger = seconds if seconds > 0 else -1
        self.reply("+OK will linger" if self.linger == -1 else f"+OK will linger {seconds} seconds")
        return None

    def cmd_nolinger(self, rest: str, frame: Frame) -> None:
        if not self.session_uuid:
            self.reply("-ERR not controlling a session")
            return None
        self.linger = None
        self.reply("+OK will not linger")
        return None

    def enable_myevents(self, fmt: str | None) -> None:
        self.myevents = True
        self.events |= MYEVENTS
        if self.event_format is None:
            self.event_format = "plain"
        self.core.refresh_subscriber(self)

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
