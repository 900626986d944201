"""The simulator's shared state: clock, channels, subscribers, event sequence, heartbeat.

Everything that FreeSWITCH keeps process-wide lives here so channels, the ESL
connections and the api commands can find each other without importing one
another's modules. All timing goes through the injected ``IReactorTime``.
"""

from __future__ import annotations

import logging
import time as _time
import uuid as _uuid
from pathlib import Path
from typing import Any, Callable, Protocol

from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall

from freeswitch.sim.event import SimEvent

log = logging.getLogger(__name__)


class ChannelLike(Protocol):
    """What the core itself needs of a channel (the channel module builds on the core, not the other way)."""

    uuid: str

    def get_variable(self, name: str) -> str | None: ...

VERSION = "1.11.1-release~64bit"
HOSTNAME = "hotline-sim"

#: Every event type name FreeSWITCH 1.11 knows (``event plain <names>`` validates against it).
EVENT_NAMES = frozenset("""
CUSTOM CLONE CHANNEL_CREATE CHANNEL_DESTROY CHANNEL_STATE CHANNEL_CALLSTATE CHANNEL_ANSWER CHANNEL_HANGUP
CHANNEL_HANGUP_COMPLETE CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_HOLD CHANNEL_UNHOLD CHANNEL_BRIDGE
CHANNEL_UNBRIDGE CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_OUTGOING CHANNEL_PARK CHANNEL_UNPARK
CHANNEL_APPLICATION CHANNEL_ORIGINATE CHANNEL_UUID API LOG INBOUND_CHAN OUTBOUND_CHAN STARTUP SHUTDOWN PUBLISH
UNPUBLISH TALK NOTALK SESSION_CRASH MODULE_LOAD MODULE_UNLOAD DTMF MESSAGE PRESENCE_IN NOTIFY_IN PRESENCE_OUT
PRESENCE_PROBE MESSAGE_WAITING MESSAGE_QUERY ROSTER CODEC BACKGROUND_JOB DETECTED_SPEECH DETECTED_TONE
PRIVATE_COMMAND HEARTBEAT TRAP ADD_SCHEDULE DEL_SCHEDULE EXE_SCHEDULE RE_SCHEDULE RELOADXML NOTIFY PHONE_FEATURE
PHONE_FEATURE_SUBSCRIBE SEND_MESSAGE RECV_MESSAGE REQUEST_PARAMS CHANNEL_DATA GENERAL COMMAND SESSION_HEARTBEAT
CLIENT_DISCONNECTED SERVER_DISCONNECTED SEND_INFO RECV_INFO RECV_RTCP_MESSAGE SEND_RTCP_MESSAGE CALL_SECURE NAT
RECORD_START RECORD_STOP PLAYBACK_START PLAYBACK_STOP CALL_UPDATE FAILURE SOCKET_DATA MEDIA_BUG_START MEDIA_BUG_STOP
CONFERENCE_DATA_QUERY CONFERENCE_DATA CALL_SETUP_REQ CALL_SETUP_RESULT CALL_DETAIL DEVICE_STATE TEXT
SHUTDOWN_REQUESTED ALL
""".split())


class Subscriber(Protocol):
    """Anything that wants every event (ESL connections)."""

    def deliver(self, event: SimEvent) -> None: ...


def new_uuid() -> str:
    return str(_uuid.uuid4())


