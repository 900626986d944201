"""Simulated callers: a script of waits, digits, speech, fax and hang-up, and a transcript.

The transcript (prompts heard with their ``.txt`` text, digits pressed, apps
run, bridges, recordings, hang-up cause) is what tests and the admin's test
call page assert on; each entry is also published as a CUSTOM
``sim::transcript`` event so any ESL client can watch a simulated call.
"""

from __future__ import annotations

import json
import logging
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twisted.internet import defer
from twisted.internet.task import deferLater

from freeswitch.sim.channel import Channel
from freeswitch.sim.core import SimCore

log = logging.getLogger(__name__)

DTMF_SPACING = 0.1  # seconds between pressed digits (RFC 2833 events)


class ScriptError(ValueError):
    """A caller script step that cannot be understood."""


def parse_script(script: str | list[str]) -> list[list[str]]:
    """``"wait 1; press 1#; speak a.wav; hangup"`` → [["wait","1"], ["press","1#"], ...]."""
    steps = script if isinstance(script, list) else [s for s in script.replace("\n", ";").split(";")]
    out = []
    for step in steps:
        words = shlex.split(step.strip()) if step.strip() else []
        if not words:
            continue
        if words[0] not in STEPS:
            raise ScriptError(f"unknown caller step {words[0]!r}")
        out.append(words)
    return out


STEPS = {"wait", "wait_prompt", "wait_answer", "press", "speak", "hangup", "fax", "wait_hangup"}


@dataclass
class SimulatedCall:
    """One simulated caller and what happened on its call."""

    core: SimCore
    channel: Channel
    steps: list[list[str]]
    transcript: list[dict[str, Any]] = field(default_factory=list)
    started: float = 0.0
    finished: defer.Deferred = field(default_factory=defer.Deferred)
    _prompt_waiters: list[defer.Deferred] = field(default_factory=list)
    _answer_waiters: list[defer.Deferred] = field(default_factory=list)

    @property
    def uuid(self) -> str:
        return self.channel.uuid

    def add(self, event: str, **data: Any) -> None:
        entry = {"t": round(self.core.clock.seconds() - self.started, 3), "event": event, **data}
        self.transcript.append(entry)
        self.core.fire_custom("sim::transcript", [
            ("Unique-ID", self.uuid), ("Sim-Event", event),
            ("Sim-Data", json.dumps({"t": entry["t"], **data}, ensure_ascii=False))])

    # -- observation ------------------------------------------------------------
    def on_core(self, kind: str, data: dict[str, Any]) -> None:
        ch = data.get("channel")
        if ch is not self.channel:
            if kind == "bridge" and data.get("other") is self.channel:
                pass
            return
        if kind == "prompt":
            entry = {"file": data["target"]}
            if data.get("text"):
                entry["text"] = data["text"]
            self.add("prompt", **entry)
        elif kind == "prompt_missing":
            self.add("prompt_missing", file=data["target"])
        elif kind == "prompt_end":
            waiters, self._prompt_waiters = self._prompt_waiters, []
            for d in waiters:
                d.callback(None)
        elif kind == "app":
            self.add("app", app=data["app"], arg=data["arg"])
        elif kind == "answer":
            self.add("answer")
            waiters, self._answer_waiters = self._answer_waiters, []
            for d in waiters:
                d.callback(None)
        elif kind == "bridge":
            other = data["other"]
            self.add("bridge", to=other.name, uuid=other.uuid)
        elif kind == "unbridge":
            self.add("unbridge")
        elif kind == "record_stop":
            self.add("recorded", path=data["path"], ms=data["ms"])
        elif kind == "dtmf_out":
            self.add("dtmf_heard", digits=data["digits"])
        elif kind == "fax_sent":
            self.add("fax_received_by_caller", file=data["path"], pages=len(data["pages"]))
        elif kind == "fax_received":
            self.add("fax_delivered", path=data["path"], pages=len(data["pages"]))
        elif kind == "hangup":
            self.add("hangup", cause=data["cause"])
            for d in self._prompt_waiters + self._answer_waiters:
                if not d.called:
                    d.callback(None)
            self._prompt_waiters, self._answer_waiters = [], []
        elif kind == "destroy":
            if not self.finished.called:
                self.finished.callback(self)

    # -- acting -------------------------------------------------------------------
    def press(self, digits: str) -> None:
        """Send digits as RFC 2833 events, DTMF_SPACING apart."""
        for i, digit in enumerate(digits):
            if i == 0:
                self._press_one(digit)
            else:
                self.core.clock.callLater(DTMF_SPACING * i, self._press_one, digit)

    def _press_one(self, digit: str) -> None:
        if self.channel.up:
            self.add("press", digit=digit)
            self.channel.receive_dtmf(digit, "RTP", 2000)

    def speak(self, wav: str) -> float:
        """Start speaking a WAV now (what a ``record`` captures); returns its length."""
        from freeswitch.sim.media import media_duration

        path = wav if Path(wav).is_absolute() else str(self.core.sounds_dir / wav)
        seconds = media_duration(path)
        self.add("speak", file=path, seconds=round(seconds, 3))
        self.channel.add_audio(path, seconds)
        return seconds

    def offer_fax(self, tif: str) -> int:
        """The caller is a fax machine about to send ``tif`` (what rxfax receives)."""
        from freeswitch.sim import fax as faxmod

        path = tif if Path(tif).is_absolute() else str(self.core.sounds_dir / tif)
        doc = faxmod.read_fax_tiff(path)
        self.channel.fax_offer = (path, doc)
        self.add("fax_offered", file=path, pages=doc.page_count)
        return doc.page_count

    async def run(self) -> None:
        clock = self.core.clock
        for words in self.steps:
            if not self.channel.up:
                return
            step, args = words[0], words[1:]
            if step == "wait":
                await deferLater(clock, float(args[0] if args else 1), lambda: None)
            elif step == "wait_answer":
                if not self.channel.answered:
                    d: defer.Deferred = defer.Deferred()
                    self._answer_waiters.append(d)
                    await d
            elif step == "wait_prompt":
                for _ in range(int(args[0]) if args else 1):
                    d = defer.Deferred()
                    self._prompt_waiters.append(d)
                    await d
                    if not self.channel.up:
                        return
            elif step == "press":
                digits = "".join(args)
                self.press(digits)
                await deferLater(clock, DTMF_SPACING * len(digits), lambda: None)
            elif step == "speak":
                seconds = self.speak(args[0])
                await deferLater(clock, seconds, lambda: None)
            elif step == "fax":
                self.offer_fax(args[0])
            elif step == "hangup":
                self.channel.hangup(args[0] if args else "NORMAL_CLEARING")
            elif step == "wait_hangup":
                await self.channel.hangup_deferred


