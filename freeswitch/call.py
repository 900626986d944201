"""One live call on FreeSWITCH's outbound socket: the interface IVR and ACD drive.

A :class:`Call` is built by :mod:`freeswitch.callserver` from the channel data
of the ``connect`` reply and fed every event of its connection. It knows the
call's identity (uuid, ANI, DNIS, variables), whether it is answered or hung
up, and runs dialplan applications with ``sendmsg execute`` + ``event-lock``:
each execute carries an ``Event-UUID`` that FreeSWITCH echoes as
``Application-UUID`` in the ``CHANNEL_EXECUTE_COMPLETE``, so results are
matched to the right request even when completions overlap.

Hang-up rule (one rule for every operation):

* a new operation on a hung-up call fails at once with :class:`CallHungUp`;
* an operation in flight when the channel dies fails with
  :class:`HungUpDuringExecute` (a ``CallHungUp``) carrying the ``Hangup-Cause``
  and, when FreeSWITCH still sent it, the late ``CHANNEL_EXECUTE_COMPLETE``
  in ``.event`` (partial recordings, bridge variables). The one exception is
  :meth:`~freeswitch.call_apps.CallApps.record`, where hanging up is the normal
  end of a voicemail: it resolves with ``hung_up=True``.
* ``hangup()`` on a hung-up call is a no-op, so clean-up code can always call it.

Typed wrappers of the common applications live in :mod:`freeswitch.call_apps`.
"""

from __future__ import annotations

import logging
import random
import uuid as uuidlib
from typing import Any, Callable, Mapping, Protocol

from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.python.failure import Failure

from freeswitch.call_apps import CallApps, ExecuteComplete
from freeswitch.dtmf import Dtmf, DtmfHandler, DtmfStream
from freeswitch.esl.errors import CallHungUp, CommandError, CommandTimeout, ConnectionLost
from freeswitch.esl.events import Event, parse_plain_headers

log = logging.getLogger(__name__)

#: Hotline's own pseudo-cause when the ESL connection drops before FreeSWITCH named one.
CAUSE_CONNECTION_LOST = "ESL_CONNECTION_LOST"

EventListener = Callable[[Event], Any]


class CallChannel(Protocol):
    """What a Call needs from its connection (implemented by ``OutboundProtocol``)."""

    def execute_message(self, app: str, arg: str | None = None, uuid: str | None = None,
                        event_lock: bool = True, app_uuid: str | None = None,
                        loops: int | None = None) -> tuple[str, defer.Deferred]: ...

    def sendmsg(self, uuid: str | None, call_command: str,
                headers: list[tuple[str, str]] | None = None,
                body: bytes | str | None = None) -> defer.Deferred: ...

    def send_command(self, command: str, headers: list[tuple[str, str]] | None = None,
                     body: bytes | str | None = None, *, kind: str = "command") -> defer.Deferred: ...

    def api(self, command: str) -> defer.Deferred: ...


class HungUpDuringExecute(CallHungUp):
    """The channel died while an application ran; ``event`` is its late completion, if any."""

    def __init__(self, uuid: str, cause: str, app: str, event: ExecuteComplete | None = None) -> None:
        super().__init__(uuid, cause)
        self.app = app
        self.event = event


class _Execution:
    __slots__ = ("app", "deferred", "timer")

    def __init__(self, app: str, deferred: defer.Deferred) -> None:
        self.app = app
        self.deferred = deferred
        self.timer: IDelayedCall | None = None


_ids = random.Random()  # seeded from the OS once


def _execute_id() -> str:
    """A random version-4 UUID for an execute's ``Event-UUID``, made without a system call.

    ``uuid4()`` reads ``os.urandom``, a system call that releases the GIL; with
    the CRM gateway's database threads busy, getting it back made the reactor
    wait up to a switch interval, once per execute (~9 per IVR call, seen in
    ``bench/ivr_calls.py --profile``). These ids only have to be unique among a
    call's executes, not unpredictable.
    """
    return str(uuidlib.UUID(int=_ids.getrandbits(128), version=4))