class SimCore:
    """Process-wide state of one simulated FreeSWITCH."""

    def __init__(
        self,
        clock: IReactorTime,
        sounds_dir: Path | str = ".",
        recordings_dir: Path | str = ".",
        socket_target: tuple[str, int] = ("127.0.0.1", 8084),
        epoch: float | None = None,
        heartbeat_interval: float = 20.0,
    ) -> None:
        self.clock = clock
        self.core_uuid = new_uuid()
        self.hostname = HOSTNAME
        self.sounds_dir = Path(sounds_dir)
        self.recordings_dir = Path(recordings_dir)
        self.socket_target = socket_target
        #: wall-clock seconds at clock.seconds()==0 when the clock is a test Clock
        self._epoch_offset = (epoch if epoch is not None else _time.time()) - clock.seconds() \
            if clock.seconds() < 1e9 else 0.0
        self.started = clock.seconds()
        self.sequence = 0
        self.channels: dict[str, Any] = {}  # uuid -> freeswitch.sim.channel.Channel (which builds on this core)
        self.subscribers: list[Subscriber] = []
        self.global_vars: dict[str, str] = {"hostname": self.hostname, "switch_serial": ""}
        self.sessions_since_startup = 0
        self.peak = 0
        self.heartbeat_interval = heartbeat_interval
        self._heartbeat: LoopingCall | None = None
        #: hooks for the simulator's own layer (transcripts, phones); set by Simulator
        self.listeners: list[Callable[[str, dict[str, Any]], None]] = []
        #: listeners of one channel's notifications (a simulated caller), by id(channel):
        #: with 1000 calls up, offering every notification to every caller was O(calls²)
        self._channel_listeners: dict[int, list[Callable[[str, dict[str, Any]], None]]] = {}
        #: subscribers confined by ``myevents`` to one uuid (outbound sessions), by that uuid,
        #: and the others; events of a channel go to its own sessions only (not O(sessions))
        self._confined: dict[str, list[Subscriber]] = {}
        self._confined_of: dict[int, str] = {}
        self._open: list[Subscriber] = []
        self.extensions: dict[str, Any] = {}

    # -- time --------------------------------------------------------------
    def now(self) -> float:
        """Wall-clock seconds as FreeSWITCH would stamp them."""
        return self.clock.seconds() + self._epoch_offset

    def now_us(self) -> int:
        return int(self.now() * 1_000_000)

    def uptime(self) -> float:
        return self.clock.seconds() - self.started

    # -- events ------------------------------------------------------------
    def base_event(self, name: str, calling: tuple[str, str, int], subclass: str | None = None) -> SimEvent:
        """Event-Name, Core-UUID, host block, dates, calling site and sequence, in traced order."""
        self.sequence += 1
        now = self.now()
        ev = SimEvent()
        if subclass:
            ev.add("Event-Subclass", subclass)
        ev.add("Event-Name", name)
        ev.add("Core-UUID", self.core_uuid)
        ev.add("FreeSWITCH-Hostname", self.hostname)
        ev.add("FreeSWITCH-Switchname", self.hostname)
        ev.add("FreeSWITCH-IPv4", "127.0.0.1")
        ev.add("FreeSWITCH-IPv6", "::1")
        ev.add("Event-Date-Local", _time.strftime("%Y-%m-%d %H:%M:%S", _time.localtime(now)))
        ev.add("Event-Date-GMT", _time.strftime("%a, %d %b %Y %H:%M:%S GMT", _time.gmtime(now)))
        ev.add("Event-Date-Timestamp", int(now * 1_000_000))
        ev.add("Event-Calling-File", calling[0])
        ev.add("Event-Calling-Function", calling[1])
        ev.add("Event-Calling-Line-Number", calling[2])
        ev.add("Event-Sequence", self.sequence)
        return ev

    # -- subscribers ---------------------------------------------------------
    def subscribe(self, sub: Subscriber) -> None:
        """A connection that may receive events (each filters for itself in ``wants``)."""
        if sub not in self.subscribers:
            self.subscribers.append(sub)
            self._open.append(sub)
            self.refresh_subscriber(sub)

    def unsubscribe(self, sub: Subscriber) -> None:
        if sub in self.subscribers:
            self.subscribers.remove(sub)
        if sub in self._open:
            self._open.remove(sub)
        uuid = self._confined_of.pop(id(sub), None)
        if uuid is not None:
            subs = self._confined.get(uuid, [])
            if sub in subs:
                subs.remove(sub)
            if not subs:
                self._confined.pop(uuid, None)

    def refresh_subscriber(self, sub: Subscriber) -> None:
        """Re-index ``sub`` after ``myevents``/its session uuid changed (only an index: ``wants`` decides)."""
        if sub not in self.subscribers:
            return
        uuid = sub.session_uuid if getattr(sub, "myevents", False) and getattr(sub, "session_uuid", None) else None
        if uuid is None or self._confined_of.get(id(sub)) == uuid:
            return
        self.unsubscribe(sub)
        self.subscribers.append(sub)
        self._confined_of[id(sub)] = uuid
        self._confined.setdefault(uuid, []).append(sub)

    def fire(self, event: SimEvent) -> None:
        """Hand an event to every subscriber that may want it (each filters and encodes for itself).

        A ``myevents`` connection never gets another channel's events
        (``EslConnection.wants``), so a channel event is offered only to the
        unconfined connections and to the ones confined to its uuid.
        """
        uuid = event.get("Unique-ID") if self._confined else None
        if uuid is None:
            targets = list(self.subscribers)
        else:
            targets = self._open + self._confined.get(uuid, [])
        for sub in targets:
            try:
                sub.deliver(event)
            except Exception:  # one broken connection never stops the others
                log.exception("event delivery failed")

    def notify(self, kind: str, **data: Any) -> None:
        """Tell the simulator layer (transcripts, sim:: events) what happened."""
        for listener in list(self.listeners):
            try:
                listener(kind, data)
            except Exception:
                log.exception("sim listener failed on %s", kind)
        channel = data.get("channel")
        own = self._channel_listeners.get(id(channel)) if channel is not None else None
        for listener in list(own or ()):
            try:
                listener(kind, data)
            except Exception:
                log.exception("sim listener failed on %s", kind)

    def listen_channel(self, channel: Any, listener: Callable[[str, dict[str, Any]], None]) -> None:
        """Call ``listener(kind, data)`` for notifications whose ``data["channel"]`` is ``channel``."""
        self._channel_listeners.setdefault(id(channel), []).append(listener)

    def unlisten_channel(self, channel: Any, listener: Callable[[str, dict[str, Any]], None]) -> None:
        own = self._channel_listeners.get(id(channel))
        if own and listener in own:
            own.remove(listener)
        if not own:
            self._channel_listeners.pop(id(channel), None)

    def fire_custom(self, subclass: str, headers: list[tuple[str, str]]) -> None:
        """A CUSTOM event of the simulator's own ``sim::`` family."""
        ev = self.base_event("CUSTOM", ("sim.c", "sim_event", 1), subclass=subclass)
        for name, value in headers:
            ev.add(name, value)
        self.fire(ev)

    # -- heartbeat ---------------------------------------------------------
    def start(self) -> None:
        if self._heartbeat is None:
            self._heartbeat = LoopingCall(self._beat)
            self._heartbeat.clock = self.clock
            self._heartbeat.start(self.heartbeat_interval, now=False)

    def stop(self) -> None:
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        self._heartbeat = None

    def uptime_text(self) -> str:
        up = self.uptime()
        secs = int(up)
        ms = int((up - secs) * 1000)
        us = int((up * 1_000_000) % 1000)
        y, rem = divmod(secs, 365 * 86400)
        d, rem = divmod(rem, 86400)
        h, rem = divmod(rem, 3600)
        m, s = divmod(rem, 60)
        return (f"{y} years, {d} days, {h} hours, {m} minutes, {s} seconds, {ms} milliseconds, "
                f"{us} microseconds")

    def _beat(self) -> None:
        up = self.uptime()
        ev = self.base_event("HEARTBEAT", ("switch_core.c", "send_heartbeat", 95))
        ev.add("Event-Info", "System Ready")
        ev.add("Up-Time", self.uptime_text())
        ev.add("FreeSWITCH-Version", VERSION)
        ev.add("Uptime-msec", int(up * 1000))
        ev.add("Session-Count", len(self.channels))
        ev.add("Max-Sessions", 1000)
        ev.add("Session-Per-Sec", 30)
        ev.add("Session-Per-Sec-Last", 0)
        ev.add("Session-Per-Sec-Max", 0)
        ev.add("Session-Per-Sec-FiveMin", 0)
        ev.add("Session-Since-Startup", self.sessions_since_startup)
        ev.add("Session-Peak-Max", self.peak)
        ev.add("Session-Peak-FiveMin", self.peak)
        ev.add("Idle-CPU", "99.000000")
        self.fire(ev)
        rs = self.base_event("RE_SCHEDULE", ("switch_scheduler.c", "switch_scheduler_execute", 73))
        rs.add("Task-ID", 1)
        rs.add("Task-Desc", "heartbeat")
        rs.add("Task-Group", "core")
        rs.add("Task-Runtime", int(self.now() + self.heartbeat_interval))
        self.fire(rs)

    # -- channels ----------------------------------------------------------
    def add_channel(self, channel: "ChannelLike") -> None:
        self.channels[channel.uuid] = channel
        self.sessions_since_startup += 1
        self.peak = max(self.peak, len(self.channels))

    def remove_channel(self, channel: "ChannelLike") -> None:
        self.channels.pop(channel.uuid, None)

    def expand(self, text: str, channel: "ChannelLike | None" = None) -> str:
        """Expand ``${var}`` from the channel, then globals (FreeSWITCH's switch_channel_expand_variables)."""
        import re

        def repl(match: "re.Match[str]") -> str:
            name = match.group(1)
            if channel is not None:
                value = channel.get_variable(name)
                if value is not None:
                    return value
            return self.global_vars.get(name, "")

        return re.sub(r"\$\{([^}]+)\}", repl, text)
