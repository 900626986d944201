"""Test helpers for the simulator: in-memory ESL peers driven by a Clock, trace loading, WAV files.

Everything here is deterministic: connections use StringTransport, time is a
task.Clock, and the outbound socket app connects through an injected
connector instead of TCP.
"""

from __future__ import annotations

import json
import math
import re
import struct
import wave
from pathlib import Path
from typing import Any

from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from freeswitch.esl.frames import Frame, FrameParser
from freeswitch.esl.urlcode import fs_url_decode
from freeswitch.sim.phones import Endpoint
from freeswitch.sim.simulator import Simulator
from fs_traces import traces_dir

TRACES = traces_dir()


class Peer:
    """One ESL connection seen from the client side, in memory."""

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol
        self.transport = StringTransport()
        self.parser = FrameParser()
        self.frames: list[Frame] = []
        protocol.makeConnection(self.transport)

    def pull(self) -> list[Frame]:
        """Frames written since the last pull (also appended to ``frames``)."""
        data = self.transport.value()
        self.transport.clear()
        new = self.parser.feed(data)
        self.frames.extend(new)
        return new

    def send(self, command: str, headers: list[tuple[str, str]] | None = None, body: str | None = None,
             chunk: int | None = None) -> list[Frame]:
        text = command + "\n" + "".join(f"{k}: {v}\n" for k, v in (headers or []))
        data = text.encode()
        if body is not None:
            raw = body.encode()
            data = (text + f"Content-Length: {len(raw)}\n").encode() + b"\n" + raw
        else:
            data += b"\n"
        if chunk:
            for i in range(0, len(data), chunk):
                self.protocol.dataReceived(data[i:i + chunk])
        else:
            self.protocol.dataReceived(data)
        return self.pull()

    def api(self, command: str) -> str:
        """Send ``api <command>`` and return the body of its api/response."""
        frames = self.send("api " + command)
        return next(f.text for f in frames if f.content_type == "api/response")

    @property
    def disconnected(self) -> bool:
        return self.transport.disconnecting

    def events(self, frames: list[Frame] | None = None) -> list[dict[str, str]]:
        """Plain events among ``frames`` (default: all so far) decoded to dicts."""
        out = []
        if frames is None:
            self.pull()
        for f in self.frames if frames is None else frames:
            if f.content_type == "text/event-plain":
                out.append(plain_event(f.text))
        return out

    def event_names(self, frames: list[Frame] | None = None) -> list[str]:
        return [e["Event-Name"] for e in self.events(frames)]


def plain_event(text: str) -> dict[str, str]:
    head, _, body = text.partition("\n\n")
    headers: dict[str, str] = {}
    for line in head.split("\n"):
        if ": " in line or line.endswith(":"):
            k, _, v = line.partition(": ")
            headers.setdefault(k, fs_url_decode(v))
    if body:
        headers["_body"] = body
    return headers


def header_names(text: str) -> list[str]:
    return [line.split(":", 1)[0] for line in text.partition("\n\n")[0].split("\n") if line]


