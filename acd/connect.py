"""The caller's side of the ACD: music on hold, announcements, and ringing + bridging an agent.

The ACD core talks to a :class:`CallerLeg`; :class:`BridgeLeg` implements it
on a live :class:`freeswitch.call.Call` (the caller's outbound-socket
session). Connecting uses the caller's own ``bridge`` application, not
``originate`` + ``uuid_bridge`` (see docs/acd.md for why):

* the agent's phone is dialled by FreeSWITCH from the caller's channel with
  ``{origination_uuid, originate_timeout, caller id, hotline_* customer data}user/<ext>``;
* FreeSWITCH itself cancels the agent leg (``ORIGINATOR_CANCEL``) when the
  caller hangs up while the phone rings -- no race for us to lose;
* hold music and announcements are stopped (``uuid_break``) and their
  playback confirmed finished *before* the bridge is executed, so an agent
  can never answer into a half-played announcement. A break is only sent
  once the playback has started (its ``CHANNEL_EXECUTE``): a break that
  reaches the switch before the queued playback starts would stop nothing,
  and ``uuid_break all`` would flush the queued execute so it never completes;
* the moment of answer is the caller's ``CHANNEL_BRIDGE`` event; the
  ``bridge`` completes when the conversation ends.
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol, Sequence

from twisted.internet import defer, task
from twisted.internet.interfaces import IReactorTime

from freeswitch.call_apps import file_list
from freeswitch.dialstring import variables_block
from freeswitch.esl.errors import CallHungUp

log = logging.getLogger(__name__)

#: ConnectResult kinds.
COMPLETED = "completed"
NO_ANSWER = "no_answer"
BUSY = "busy"
UNREGISTERED = "unregistered"
FAILED = "failed"
CALLER_GONE = "caller_gone"
#: A callback's customer (not the agent) failed: the attempt ends, the agent is free at once.
CUSTOMER_NO_ANSWER = "customer_no_answer"
CUSTOMER_BUSY = "customer_busy"
CUSTOMER_FAILED = "customer_failed"
CUSTOMER_FAILURES = frozenset({CUSTOMER_NO_ANSWER, CUSTOMER_BUSY, CUSTOMER_FAILED})

_FAILURES = {
    "NO_ANSWER": NO_ANSWER, "NO_USER_RESPONSE": NO_ANSWER, "ALLOTTED_TIMEOUT": NO_ANSWER,
    "USER_BUSY": BUSY, "CALL_REJECTED": BUSY,
    "USER_NOT_REGISTERED": UNREGISTERED, "SUBSCRIBER_ABSENT": UNREGISTERED, "UNALLOCATED_NUMBER": UNREGISTERED,
}


@dataclass(frozen=True, slots=True)
class ConnectResult:
    """How ringing an agent ended: ``completed`` means they answered and the conversation is over."""

    kind: str
    agent_leg_uuid: str | None = None
    cause: str = ""


AnswerCallback = Callable[[str], Any]


class CallerLeg(Protocol):
    """What the ACD needs from a waiting caller's call."""

    uuid: str
    ani: str
    dnis: str
    caller_name: str

    @property
    def gone(self) -> bool: ...

    def when_gone(self) -> defer.Deferred: ...

    def start_hold(self, music: str) -> None: ...

    def announce(self, files: Sequence[str]) -> None: ...

    def connect(self, extension: str, variables: Mapping[str, object], ring_timeout: float,
                on_answer: AnswerCallback) -> defer.Deferred: ...

    def cancel_connect(self) -> defer.Deferred: ...

    def stop_hold(self) -> defer.Deferred: ...

    def keep_place(self, variables: Mapping[str, str]) -> None:
        """Write the caller's queue place on the switch's channel, where it outlives the engine (acd/resume.py)."""

    def let_go(self) -> defer.Deferred:
        """The engine is stopping: end hold music and any ring so the switch's dialplan takes the caller."""


