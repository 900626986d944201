"""The test-call page: place a simulated call into the running engine, press keys, say phrases, watch the transcript.

Everything goes over the engine's own ESL client (``Switch``) with the
simulator's ``api sim ...`` commands, through :mod:`admin.bridge`, so the call
takes the real path: simulator → outbound socket → CallServer → IVR. The live
transcript is the simulator's ``CUSTOM sim::transcript`` events: the Switch is
subscribed once (on the wire) and each event is republished to the EventHub
topic ``testcall:<uuid>``, which the page reads with EventSource. The page is
handed a stream token for that one topic when it places the call.
"""

from __future__ import annotations

import json
import logging
import re
import weakref
from pathlib import Path
from typing import Any

from flask import jsonify, request
from flask_admin import expose
from flask_login import current_user

from admin.auth import stream_token
from admin.bridge import EngineUnavailable, engine_bridge
from admin.i18n import gettext
from admin.paths import current_roots, scrub, scrub_value, shown_path
from admin.views.base import SecureBaseView
from admin.views.ivr_audio import AudioError, prompt_builder, render_text

log = logging.getLogger(__name__)

TRANSCRIPT_SUBCLASS = "sim::transcript"
UUID_RE = re.compile(r"^[0-9A-Za-z-]{8,64}$")
NUMBER_RE = re.compile(r"^\+?[0-9]{1,20}$")
DIGITS_RE = re.compile(r"^[0-9*#A-Da-d]{1,20}$")
DEFAULT_DNIS = "4008001234"
DEFAULT_ANI = "13800000000"

#: switch -> its relay, so each engine's Switch is subscribed once.
_relays: "weakref.WeakKeyDictionary[Any, TranscriptRelay]" = weakref.WeakKeyDictionary()


def topic_for(uuid: str) -> str:
    """The EventHub topic carrying one test call's transcript."""
    return f"testcall:{uuid}"


class NoSimulator(RuntimeError):
    """The engine talks to a real FreeSWITCH: there is no simulated caller to place."""


class TranscriptRelay:
    """A Switch event handler: each ``sim::transcript`` event → EventHub topic ``testcall:<uuid>``
    (file paths shown relative to the configured folders, ``admin.paths``)."""

    def __init__(self, hub: Any, roots: list[tuple[str, Path]] | None = None) -> None:
        self.hub = hub
        self.roots = roots or []

    def __call__(self, event: Any) -> None:
        uuid = event.get("Unique-ID") or ""
        try:
            data = json.loads(event.get("Sim-Data") or "{}")
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {"data": data}
        data = scrub_value(data, self.roots)
        self.hub.publish(topic_for(uuid), "transcript", {**data, "uuid": uuid, "event": event.get("Sim-Event")})


def ensure_relay(switch: Any, hub: Any, roots: list[tuple[str, Path]] | None = None) -> TranscriptRelay:
    """Subscribe ``switch`` to sim::transcript events for ``hub`` (once; runs on the reactor thread)."""
    relay = _relays.get(switch)
    if relay is None:
        relay = TranscriptRelay(hub, roots)
        switch.subscribe("CUSTOM", relay, subclass=TRANSCRIPT_SUBCLASS)
        _relays[switch] = relay
    return relay


def _engine() -> tuple[Any, Any]:
    """(bridge, switch) of a running engine with the simulator; EngineUnavailable / NoSimulator otherwise."""
    bridge = engine_bridge()
    switch = bridge.service("switch")
    try:
        bridge.service("simulator")
    except EngineUnavailable:
        raise NoSimulator() from None
    if bridge.hub is not None:
        bridge.call(ensure_relay, switch, bridge.hub, current_roots())
    return bridge, switch


def _error(message: str, status: int) -> Any:
    return jsonify({"error": scrub(message)}), status