class SimHarness:
    """A Simulator on a Clock with in-memory inbound clients and outbound sessions."""

    def __init__(self, tmp_path: Path, **kw: Any) -> None:
        self.clock = Clock()
        self.clock.advance(1_795_396_000)  # a 2026 date, like the traces
        self.sessions: list[Peer] = []
        self.sounds = tmp_path / "sounds"
        self.sounds.mkdir(exist_ok=True)
        self.recordings = tmp_path / "rec"
        self.sim = Simulator(clock=self.clock, sounds_dir=self.sounds, recordings_dir=self.recordings,
                             connector=self._connect, **kw)
        self.sim.start()

    def _connect(self, host: str, port: int, factory: Any) -> None:
        self.sessions.append(Peer(factory.buildProtocol(None)))

    def client(self, auth: bool = True) -> Peer:
        peer = Peer(self.sim.factory.buildProtocol(None))
        peer.pull()
        if auth:
            peer.send("auth ClueCon")
        return peer

    def advance(self, seconds: float, step: float | None = None) -> None:
        """Advance the clock, stopping exactly at every pending timer so chained timers keep their times."""
        self.run_until(self.clock.seconds() + seconds)

    def run_until(self, target: float) -> None:
        clock = self.clock
        for _ in range(1_000_000):
            pending = [c.getTime() for c in clock.getDelayedCalls()]
            nxt = min([t for t in pending if t <= target] or [target])
            clock.advance(max(0.0, nxt - clock.seconds()))
            if nxt >= target and not [c for c in clock.getDelayedCalls() if c.getTime() <= target]:
                break

    def call(self, ani: str = "13800000001", dnis: str = "4001", script: str = "", **kw: Any) -> Any:
        """Place a call and return (call, outbound Peer) after the socket connected and 'connect' ran."""
        call = self.sim.place_call(ani, dnis, script, **kw)
        self.advance(0.05)
        session = self.sessions[-1]
        session.send("connect")
        return call, session

    def wav(self, name: str, seconds: float, amplitude: int = 8000, silence_after: float = 0.0) -> Path:
        return write_wav(self.sounds / name, seconds, amplitude, silence_after)


def write_wav(path: Path, seconds: float, amplitude: int = 8000, silence_after: float = 0.0) -> Path:
    """An 8 kHz mono WAV: a 440 Hz tone of ``seconds`` (silence if amplitude 0) then silence."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = int(seconds * 8000)
    frames = b"".join(struct.pack("<h", int(amplitude * math.sin(2 * math.pi * 440 * i / 8000))) for i in range(n))
    frames += b"\x00\x00" * int(silence_after * 8000)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(frames)
    return path


def trace_frames(stem: str) -> list[dict[str, Any]]:
    """The parsed frames of one capture (``inbound/02_main_plain``), both directions in order."""
    path = TRACES / f"{stem}.frames.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def frame_kind(content_type: str, headers: dict[str, str], body: str) -> str:
    """A comparable summary of one frame: event name + app, reply text (UUIDs masked), or content type."""
    return UUID_RE.sub("<uuid>", _frame_kind(content_type, headers, body))


def _frame_kind(content_type: str, headers: dict[str, str], body: str) -> str:
    if content_type == "text/event-plain":
        ev = plain_event(body)
        return f"EV {ev['Event-Name']} {ev.get('Application', '')}".rstrip()
    if content_type == "command/reply":
        reply = headers.get("Reply-Text", "")
        return "RE " + (reply.split(":")[0] if "Job-UUID" in reply else reply)
    return f"{content_type} {headers.get('Content-Disposition', '')}".rstrip()


#: the reference box's sounds: name -> seconds (calls/README.txt)
FSREF_SOUNDS = {"tone1s.wav": 1.0, "tone3s.wav": 3.0, "tone10s.wav": 10.0, "invalid.wav": 0.5}
FSREF_SOUNDS_DIR = "/usr/local/share/freeswitch/sounds/hotln"
FSREF_REC_DIR = "/var/lib/fsw/rec"
#: sipp's audio reached FreeSWITCH this long after the harness triggered the step (SIP INFO + 200 round trip)
SPEECH_LATENCY = 0.2


def harness_speech(stem: str) -> list[float]:
    """Times at which the capture's caller started sending audio (step triggered after a 'caller plays' note)."""
    path = TRACES / f"{stem}.log"
    out, armed = [], False
    for line in path.read_text(errors="replace").splitlines():
        m = re.match(r"#### \[t=\+([\d.]+)\] (.*)", line)
        if not m:
            continue
        if "caller plays" in m.group(2):
            armed = True
        elif armed and "triggers sipp step" in m.group(2):
            out.append(float(m.group(1)))
            armed = False
    return out