def place_call(core: SimCore, ani: str, dnis: str, script: str | list[str] = "", *,
               cid_name: str | None = None, variables: dict[str, str] | None = None,
               uuid: str | None = None) -> SimulatedCall:
    """A caller dials ``dnis`` from ``ani``: the inbound channel is created, routed and scripted."""
    steps = parse_script(script)
    variables = dict(variables or {})
    sip = {
        "sip_from_user": ani, "sip_from_uri": f"{ani}@127.0.0.1:5090", "sip_from_host": "127.0.0.1",
        "sip_call_id": f"sim-{core.sessions_since_startup + 1}@127.0.0.1", "sip_network_ip": "127.0.0.1",
        "sip_network_port": "5090", "sip_req_user": dnis, "sip_req_uri": f"{dnis}@127.0.0.1:5080",
        "sip_to_user": dnis, "sip_to_uri": f"{dnis}@127.0.0.1:5080", "sofia_profile_name": "sim",
        "read_codec": "PCMU", "read_rate": "8000", "write_codec": "PCMU", "write_rate": "8000",
        "dtmf_type": "rfc2833", "endpoint_disposition": "RECEIVED",
    }
    ch = Channel(core, direction="inbound", name=f"sofia/sim/{ani}@127.0.0.1:5090", ani=ani, dnis=dnis,
                 cid_name=cid_name, uuid=uuid, variables={**sip, **variables})
    ch.variables["call_uuid"] = ch.uuid
    call = SimulatedCall(core, ch, steps, started=core.clock.seconds())
    core.listen_channel(ch, call.on_core)  # on_core only acts on its own channel's notifications
    call.finished.addBoth(lambda r: core.unlisten_channel(ch, call.on_core) or r)
    call.add("call", ani=ani, dnis=dnis)
    ch.start_inbound()
    dialplan = core.extensions.get("dialplan")
    if dialplan is not None:
        dialplan.route(ch, dnis)
    d = defer.ensureDeferred(call.run())
    d.addErrback(lambda f: log.error("caller script failed on %s: %s", ch.uuid, f.getErrorMessage()))
    return call
