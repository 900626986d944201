"""The server FreeSWITCH's outbound socket connects to: one TCP connection per call.

The dialplan sends each hotline call to ``socket <engine>:8084 async full``.
For every connection :class:`OutboundProtocol` sends ``connect`` (the reply is
the channel data), builds a :class:`~freeswitch.call.Call`, subscribes
(``myevents``, extra media events that myevents lacks, ``linger``) and hands
the call to the application handler. The protocol owns the call's life on the
wire; the handler only drives the call:

* a handler that fails is logged with the call UUID and the call is hung up
  with a cause -- a caller is never left in silence;
* a handler that returns while the call is still up (and not transferred)
  gets the call hung up with ``NORMAL_CLEARING``;
* once the handler is done and FreeSWITCH reports the linger, ``exit``
  releases the socket; a handler still busy ``exit_grace`` seconds after the
  linger notice loses the socket (its database work goes on).

Each connection is independent, so one slow or dead call never delays another.
"""

from __future__ import annotations

import inspect
import logging
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping

from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall, IListeningPort, IReactorTCP, IReactorTime
from twisted.internet.protocol import ServerFactory
from twisted.python.failure import Failure

from freeswitch.call import Call
from freeswitch.esl.errors import CallHungUp, ConnectionLost
from freeswitch.esl.events import Event
from freeswitch.esl.frames import Frame
from freeswitch.esl.protocol import EslProtocol

log = logging.getLogger(__name__)

#: Events IVR code wants that ``myevents`` leaves out: FreeSWITCH 1.11's ``myevents`` list has no PLAYBACK_*,
#: RECORD_* or CHANNEL_CALLSTATE (checked against captures of a real 1.11.1).
DEFAULT_EXTRA_EVENTS: tuple[str, ...] = (
    "PLAYBACK_START", "PLAYBACK_STOP", "RECORD_START", "RECORD_STOP", "CHANNEL_CALLSTATE",
)

CallHandler = Callable[[Call], Any]


def _exc_info(failure: Failure) -> tuple:
    return (failure.type, failure.value, failure.getTracebackObject())