def harness_kills(stem: str) -> list[float]:
    """Times at which the capture's harness uuid_killed the bridged leg (from the .log notes)."""
    path = TRACES / f"{stem}.log"
    out = []
    for line in path.read_text(errors="replace").splitlines():
        m = re.match(r"#### \[t=\+([\d.]+)\] harness: uuid_kill", line)
        if m:
            out.append(float(m.group(1)))
    return out


def fsref_far_ends(h: SimHarness) -> None:
    """The reference box's far ends (calls/README.txt): 3000 answers, 3001 rings, 3002 busy, 1001 unregistered."""
    d = h.sim.directory
    d.unregister("1001")
    d.external["3001"] = Endpoint(answer_after=None)
    d.external["3002"] = Endpoint(busy=True)
    d.external["3000"] = Endpoint(answer_after=0.02)


def replay_outbound(h: SimHarness, stem: str) -> tuple[list[str], list[str], Peer]:
    """Re-enact an outbound capture: the app's commands at their traced times, the caller's
    digits and BYE at theirs; returns (traced frame kinds, simulator frame kinds, session)."""
    frames = trace_frames(stem)
    caller: list[tuple[float, str]] = []
    app_hangs_up = any(f["dir"] == "out" and "call-command: hangup" in f["raw"] for f in frames)
    for f in frames:
        if f["dir"] == "in" and f["headers"].get("Content-Type") == "text/event-plain":
            ev = plain_event(f["body"])
            if ev["Event-Name"] == "DTMF":
                caller.append((f["t"], "press " + ev["DTMF-Digit"]))
            elif ev["Event-Name"] == "CHANNEL_HANGUP" and not app_hangs_up:
                caller.append((f["t"], "hangup"))
    for name, seconds in FSREF_SOUNDS.items():
        if not (h.sounds / name).exists():
            h.wav(name, seconds)
    lead = 0.05  # the socket connects this long after the call starts
    first = next(f for f in frames if f["dir"] == "in" and f["headers"].get("Content-Type") == "text/event-plain")
    epoch0 = int(plain_event(first["body"])["Event-Date-Timestamp"]) / 1e6 - first["t"]
    if epoch0 - lead > h.clock.seconds():  # same wall-clock second fractions as the capture
        h.clock.advance(epoch0 - lead - h.clock.seconds())
    call = h.sim.place_call("sipp", "2000")
    for t, step in caller:
        if step == "hangup":
            h.clock.callLater(lead + t, call.channel.hangup, "NORMAL_CLEARING")
        else:
            h.clock.callLater(lead + t, call._press_one, step.split()[1])
    speech = harness_speech(stem)
    if speech:
        h.wav("caller7s.wav", 7.0)
    for t in speech:
        h.clock.callLater(lead + t + SPEECH_LATENCY, call.speak, str(h.sounds / "caller7s.wav"))
    for t in harness_kills(stem):
        h.clock.callLater(lead + t, lambda: call.channel.bridged_to and call.channel.bridged_to.hangup())
    fsref_far_ends(h)
    h.advance(lead)
    session = h.sessions[-1]
    t0 = h.clock.seconds()
    for f in frames:
        if f["dir"] != "out":
            continue
        h.run_until(t0 + f["t"])
        raw = f["raw"].replace(FSREF_SOUNDS_DIR, str(h.sounds)).replace(FSREF_REC_DIR, str(h.recordings))
        session.protocol.dataReceived(raw.encode())
        session.pull()
    h.advance(5)
    session.pull()
    theirs = [frame_kind(f["headers"].get("Content-Type", ""), f["headers"], f.get("body") or "")
              for f in frames if f["dir"] == "in"]
    mine = [frame_kind(f.content_type, f.headers, f.text) for f in session.frames]
    return theirs, mine, session


def skeleton(text: str) -> list[str]:
    """Header names of an event body in order, the variable_* run collapsed to one entry."""
    out: list[str] = []
    for name in header_names(text):
        if name.startswith("variable_"):
            if out and out[-1] == "variable_*":
                continue
            name = "variable_*"
        out.append(name)
    return out