class BridgeLeg:
    """A :class:`CallerLeg` on a live Call; ``switch`` (optional) lets the ACD kill a ringing agent leg."""

    def __init__(self, call: Any, clock: IReactorTime, switch: Any = None, retry_delay: float = 1.0,
                 stop_timeout: float = 5.0) -> None:
        self.call = call
        self.clock = clock
        self.switch = switch
        self.retry_delay = retry_delay
        self.uuid: str = call.uuid
        self.ani: str = call.ani
        self.dnis: str = call.dnis
        self.caller_name: str = call.caller_name
        self._music: str | None = None
        self._holding = False
        self._media: defer.Deferred | None = None
        self._media_kind: str | None = None
        self._announcement: list[str] | None = None
        self._loop: defer.Deferred | None = None
        self._agent_leg: str | None = None
        self.stop_timeout = stop_timeout
        self._media_started = False
        self._break_wanted = False
        call.on_event(self._on_event)

    def _on_event(self, event: Any) -> None:
        if event.name == "CHANNEL_EXECUTE" and event.get("Application") == "playback" and self._media is not None:
            self._media_started = True
            if self._break_wanted:
                self._break_wanted = False
                self._break()

    def _break(self) -> None:
        """Stop the playback running now, or as soon as the queued one starts."""
        if self._media is None or self.gone:
            return
        if not self._media_started:
            self._break_wanted = True
            return
        self.call.break_media().addErrback(lambda _f: None)

    @property
    def gone(self) -> bool:
        return bool(self.call.hung_up)

    def when_gone(self) -> defer.Deferred:
        return self.call.when_hung_up()

    # -- hold and announcements -----------------------------------------------------

    def start_hold(self, music: str) -> None:
        """Loop ``music`` until :meth:`stop_hold`; announcements interrupt it."""
        self._music = music
        if self._holding or self.gone:
            return
        self._holding = True
        self._loop = defer.Deferred.fromCoroutine(self._hold_loop())
        self._loop.addErrback(lambda f: log.error("call %s: hold loop failed: %s", self.uuid, f.getErrorMessage()))

    async def _hold_loop(self) -> None:
        while self._holding and not self.gone:
            if self._announcement:
                target, kind, self._announcement = file_list(self._announcement), "announcement", None
            else:
                target, kind = self._music or "local_stream://moh", "music"
            self._media_kind = kind
            self._media_started = self._break_wanted = False
            self._media = self.call.playback(target)
            try:
                result = await self._media
            except CallHungUp:
                return
            except Exception as exc:  # noqa: BLE001 -- a bad file must not stop holding
                log.warning("call %s: hold playback %s failed: %s", self.uuid, target, exc)
                result = None
            finally:
                self._media = self._media_kind = None
                self._media_started = self._break_wanted = False
            if (result is None or not result.played) and kind == "music" and self._holding:
                await task.deferLater(self.clock, self.retry_delay, lambda: None)  # no busy loop on a bad file

    def announce(self, files: Sequence[str]) -> None:
        """Play ``files`` now (interrupting hold music), then resume the music."""
        if not self._holding or self.gone or not files:
            return
        self._announcement = list(files)
        if self._media is not None and self._media_kind == "music":
            self._break()

    def stop_hold(self) -> defer.Deferred:
        """Stop music and announcements; fires once the playback has really ended."""
        self._holding = False
        self._announcement = None
        loop, self._loop = self._loop, None
        if loop is None:
            return defer.succeed(None)
        self._break()
        done: defer.Deferred = defer.Deferred()
        timer = self.clock.callLater(self.stop_timeout, lambda: done.called or done.callback(None))

        def finished(_r: object) -> None:
            if timer.active():
                timer.cancel()
            if not done.called:
                done.callback(None)

        loop.addBoth(finished)
        return done

    def keep_place(self, variables: Mapping[str, str]) -> None:
        """``uuid_setvar_multi`` at once (an ``execute set`` would wait behind the endless hold music)."""
        if self.gone:
            return
        self.call.set_variables(variables).addErrback(
            lambda f: log.warning("call %s: queue place not written: %s", self.uuid, f.getErrorMessage()))

    def let_go(self) -> defer.Deferred:
        """Stop holding (``uuid_break all``: also a playback not started yet) and cancel a ring in progress."""
        self._holding = False
        self._announcement = None
        steps = []
        if not self.gone:
            steps.append(self.call.break_media(all_queued=True).addErrback(lambda _f: None))
        if self._agent_leg is not None:
            steps.append(self.cancel_connect().addErrback(lambda _f: None))
        return defer.gatherResults(steps)

    # -- connecting -----------------------------------------------------------------------

    def connect(self, extension: str, variables: Mapping[str, object], ring_timeout: float,
                on_answer: AnswerCallback) -> defer.Deferred:
        """Ring ``user/<extension>`` and bridge; Deferred of :class:`ConnectResult`."""
        return defer.Deferred.fromCoroutine(self._connect(extension, variables, ring_timeout, on_answer))

    async def _connect(self, extension: str, variables: Mapping[str, object], ring_timeout: float,
                       on_answer: AnswerCallback) -> ConnectResult:
        await self.stop_hold()
        if self.gone:
            return ConnectResult(CALLER_GONE, None, self.call.hangup_cause or "")
        leg_uuid = str(uuidlib.uuid4())
        dial_vars = {**variables, "origination_uuid": leg_uuid, "originate_timeout": max(1, int(ring_timeout))}
        dial = variables_block(dial_vars) + f"user/{extension}"
        answered: list[str] = []

        def listener(event: Any) -> None:
            if event.name == "CHANNEL_BRIDGE" and not answered:
                other = event.get("Other-Leg-Unique-ID") or event.get("Bridge-B-Unique-ID") or leg_uuid
                answered.append(other)
                on_answer(other)

        unsubscribe = self.call.on_event(listener)
        self._agent_leg = leg_uuid
        try:
            outcome = await self.call.bridge(dial, continue_on_fail=True)
        except CallHungUp as exc:
            return ConnectResult(COMPLETED if answered else CALLER_GONE, leg_uuid, exc.cause)
        finally:
            unsubscribe()
            self._agent_leg = None
        if outcome.success or answered:
            return ConnectResult(COMPLETED, answered[0] if answered else leg_uuid, outcome.hangup_cause)
        cause = outcome.hangup_cause or outcome.disposition
        if self.gone:
            return ConnectResult(CALLER_GONE, leg_uuid, cause)
        return ConnectResult(_FAILURES.get(cause, FAILED), leg_uuid, cause)

    def offer_callback(self, files: Sequence[str], key: str, timeout: float) -> defer.Deferred:
        """Play the callback offer over the hold music; Deferred[bool]: True if ``key`` is pressed within ``timeout``."""
        result: defer.Deferred = defer.Deferred()
        if self.gone:
            result.callback(False)
            return result

        def on_digit(dtmf: Any) -> None:
            if getattr(dtmf, "digit", None) == key and not result.called:
                result.callback(True)

        unsubscribe = self.call.on_dtmf(on_digit)
        timer = self.clock.callLater(timeout, lambda: result.called or result.callback(False))

        def cleanup(value: object) -> object:
            unsubscribe()
            if timer.active():
                timer.cancel()
            return value

        result.addBoth(cleanup)
        self.announce(files)
        return result

    def cancel_connect(self) -> defer.Deferred:
        """Hang up the agent leg being rung (agent logged out mid-offer); needs a Switch."""
        if self._agent_leg is None or self.switch is None:
            return defer.succeed(False)
        return self.switch.uuid_kill(self._agent_leg, "ORIGINATOR_CANCEL").addCallbacks(
            lambda _r: True, lambda _f: False)