class OutboundProtocol(EslProtocol):
    """One outbound-socket connection: set the call up, run the handler, release the socket."""

    def __init__(self, server: "CallServer", clock: IReactorTime | None = None,
                 timeout: float | None = 30.0) -> None:
        super().__init__(clock, timeout)
        self.server = server
        self.call: Call | None = None
        self.handler_done = False
        self._exit_sent = False
        self._grace_timer: IDelayedCall | None = None

    # -- set-up -----------------------------------------------------------------

    def connectionMade(self) -> None:
        super().connectionMade()
        self.server._connection_opened(self)
        self.send_command("connect").addCallbacks(self._connected, self._setup_failed)

    def _connected(self, frame: Frame) -> None:
        data = {name: frame.header(name) for name in frame.headers}
        call = Call(self, data, self.clock)
        if not call.uuid:
            log.error("outbound connect reply without Unique-ID from %s; dropping", self._peer())
            self.transport.loseConnection()
            return
        self.call = call
        self.server._call_started(call)
        steps = [self.send_command("myevents")]
        if self.server.extra_events:
            steps.append(self.events(" ".join(self.server.extra_events)))
        if self.server.linger:
            steps.append(self.linger(self.server.linger_seconds))
        ready = defer.gatherResults(steps, consumeErrors=True)
        ready.addCallbacks(lambda _: self._run_handler(call), self._setup_failed)

    def _setup_failed(self, failure: Failure) -> None:
        if isinstance(failure.value, defer.FirstError):
            failure = failure.value.subFailure
        uuid = self.call.uuid if self.call else "?"
        if failure.check(ConnectionLost, CallHungUp):
            log.info("call %s: gone during socket set-up (%s)", uuid, failure.getErrorMessage())
            return
        log.error("call %s: outbound socket set-up failed: %s", uuid, failure.getErrorMessage())
        if self.call is not None and not self.call.hung_up:
            self.call.hangup(self.server.error_hangup_cause).addErrback(lambda _f: None)
        self.transport.loseConnection()

    # -- the application ----------------------------------------------------------

    def _run_handler(self, call: Call) -> None:
        try:
            result = self.server.handler(call)
            if inspect.iscoroutine(result):
                running = defer.Deferred.fromCoroutine(result)
            elif isinstance(result, defer.Deferred):
                running = result
            else:
                running = defer.succeed(result)
        except Exception:
            running = defer.fail()
        running.addCallbacks(self._handler_returned, self._handler_failed, errbackArgs=())
        running.addErrback(lambda f: log.error("call %s: clean-up failed", call.uuid, exc_info=_exc_info(f)))
        running.addBoth(self._handler_finished)

    def _handler_returned(self, _result: object) -> None:
        call = self.call
        assert call is not None
        if not call.hung_up and not call.transferred and not call.hangup_requested:
            log.warning("call %s: handler returned with the call still up; hanging up", call.uuid)
            self._hangup_quietly(call, "NORMAL_CLEARING")

    def _handler_failed(self, failure: Failure) -> None:
        call = self.call
        assert call is not None
        if failure.check(CallHungUp) and call.hung_up:
            log.info("call %s: caller hung up (%s) while the handler ran", call.uuid, call.hangup_cause)
            return
        self.server.handler_failures += 1
        log.error("call %s: handler failed; hanging up with %s", call.uuid,
                  self.server.error_hangup_cause, exc_info=_exc_info(failure))
        if not call.hung_up:
            self._hangup_quietly(call, self.server.error_hangup_cause)

    def _hangup_quietly(self, call: Call, cause: str) -> None:
        call.hangup(cause).addErrback(
            lambda f: log.warning("call %s: hangup failed: %s", call.uuid, f.getErrorMessage()))

    def _handler_finished(self, _result: object) -> None:
        self.handler_done = True
        self._maybe_exit()

    def _maybe_exit(self) -> None:
        """Send ``exit`` once the handler is done and the switch no longer needs the socket."""
        call = self.call
        if call is None or self._exit_sent or self.closed or not self.handler_done:
            return
        if call.lingering or call.transferred:
            self._send_exit()

    def _send_exit(self) -> None:
        self._exit_sent = True
        self._cancel_grace()
        self.exit().addErrback(lambda _f: None)  # the switch closing first is fine

    def _grace_expired(self) -> None:
        self._grace_timer = None
        if not self._exit_sent and not self.closed:
            log.warning("call %s: handler still busy %ss after hang-up; releasing the socket",
                        self.call.uuid if self.call else "?", self.server.exit_grace)
            self._send_exit()

    def _cancel_grace(self) -> None:
        if self._grace_timer is not None and self._grace_timer.active():
            self._grace_timer.cancel()
        self._grace_timer = None

    # -- frames from the switch -----------------------------------------------

    def event_received(self, event: Event) -> None:
        if self.call is not None:
            self.call.handle_event(event)
        super().event_received(event)

    def disconnect_notice_received(self, frame: Frame) -> None:
        disposition = frame.header("Content-Disposition") or "disconnect"
        if self.call is not None:
            self.call.handle_disconnect_notice(disposition)
        if disposition == "linger":
            if (not self.handler_done and self.clock is not None and self.server.exit_grace is not None
                    and self._grace_timer is None):
                self._grace_timer = self.clock.callLater(self.server.exit_grace, self._grace_expired)
            self._maybe_exit()
        else:
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        self._cancel_grace()
        if self.call is not None:
            self.call.connection_lost()  # before the base class, so executes fail as CallHungUp
        super().connectionLost(reason)
        self.server._connection_closed(self)