def channel_variables(headers: Mapping[str, str]) -> dict[str, str]:
    """The ``variable_*`` headers of a channel event or connect reply, without the prefix."""
    return {k[9:]: v for k, v in headers.items() if k.startswith("variable_")}


class Call(CallApps):
    """A caller on the outbound socket. Build it only through the CallServer."""

    def __init__(self, channel: CallChannel, channel_data: Mapping[str, str],
                 clock: IReactorTime | None = None) -> None:
        self._channel = channel
        self._clock = clock
        self.channel_data: dict[str, str] = dict(channel_data)
        self.uuid: str = channel_data.get("Unique-ID", "") or channel_data.get("Channel-Unique-ID", "")
        self.ani: str = channel_data.get("Caller-Caller-ID-Number", "")
        self.dnis: str = channel_data.get("Caller-Destination-Number", "")
        self.caller_name: str = channel_data.get("Caller-Caller-ID-Name", "")
        self.channel_name: str = channel_data.get("Channel-Name", "")
        self.core_uuid: str = channel_data.get("Core-UUID", "")
        self.variables: dict[str, str] = channel_variables(channel_data)
        #: Raw ``variable_*`` lines of the last event merged into ``variables`` (see ``_merge_variables``).
        self._variable_lines: set[bytes] = set()
        self.answered: bool = channel_data.get("Answer-State") == "answered"
        self.hung_up: bool = False
        self.hangup_cause: str | None = None
        self.lingering: bool = False
        self.hangup_requested: bool = False
        self.transferred: bool = False
        #: the CallServer let the switch have it back without a hang-up (planned stop, see CallServer.release)
        self.released: bool = False
        self.closed: bool = False
        self._executions: dict[str, _Execution] = {}
        self._hangup_waiters: list[defer.Deferred] = []
        self._listeners: list[EventListener] = []
        self.dtmf = DtmfStream(clock)

    def __repr__(self) -> str:
        state = f"hung up {self.hangup_cause}" if self.hung_up else ("answered" if self.answered else "ringing")
        return f"<Call {self.uuid} {self.ani}->{self.dnis} {state}>"

    # -- running applications ---------------------------------------------------

    def execute(self, app: str, arg: str | None = None, timeout: float | None = None) -> defer.Deferred:
        """Run a dialplan app; Deferred of its :class:`ExecuteComplete` (matched by Application-UUID).

        Fails with :class:`CallHungUp` if the call is or goes down first, with
        :class:`CommandError` if the switch refuses the ``sendmsg``, and with
        :class:`CommandTimeout` after ``timeout`` seconds (the app keeps running).
        """
        if self.hung_up:
            return defer.fail(self._hung_up_error())
        app_uuid = _execute_id()
        deferred: defer.Deferred = defer.Deferred()
        execution = _Execution(app, deferred)
        self._executions[app_uuid] = execution
        if timeout is not None and self._clock is not None:
            execution.timer = self._clock.callLater(timeout, self._execute_timed_out, app_uuid)
        _, sent = self._channel.execute_message(app, arg, event_lock=True, app_uuid=app_uuid)
        sent.addErrback(self._execute_refused, app_uuid)
        return deferred

    def _execute_refused(self, failure: Failure, app_uuid: str) -> None:
        execution = self._executions.pop(app_uuid, None)
        if execution is None:
            return None  # already settled (hang-up or connection loss got there first)
        self._cancel_timer(execution)
        if self.hung_up or not failure.check(CommandError):
            execution.deferred.errback(self._hung_up_error() if self.hung_up else failure)
        else:
            execution.deferred.errback(failure)
        return None

    def _execute_timed_out(self, app_uuid: str) -> None:
        execution = self._executions.pop(app_uuid, None)
        if execution is not None:
            execution.timer = None
            execution.deferred.errback(CommandTimeout(f"{execution.app} on {self.uuid} did not complete in time"))

    @staticmethod
    def _cancel_timer(execution: _Execution) -> None:
        if execution.timer is not None and execution.timer.active():
            execution.timer.cancel()
        execution.timer = None

    # -- call control ---------------------------------------------------------------

    def hangup(self, cause: str = "NORMAL_CLEARING") -> defer.Deferred:
        """Hang up with ``cause`` (``sendmsg`` call-command hangup); a no-op once hung up or hanging up.

        Fires when the switch accepted the request; ``when_hung_up()`` fires when it happened.
        """
        if self.hung_up or self.closed or self.hangup_requested:
            return defer.succeed(None)
        self.hangup_requested = True
        sent = self._channel.sendmsg(None, "hangup", [("hangup-cause", cause)])
        return sent.addCallback(lambda _frame: None).addErrback(self._ignore_if_hung_up)

    def _ignore_if_hung_up(self, failure: Failure) -> None | Failure:
        return None if self.hung_up else failure

    def get_var(self, name: str) -> defer.Deferred:
        """Deferred of a channel variable's value (outbound ``getvar``), ``None`` when unset."""
        if self.hung_up:
            return defer.fail(self._hung_up_error())

        def unset(failure: Failure) -> None:
            failure.trap(CommandError)
            if "command not found" in failure.value.reply:  # FreeSWITCH's answer for an unset variable
                return None
            return failure  # type: ignore[return-value]

        d = self._channel.send_command(f"getvar {name}")
        return d.addCallbacks(lambda frame: frame.reply_text, unset).addErrback(self._as_hung_up)

    def set_variables(self, variables: Mapping[str, str]) -> defer.Deferred:
        """Set (empty value: unset) channel variables now with ``api uuid_setvar_multi``.

        Unlike ``execute set``, it does not wait behind the app that is running.
        Values must not contain ``;`` (the separator); such a value is refused.
        """
        if self.hung_up:
            return defer.fail(self._hung_up_error())
        bad = [k for k, v in variables.items() if ";" in f"{k}{v}" or "=" in k or not k.strip()]
        if bad:
            return defer.fail(ValueError(f"variables that uuid_setvar_multi cannot carry: {bad}"))
        pairs = ";".join(f"{k}={v}" for k, v in variables.items())
        d = self._channel.api(f"uuid_setvar_multi {self.uuid} {pairs}")
        return d.addErrback(self._as_hung_up)

    def break_media(self, all_queued: bool = False) -> defer.Deferred:
        """Stop the playback running now (``api uuid_break``); ``all_queued`` drops queued files too."""
        if self.hung_up:
            return defer.fail(self._hung_up_error())
        d = self._channel.api(f"uuid_break {self.uuid}" + (" all" if all_queued else ""))
        return d.addErrback(self._as_hung_up)

    def _as_hung_up(self, failure: Failure) -> Failure:
        """A command cut off by the socket closing fails as CallHungUp, like executes do."""
        if failure.check(ConnectionLost) and self.hung_up:
            return Failure(self._hung_up_error())
        return failure

    def finish(self) -> defer.Deferred:
        """Release the lingering socket (``exit``): FreeSWITCH answers ``+OK bye`` and disconnects."""
        if self.closed:
            return defer.succeed(None)
        d = self._channel.send_command("exit").addCallback(lambda _frame: None)
        return d.addErrback(lambda f: f.trap(ConnectionLost) and None)  # closing is what we asked for

    def when_hung_up(self) -> defer.Deferred:
        """Deferred that fires with the hang-up cause (at once if already hung up)."""
        if self.hung_up:
            return defer.succeed(self.hangup_cause)
        d: defer.Deferred = defer.Deferred()
        self._hangup_waiters.append(d)
        return d

    # -- events -------------------------------------------------------------------

    def on_event(self, listener: EventListener) -> Callable[[], None]:
        """Call ``listener(event)`` for every event of this call; returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def on_dtmf(self, handler: DtmfHandler) -> Callable[[], None]:
        """Call ``handler(Dtmf)`` for every digit the caller presses; returns an unsubscribe function."""
        return self.dtmf.subscribe(handler)

    def next_dtmf(self, timeout: float | None = None) -> defer.Deferred:
        """Deferred of the next :class:`Dtmf` (buffered type-ahead first); ``None`` on timeout."""
        if self.hung_up:
            return defer.fail(self._hung_up_error())
        return self.dtmf.next(timeout)

    def flush_dtmf(self) -> list[Dtmf]:
        """Forget type-ahead digits."""
        return self.dtmf.flush()

    def handle_event(self, event: Event) -> None:
        """Feed one event of this connection (called by the protocol)."""
        uuid = event.uuid
        if uuid:
            if uuid != self.uuid:
                return  # another leg (b-leg, loopback) -- not ours
            self._merge_variables(event)
        name = event.name
        if name == "CHANNEL_EXECUTE_COMPLETE":
            self._execute_completed(event)
        elif name == "DTMF":
            self.dtmf.push(Dtmf.from_event(event))
        elif name == "CHANNEL_ANSWER":
            self.answered = True
        elif name in ("CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE"):
            self._mark_hung_up(event.get("Hangup-Cause") or "NORMAL_CLEARING")
            if name == "CHANNEL_HANGUP_COMPLETE":
                self._fail_executions()  # nothing more will complete
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed on %r for call %s", event, self.uuid)

    def _merge_variables(self, event: Event) -> None:
        """Update ``variables`` from an event's ``variable_*`` headers, decoding only the lines that changed.

        This runs for every event of every call, and decoding all ~115 headers
        of each was the engine's top cost per IVR call. Consecutive events of a
        channel repeat nearly all their variables byte for byte, and a line
        equal to one of the last merged event is already in ``variables``, so
        only the new lines are decoded, in wire order (the result is the same
        as updating with every line). ``variables`` is only read by callers;
        an event that names one variable twice with different values is not
        something FreeSWITCH sends.
        """
        lines = event.raw_variable_lines()
        if lines is None:  # already decoded (JSON/XML format, or read in full): nothing to save
            self.variables.update(channel_variables(event.headers))
            self._variable_lines = set()
            return
        if not lines:
            return  # no variables on this event (DTMF...): variables unchanged, the last lines still hold
        current = set(lines)
        changed = current.difference(self._variable_lines)
        if changed:
            fresh = [line for line in lines if line in changed] if len(changed) > 1 else list(changed)
            decoded = parse_plain_headers(b"\n".join(fresh).decode("utf-8", errors="replace"))
            self.variables.update(channel_variables(decoded))
        self._variable_lines = current

    def _execute_completed(self, event: Event) -> None:
        execution = self._executions.pop(event.get("Application-UUID", ""), None)
        if execution is None:
            return  # the socket app itself, or an app someone else started
        self._cancel_timer(execution)
        complete = event.retyped(ExecuteComplete)
        if self.hung_up:
            execution.deferred.errback(
                HungUpDuringExecute(self.uuid, self.hangup_cause or "NORMAL_CLEARING", execution.app, complete))
        else:
            execution.deferred.callback(complete)

    def handle_disconnect_notice(self, disposition: str) -> None:
        """``text/disconnect-notice``: ``linger`` means the channel is gone but the socket stays."""
        if disposition == "linger":
            self.lingering = True
        self._mark_hung_up(self.hangup_cause or "NORMAL_CLEARING")
        self._fail_executions()

    def connection_lost(self) -> None:
        """The socket closed: everything still pending fails with CallHungUp."""
        self.closed = True
        self._mark_hung_up(self.hangup_cause or CAUSE_CONNECTION_LOST)
        self._fail_executions()

    def _mark_hung_up(self, cause: str) -> None:
        if self.hung_up:
            return
        self.hung_up = True
        self.hangup_cause = cause
        self.dtmf.fail_waiters(self._hung_up_error())
        waiters, self._hangup_waiters = self._hangup_waiters, []
        for d in waiters:
            d.callback(cause)

    def _fail_executions(self) -> None:
        executions, self._executions = self._executions, {}
        for execution in executions.values():
            self._cancel_timer(execution)
            execution.deferred.errback(
                HungUpDuringExecute(self.uuid, self.hangup_cause or CAUSE_CONNECTION_LOST, execution.app))

    def _hung_up_error(self) -> CallHungUp:
        return CallHungUp(self.uuid, self.hangup_cause or "NORMAL_CLEARING")
