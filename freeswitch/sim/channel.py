"""One simulated call leg: state machine, variables, app queue, hangup ordering.

Event header layout lives in :mod:`freeswitch.sim.headers`. Apps run one at a time from a queue; a
parking app (``socket``, ``park``) stays "current" while queued apps run inside
it, exactly as FreeSWITCH's park loop does.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any, Awaitable, Callable

from twisted.internet import defer

from freeswitch.sim.core import SimCore, new_uuid
from freeswitch.sim.headers import CALLSTATE_NUMBERS, STATE_NUMBERS, ChannelHeaders  # noqa: F401

log = logging.getLogger(__name__)

AppFunc = Callable[["Channel", str], Awaitable[str | None]]
#: app name -> implementation; filled by freeswitch.sim.apps
APPS: dict[str, AppFunc] = {}
#: apps that "park" the channel and run queued apps inside them
PARKING_APPS = frozenset({"socket", "park"})


class Waiter:
    """One interruptible wait of a running app (timeout, DTMF, hangup, break, audio)."""

    def __init__(self, deferred: defer.Deferred, on_dtmf: Callable[[str], bool] | None) -> None:
        self.deferred = deferred
        self.on_dtmf = on_dtmf
        self.call: Any = None

    def fire(self, reason: str) -> None:
        if self.call is not None and self.call.active():
            self.call.cancel()
        if not self.deferred.called:
            self.deferred.callback(reason)


class Channel(ChannelHeaders):
    """A call leg with FreeSWITCH's states, variables and event headers."""

    def __init__(self, core: SimCore, *, direction: str, name: str, ani: str, dnis: str,
                 cid_name: str | None = None, context: str = "public", source: str = "mod_sofia",
                 uuid: str | None = None, variables: dict[str, str] | None = None,
                 username: str = "", network_addr: str = "127.0.0.1") -> None:
        self.core = core
        self.clock = core.clock
        self.uuid = uuid or new_uuid()
        self.name = name
        self.direction = direction
        self.state = "CS_NEW"
        self.callstate = "DOWN"
        self.answer_state = "ringing"
        self.hangup_cause: str | None = None
        self.hit_dialplan = direction == "inbound"
        now = core.now_us()
        self.times = {"created": now, "answered": 0, "progress": 0, "progress_media": 0, "hangup": 0,
                      "transfer": 0, "bridged": 0}
        self.profile: dict[str, str] = {
            "Username": username or ani, "Dialplan": "XML", "Caller-ID-Name": cid_name or ani,
            "Caller-ID-Number": ani, "Orig-Caller-ID-Name": cid_name or ani, "Orig-Caller-ID-Number": ani,
            "Network-Addr": network_addr, "ANI": ani, "Destination-Number": dnis, "Source": source,
            "Context": context,
        }
        self.variables: dict[str, str] = {}
        self.variables["direction"] = direction
        self.variables["uuid"] = self.uuid
        self.variables["session_id"] = str(core.sessions_since_startup + 1)
        self.variables["channel_name"] = name
        for key, value in (variables or {}).items():
            self.variables[key] = value
        self.other_leg: Channel | None = None
        self.other_type = ""
        self.bridged_to: Channel | None = None
        self.queue: deque[tuple[str, str, str]] = deque()
        self.current_app: tuple[str, str, str] | None = None  # running (non-parking) app
        self.main_app: tuple[str, str, str] | None = None      # parking app (socket/park)
        #: the dialplan's actions after the parking app: they run once it returns (socket closed, transfer)
        self.after_park: deque[tuple[str, str, str]] = deque()
        #: the parking app was told to end while an app ran inside it: it returns when that app does
        self._unpark_pending = False
        self.last_response = "_none_"
        self._running = False
        self._waiter: Waiter | None = None
        self.bound: list[Any] = []  # ESL connections controlling this channel (outbound socket, myevents)
        self.dialplan_mode = True  # hang up when the app list runs out
        self.exec_delay = 0.02
        self.hangup_deferred: defer.Deferred = defer.Deferred()
        self.destroyed = False
        self._teardown_pending = False
        self.dtmf_log: list[str] = []
        self.audio: list[tuple[float, str, float]] = []  # caller speech: (start, wav, seconds of speech)
        self.on_hangup: list[Callable[[Channel], None]] = []
        self.on_dtmf_out: list[Callable[[str], None]] = []
        self.media_bugs: dict[str, Any] = {}
        self.codec = ("PCMU", 8000, 64000)
        #: an originated leg's far end (a person or an answering machine, see sim.phones.Endpoint), and when
        #: it answered (clock seconds): what the amd / avmd apps analyse
        self.callee: Any = None
        self.answered_clock: float | None = None
        core.add_channel(self)

    # -- header blocks -----------------------------------------------------
    # -- state machine ------------------------------------------------------
    def set_state(self, state: str, fire: bool = True) -> None:
        self.state = state
        if fire:
            self.fire("CHANNEL_STATE", ("switch_channel.c", "switch_channel_perform_set_running_state", 2409),
                      with_vars=False, codec=state != "CS_NEW")

    def set_callstate(self, callstate: str) -> None:
        old = self.callstate
        self.callstate = callstate
        self.fire("CHANNEL_CALLSTATE", ("switch_channel.c", "switch_channel_perform_set_callstate", 302),
                  pre=[("Original-Channel-Call-State", old),
                       ("Channel-Call-State-Number", str(CALLSTATE_NUMBERS[callstate]))], with_vars=False)

    def start_inbound(self) -> None:
        """CS_NEW → CS_INIT → CS_ROUTING → CS_EXECUTE for a call arriving from outside."""
        self.set_state("CS_NEW")
        self.state = "CS_INIT"
        self.fire("CHANNEL_CREATE", ("switch_core_state_machine.c", "switch_core_session_run", 626))
        self.set_state("CS_INIT")
        self.set_state("CS_ROUTING")
        self.set_callstate("RINGING")
        self.set_state("CS_EXECUTE")
        self.core.notify("channel_create", channel=self)

    def answer(self) -> None:
        if self.answered or not self.up:
            return
        self.times["answered"] = self.core.now_us()
        self.answer_state = "answered"
        self.fire("CHANNEL_ANSWER", ("switch_channel.c", "switch_channel_perform_mark_answered", 3848))
        self.set_callstate("ACTIVE")
        self.core.notify("answer", channel=self)

    def pre_answer(self) -> None:
        if self.times["progress_media"] or self.answered:
            return
        self.times["progress_media"] = self.core.now_us()
        self.answer_state = "early"
        self.fire("CHANNEL_PROGRESS_MEDIA", ("switch_channel.c", "switch_channel_perform_mark_pre_answered", 3656))
        self.set_callstate("EARLY")

    def ring_ready(self) -> None:
        if self.times["progress"]:
            return
        self.times["progress"] = self.core.now_us()
        self.fire("CHANNEL_PROGRESS", ("switch_channel.c", "switch_channel_perform_mark_ring_ready_value", 3507))

    # -- waits ---------------------------------------------------------------
    def wait(self, seconds: float | None, on_dtmf: Callable[[str], bool] | None = None) -> defer.Deferred:
        """Resolve with 'timeout', 'dtmf', 'hangup', 'break' or 'audio'; only one wait at a time."""
        d: defer.Deferred = defer.Deferred()
        if not self.up:
            d.callback("hangup")
            return d
        waiter = Waiter(d, on_dtmf)
        if seconds is not None:
            waiter.call = self.clock.callLater(max(0.0, seconds), waiter.fire, "timeout")
        self._waiter = waiter
        d.addBoth(self._clear_waiter, waiter)
        return d

    def _clear_waiter(self, result: Any, waiter: Waiter) -> Any:
        if self._waiter is waiter:
            self._waiter = None
        return result

    def interrupt(self, reason: str) -> None:
        if self._waiter is not None:
            self._waiter.fire(reason)

    def receive_dtmf(self, digit: str, source: str = "RTP", duration: int = 2000) -> None:
        """A digit from the far end: DTMF event, then offer it to the running app."""
        if not self.up:
            return
        self.dtmf_log.append(digit)
        self.fire("DTMF", ("switch_channel.c", "switch_channel_dequeue_dtmf", 678), with_vars=False,
                  extra=[("DTMF-Digit", digit), ("DTMF-Duration", str(duration)), ("DTMF-Source", source)])
        self.core.notify("dtmf", channel=self, digit=digit)
        waiter = self._waiter
        if waiter is not None and waiter.on_dtmf is not None and waiter.on_dtmf(digit):
            waiter.fire("dtmf")

    def add_audio(self, wav: str, speech_seconds: float) -> None:
        """The caller starts speaking now (for record)."""
        self.audio.append((self.clock.seconds(), wav, speech_seconds))
        self.interrupt_audio()

    def interrupt_audio(self) -> None:
        if self._waiter is not None and getattr(self._waiter, "wants_audio", False):
            self._waiter.fire("audio")

    # -- app execution ---------------------------------------------------------
    def execute(self, app: str, arg: str = "", app_uuid: str | None = None, delay: float | None = None) -> None:
        """Queue an app (sendmsg execute, dialplan, uuid_broadcast)."""
        self.queue.append((app, arg, app_uuid or new_uuid()))
        if not self._running:
            self._running = True
            self.clock.callLater(self.exec_delay if delay is None else delay, self._run_next)

    def _run_next(self) -> None:
        if not self.queue or not self.up:
            self._running = False
            if self.up and self.main_app is None and self.dialplan_mode:
                self.hangup("NORMAL_CLEARING")
            return
        app, arg, app_uuid = self.queue.popleft()
        self._running = True
        arg = self.core.expand(arg, self)
        self.variables["current_application_data"] = arg
        self.variables["current_application"] = app
        self.fire("CHANNEL_EXECUTE", ("switch_core_session.c", "switch_core_session_exec", 2949),
                  extra=self._app_headers(app, arg, app_uuid))
        self.core.notify("app", channel=self, app=app, arg=arg)
        func = APPS.get(app)
        if func is None:
            self._complete(app, arg, app_uuid, "_none_")
            return
        if app in PARKING_APPS:
            if self.main_app is not None:  # already under control: park refuses
                self._complete(app, arg, app_uuid, "_none_")
                return
            self.main_app = (app, arg, app_uuid)
            self.after_park.extend(self.queue)  # the rest of the dialplan waits for the park to end
            self.queue.clear()
            self._running = False
            d = defer.ensureDeferred(func(self, arg))
            d.addErrback(lambda f: log.error("app %s failed on %s: %s", app, self.uuid, f.getTraceback()))
            self._kick()
            return
        self.current_app = (app, arg, app_uuid)
        d = defer.ensureDeferred(func(self, arg))

        def failed(f: Any) -> str:
            log.error("app %s failed on %s: %s", app, self.uuid, f.getTraceback())
            return "-ERR"

        d.addErrback(failed)
        d.addCallback(lambda resp: self._complete(app, arg, app_uuid, resp))

    def _app_headers(self, app: str, arg: str, app_uuid: str) -> list[tuple[str, str]]:
        h = [("Application", app)]
        if arg:
            h.append(("Application-Data", arg))
        return h + [("Application-UUID", app_uuid)]

    def _complete(self, app: str, arg: str, app_uuid: str, response: str | None, main: bool = False) -> None:
        """An app returned: EXECUTE_COMPLETE, then the next one (``main``: the parking app, whose end leaves
        the app runner alone -- a queued app may already be on its way)."""
        if not main:
            self.current_app = None
        if response is None:
            response = "_none_"
        self.last_response = response
        extra = [("Application", app)]
        if arg:
            extra.append(("Application-Data", arg))
        extra += [("Application-Response", response), ("Application-UUID", app_uuid)]
        self.fire("CHANNEL_EXECUTE_COMPLETE", ("switch_core_session.c", "switch_core_session_exec", 2972),
                  extra=extra)
        if not main:
            self._running = False
        if self._teardown_pending:
            self._teardown()
        elif self._unpark_pending and self.up:
            self._unpark_pending = False
            self.complete_main_app()
        elif self.up:
            self._kick()

    def _kick(self) -> None:
        if self._running:
            return
        if self.queue:
            self._running = True
            self.clock.callLater(self.exec_delay, self._run_next)
        elif self.main_app is None and self.dialplan_mode and self.up:
            self._running = True
            self.clock.callLater(0, self._run_next)

    def complete_main_app(self) -> None:
        """The parking app ends (unpark): CHANNEL_UNPARK then its EXECUTE_COMPLETE with the stale response.

        FreeSWITCH's park loop runs queued apps inline, so when the socket
        closes (or a transfer ends the park) during a playback, the socket app
        returns only once that playback does -- endless hold music keeps
        playing to a caller whose engine is gone. The rest of the dialplan then runs.
        """
        if self.main_app is None:
            return
        if self.current_app is not None and self.up:
            self._unpark_pending = True
            return
        app, arg, app_uuid = self.main_app
        self.main_app = None
        self.queue.extend(self.after_park)
        self.after_park.clear()
        self.fire("CHANNEL_UNPARK", ("switch_ivr.c", "switch_ivr_park", 1213))
        self._complete(app, arg, app_uuid, self.last_response, main=True)

    def break_media(self) -> None:
        """uuid_break: stop the current playback."""
        self.interrupt("break")

    # -- hangup ------------------------------------------------------------
    def hangup(self, cause: str = "NORMAL_CLEARING") -> None:
        """CHANNEL_HANGUP, running app completes, unpark, HANGUP_COMPLETE, DESTROY (traced order)."""
        if not self.up:
            return
        self.hangup_cause = cause
        self.times["hangup"] = self.core.now_us()
        self.answer_state = "hangup"
        self.variables.setdefault("hangup_cause", cause)
        self.state_number_hangup = True
        self.fire("CHANNEL_HANGUP", ("switch_channel.c", "switch_channel_perform_hangup", 3447))
        self.core.notify("hangup", channel=self, cause=cause)
        for cb in list(self.on_hangup):
            try:
                cb(self)
            except Exception:
                log.exception("hangup hook failed")
        self.interrupt("hangup")
        self.queue.clear()
        self.after_park.clear()
        if self.current_app is not None:
            self._teardown_pending = True  # the running app completes first (traced order)
            return
        self._teardown()

    def _teardown(self) -> None:
        self._teardown_pending = False
        cause = self.hangup_cause or "NORMAL_CLEARING"
        if self.main_app is not None:
            self.complete_main_app()
        self.set_state("CS_HANGUP")
        self.set_callstate("HANGUP")
        self.set_state("CS_REPORTING")
        self.fire("CHANNEL_HANGUP_COMPLETE",
                  ("switch_core_state_machine.c", "switch_core_session_reporting_state", 943),
                  pre=[("Hangup-Cause", cause)])
        for conn in list(self.bound):
            conn.channel_gone(self)
        if not self.bound:
            self.schedule_destroy()
        if not self.hangup_deferred.called:
            self.hangup_deferred.callback(cause)

    def schedule_destroy(self) -> None:
        """DESTROY follows ~1 s later for SIP legs, at once for loopback (as FreeSWITCH 1.11.1 does).

        A controlling socket holds the session: DESTROY waits until it has closed.
        """
        self.clock.callLater(0 if self.name.startswith("loopback") else 1.0, self.destroy)

    def unbind(self, conn: Any) -> None:
        if conn in self.bound:
            self.bound.remove(conn)
            if not self.up and not self.bound and not self.destroyed:
                self.schedule_destroy()

    def destroy(self) -> None:
        if self.destroyed:
            return
        self.destroyed = True
        self.fire("CHANNEL_DESTROY", ("switch_core_session.c", "switch_core_session_perform_destroy", 1588))
        self.core.remove_channel(self)
        self.core.notify("destroy", channel=self)