class CallServer(ServerFactory):
    """Accepts FreeSWITCH outbound-socket connections and runs ``handler(call)`` for each.

    ``handler`` may return None, a Deferred or a coroutine. ``linger_seconds``
    None sends a plain ``linger`` (the switch waits for our ``exit``).
    """

    protocol = OutboundProtocol

    def __init__(
        self,
        handler: CallHandler,
        clock: IReactorTime | None = None,
        *,
        linger: bool = True,
        linger_seconds: int | None = None,
        extra_events: Iterable[str] = DEFAULT_EXTRA_EVENTS,
        command_timeout: float | None = 30.0,
        error_hangup_cause: str = "NORMAL_TEMPORARY_FAILURE",
        exit_grace: float | None = 60.0,
    ) -> None:
        self.handler = handler
        self.clock = clock
        self.linger = linger
        self.linger_seconds = linger_seconds
        self.extra_events = tuple(extra_events)
        self.command_timeout = command_timeout
        self.error_hangup_cause = error_hangup_cause
        self.exit_grace = exit_grace
        self.calls_total = 0
        self.handler_failures = 0
        self._calls: dict[str, Call] = {}
        self._connections: set[OutboundProtocol] = set()
        self._idle_waiters: list[defer.Deferred] = []
        self._listening: IListeningPort | None = None

    def buildProtocol(self, addr: object) -> OutboundProtocol:
        proto = OutboundProtocol(self, self.clock, self.command_timeout)
        proto.factory = self
        return proto

    # -- listening ----------------------------------------------------------------

    def start(self, reactor: IReactorTCP, host: str = "127.0.0.1", port: int = 8084,
              backlog: int = 1024) -> IListeningPort:
        """Listen on ``host:port`` (port 0 picks a free one, see ``listening_port``).

        Every call is a new connection: the accept backlog is sized for a burst
        of a box's worth of calls (FreeSWITCH's max-sessions is 1000; the OS caps
        it at ``net.core.somaxconn``), not Twisted's default of 50.
        """
        if self.clock is None:
            self.clock = reactor  # type: ignore[assignment]  # composition root: the reactor is the clock
        self._listening = reactor.listenTCP(port, self, backlog=backlog, interface=host)
        return self._listening

    @property
    def listening_port(self) -> int | None:
        """The TCP port actually bound, or None before ``start``."""
        return self._listening.getHost().port if self._listening is not None else None  # type: ignore[attr-defined]

    def stop_listening(self) -> defer.Deferred:
        """Accept no new calls; live calls go on (see ``hangup_all`` and ``when_idle``)."""
        listening, self._listening = self._listening, None
        return defer.maybeDeferred(listening.stopListening) if listening is not None else defer.succeed(None)

    # -- live calls -------------------------------------------------------------

    @property
    def live_calls(self) -> Mapping[str, Call]:
        """Calls with an open socket, by uuid (read-only view)."""
        return MappingProxyType(self._calls)

    @property
    def live_count(self) -> int:
        return len(self._calls)

    def hangup_all(self, cause: str = "NORMAL_CLEARING") -> defer.Deferred:
        """Hang up every live call not released (shutdown); fires when the hangups were sent."""
        return defer.gatherResults([c.hangup(cause).addErrback(lambda _f: None) for c in list(self._calls.values())
                                    if not c.released])

    def release(self, uuids: Iterable[str]) -> list[str]:
        """Close these calls' sockets without hanging up: the switch's dialplan goes on after ``socket``.

        For a planned stop: callers the next engine can take back (ACD
        callers, whose place is on their channel) are left to the dialplan's
        reconnect loop instead of being cut off. Returns the uuids released.
        """
        wanted, done = set(uuids), []
        for proto in list(self._connections):
            call = proto.call
            if call is not None and call.uuid in wanted and not call.hung_up:
                call.released = True
                proto.transport.loseConnection()
                done.append(call.uuid)
        return done

    def when_idle(self) -> defer.Deferred:
        """Fires when no outbound connection is open."""
        if not self._connections:
            return defer.succeed(None)
        d: defer.Deferred = defer.Deferred()
        self._idle_waiters.append(d)
        return d

    def _connection_opened(self, proto: OutboundProtocol) -> None:
        self._connections.add(proto)

    def _call_started(self, call: Call) -> None:
        self.calls_total += 1
        self._calls[call.uuid] = call

    def _connection_closed(self, proto: OutboundProtocol) -> None:
        self._connections.discard(proto)
        if proto.call is not None and self._calls.get(proto.call.uuid) is proto.call:
            del self._calls[proto.call.uuid]
        if not self._connections:
            waiters, self._idle_waiters = self._idle_waiters, []
            for d in waiters:
                d.callback(None)