class TestCallView(SecureBaseView):
    """Roles admin and supervisor; ``call`` covers placing, keys, phrases and hanging up."""

    method_permissions = {"index": "view", "place": "call", "dtmf": "call", "speak": "call", "hangup": "call",
                          "transcript": "call"}

    @expose("/")
    def index(self) -> Any:
        state, mode = "ready", None
        try:
            bridge, _ = _engine()
            mode = bridge.service("settings").switch.mode if _has_settings(bridge) else "sim"
        except NoSimulator:
            state = "no-simulator"
        except EngineUnavailable:
            state = "no-engine"
        return self.render("test_call/index.html", state=state, mode=mode, default_dnis=DEFAULT_DNIS,
                           default_ani=DEFAULT_ANI, languages=list(prompt_builder().voices))

    def _values(self) -> dict[str, str]:
        data = request.get_json(silent=True)
        return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else request.form.to_dict()

    def _api(self, command: str) -> tuple[str | None, Any]:
        """(reply text, None) or (None, error response)."""
        try:
            bridge, switch = _engine()
        except NoSimulator:
            return None, _error(gettext("Test calls need the switch simulator (switch.mode = sim), or a real phone."),
                                409)
        except EngineUnavailable:
            return None, _error(gettext("The engine is not running: test calls need hotline run."), 503)
        try:
            reply = bridge.call(switch.api, command)
        except Exception as exc:  # -ERR replies, lost connection, timeout: say it, keep the page usable
            return None, _error(str(exc).strip() or exc.__class__.__name__, 502)
        return str(reply), None

    def _uuid(self, values: dict[str, str]) -> str | None:
        uuid = values.get("uuid", "").strip()
        return uuid if UUID_RE.match(uuid) else None

    @expose("/call", methods=("POST",))
    def place(self) -> Any:
        values = self._values()
        ani, dnis = values.get("ani", "").strip() or DEFAULT_ANI, values.get("dnis", "").strip()
        if not NUMBER_RE.match(ani) or not NUMBER_RE.match(dnis):
            return _error(gettext("Calling and called numbers are digits (an optional leading +)."), 400)
        spec = {"from": ani, "to": dnis, "script": "", "name": f"test call ({current_user.username})",
                "vars": {"hotline_test_call": "true"}}
        reply, failed = self._api("sim call " + json.dumps(spec, ensure_ascii=False))
        if failed:
            return failed
        if not reply.startswith("+OK "):
            return _error(reply.strip(), 502)
        uuid = reply[4:].strip()
        topic = topic_for(uuid)
        log.info("test call %s from %s to %s placed by %s", uuid, ani, dnis, current_user.username)
        token = stream_token([topic])
        return jsonify({"uuid": uuid, "topic": topic, "token": token, "events": "/events"})

    @expose("/dtmf", methods=("POST",))
    def dtmf(self) -> Any:
        values = self._values()
        uuid, digits = self._uuid(values), values.get("digits", "").strip()
        if uuid is None or not DIGITS_RE.match(digits):
            return _error(gettext("Keys are 0-9, * and #."), 400)
        reply, failed = self._api(f"sim dtmf {uuid} {digits}")
        return failed or jsonify({"ok": True, "reply": reply.strip()})

    @expose("/speak", methods=("POST",))
    def speak(self) -> Any:
        values = self._values()
        uuid, phrase, lang = self._uuid(values), values.get("phrase", "").strip(), values.get("lang", "zh")
        if uuid is None or not phrase:
            return _error(gettext("Type a phrase for the caller to say."), 400)
        try:
            path = render_text(prompt_builder(), phrase, lang)
        except AudioError as exc:
            return _error(str(exc), 422)
        reply, failed = self._api(f"sim speak {uuid} {path}")
        return failed or jsonify({"ok": True, "file": shown_path(path, current_roots())})

    @expose("/hangup", methods=("POST",))
    def hangup(self) -> Any:
        uuid = self._uuid(self._values())
        if uuid is None:
            return _error(gettext("No call to hang up."), 400)
        reply, failed = self._api(f"sim hangup {uuid}")
        return failed or jsonify({"ok": True})

    @expose("/transcript/<uuid>")
    def transcript(self, uuid: str) -> Any:
        """The whole transcript so far (the page fills in what happened before its stream opened)."""
        if not UUID_RE.match(uuid):
            return _error(gettext("No such call."), 404)
        reply, failed = self._api(f"sim transcript {uuid}")
        if failed:
            return failed
        try:
            return jsonify(scrub_value(json.loads(reply), current_roots()))
        except ValueError:
            return _error(reply.strip(), 404)


def _has_settings(bridge: Any) -> bool:
    try:
        bridge.service("settings")
    except EngineUnavailable:
        return False
    return True
