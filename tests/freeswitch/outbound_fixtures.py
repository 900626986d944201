"""Helpers that drive OutboundProtocol with a real FreeSWITCH outbound-socket capture.

``ReplaySwitch`` plays the switch: each command our code writes is matched to
the next command the recorded application wrote, and the switch's recorded
bytes that followed it are fed back. Our executes carry an ``Event-UUID``; the
recorded app sent none, so the switch's own Application-UUID in the recording
is rewritten to ours (same length, so Content-Length stays right). A recorded
``getvar`` our code does not send is skipped (its events still delivered).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from freeswitch.callserver import CallServer, OutboundProtocol
from freeswitch.esl.frames import FrameParser

from fs_traces import traces_dir


@dataclass
class Segment:
    """A command the recorded app sent and the switch frames (exact bytes) that followed it."""

    command: str
    frames: list[bytes] = field(default_factory=list)


def load_trace(stem: str) -> list[Segment]:
    """Segments of ``<traces>/<stem>.frames.jsonl``, frames sliced from ``.fs_to_app.raw``."""
    base = traces_dir() / stem
    jsonl = base.with_name(base.name + ".frames.jsonl")
    raw_path = base.with_name(base.name + ".fs_to_app.raw")
    if not jsonl.exists() or not raw_path.exists():
        raise FileNotFoundError(f"FreeSWITCH trace {stem} not found under {traces_dir()}")
    raw = raw_path.read_bytes()
    segments: list[Segment] = []
    pos = 0
    for line in jsonl.read_text().splitlines():
        item = json.loads(line)
        if item["dir"] == "out":
            segments.append(Segment(item["raw"]))
            continue
        size = len(item["raw"].encode("utf-8"))
        frame = raw[pos:pos + size]
        assert frame.decode("utf-8") == item["raw"], "trace files disagree"
        pos += size
        segments[-1].frames.append(frame)
    return segments


def _skippable(command: str) -> bool:
    """Recorded commands that do not change the call (lookups, api, subscriptions, async probes)."""
    first = command.split("\n", 1)[0]
    return (first.split(" ", 1)[0] in ("getvar", "api", "bgapi", "event", "no_such_command")
            or "async: true" in command)


def _normalise(command: str, headers: dict[str, str], body: bytes) -> tuple[str, str | None]:
    """Our command as the recorded app wrote it (no Event-UUID), and our Event-UUID."""
    event_uuid = headers.pop("Event-UUID", None)
    lines = [command] + [f"{k}: {v}" for k, v in headers.items()]
    return "\n".join(lines) + "\n\n" + body.decode("utf-8"), event_uuid


class ReplaySwitch:
    """Answers an OutboundProtocol's commands with a recorded capture."""

    def __init__(self, stem: str, proto: OutboundProtocol, transport: StringTransport,
                 chunk: int | None = None) -> None:
        self.segments = load_trace(stem)
        self.proto = proto
        self.transport = transport
        self.chunk = chunk
        self.uuid_map: dict[bytes, bytes] = {}
        self.sent: list[str] = []
        self._parser = FrameParser(command_mode=True)

    def _feed(self, frame: bytes) -> None:
        for recorded, ours in self.uuid_map.items():
            frame = frame.replace(recorded, ours)
        if self.chunk is None:
            self.proto.dataReceived(frame)
        else:
            for i in range(0, len(frame), self.chunk):
                self.proto.dataReceived(frame[i:i + self.chunk])

    def pump(self) -> None:
        """Answer every command written so far (and the ones those answers provoke)."""
        while True:
            data = self.transport.value()
            self.transport.clear()
            if not data:
                return
            for frame in self._parser.feed(data):
                self._answer(frame)

    def _answer(self, frame) -> None:
        ours, event_uuid = _normalise(frame.command or "", dict(frame.headers), frame.body)
        self.sent.append(ours)
        while True:
            if not self.segments:
                raise AssertionError(f"our code sent {ours!r} after the recording ended")
            segment = self.segments.pop(0)
            if segment.command == ours:
                break
            if _skippable(segment.command):  # the recorded app probed something our code need not
                for recorded in segment.frames:
                    if b"text/event-plain" in recorded[:80]:
                        self._feed(recorded)
                continue
            raise AssertionError(f"expected {segment.command!r}, our code sent {ours!r}")
        if event_uuid:
            self._map_application_uuid(frame.headers.get("execute-app-name", ""), segment, event_uuid)
        for recorded in segment.frames:
            self._feed(recorded)

    def _map_application_uuid(self, app: str, segment: Segment, ours: str) -> None:
        for recorded in segment.frames:
            text = recorded.decode("utf-8")
            if "Event-Name: CHANNEL_EXECUTE\n" in text and f"\nApplication: {app}\n" in text:
                value = text.split("\nApplication-UUID: ", 1)[1].split("\n", 1)[0]
                self.uuid_map[value.encode()] = ours.encode()
                return

    @property
    def remaining(self) -> list[str]:
        return [s.command for s in self.segments]


def make_server(handler, clock: Clock | None = None, **kwargs) -> CallServer:
    return CallServer(handler, clock or Clock(), **kwargs)


def connect(server: CallServer) -> tuple[OutboundProtocol, StringTransport]:
    """A new outbound connection from the 'switch' to ``server``."""
    proto = server.buildProtocol(None)
    transport = StringTransport()
    proto.makeConnection(transport)
    return proto, transport
