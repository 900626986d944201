"""The inbound ESL client: one persistent, self-healing connection to FreeSWITCH.

:class:`Switch` keeps one authenticated connection alive with Twisted's
``ClientService`` (jittered, capped exponential backoff), re-authenticates and
re-subscribes on every reconnect, dispatches events to handlers registered by
name in one place, and offers typed helpers for the API commands the engine
uses. While disconnected every command fails at once with
:class:`NotConnected`: queueing an ``originate`` for "later" would dial at a
surprising time, or twice.
"""

from __future__ import annotations

import logging
import random
import uuid as uuidlib
from typing import Any, Callable, Iterable, Mapping

from twisted.application.internet import ClientService, backoffPolicy
from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime, IStreamClientEndpoint
from twisted.internet.protocol import Factory
from twisted.python.failure import Failure

from freeswitch.channels import ChannelRow, parse_show_channels
from freeswitch.dialstring import originate_command
from freeswitch.esl.errors import ApiError, AuthenticationError, ConnectionLost, NotConnected
from freeswitch.esl.events import Event
from freeswitch.esl.gate import GatedEndpoint
from freeswitch.esl.inbound import InboundProtocol

log = logging.getLogger(__name__)

EventHandler = Callable[[Event], Any]
StateListener = Callable[[bool], Any]

#: Always subscribed: ``bgapi`` results only arrive as BACKGROUND_JOB events.
_REQUIRED_EVENTS = ("BACKGROUND_JOB",)


def _check_arg(value: str, what: str) -> str:
    if not value or any(c in value for c in " \t\r\n"):
        raise ValueError(f"{what} must be one word, got {value!r}")
    return value


class Switch:
    """Inbound ESL client with reconnect, subscriptions and command helpers.

    ``events`` are FreeSWITCH event names (``CHANNEL_ANSWER``, ``CUSTOM
    sim::x`` or just ``ALL``); ``filters`` are ``(header, value)`` pairs sent
    as ``filter`` commands after each (re)connect. ``clock`` drives reconnect
    delays and command timeouts.
    """

    def __init__(
        self,
        endpoint: IStreamClientEndpoint,
        password: str,
        *,
        clock: IReactorTime,
        events: Iterable[str] = (),
        filters: Iterable[tuple[str, str]] = (),
        event_format: str = "plain",
        command_timeout: float | None = 30.0,
        connect_timeout: float = 30.0,
        initial_delay: float = 0.5,
        max_delay: float = 30.0,
        auth_retry_delay: float = 60.0,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if "\n" in password or "\r" in password:
            raise ValueError("the ESL password cannot contain a line break")
        if event_format not in ("plain", "json", "xml"):
            raise ValueError(f"unknown event format {event_format!r}")
        self._password = password
        self._clock = clock
        self._format = event_format
        self._command_timeout = command_timeout
        self._connect_timeout = connect_timeout
        self._auth_retry_delay = auth_retry_delay
        self._stopping = False
        self._auth_failed = False
        self._wire_events: set[str] = set()
        self._custom: set[str] = set()
        for name in events:
            self._add_wire_event(name)
        self._filters = list(filters)
        self._handlers: dict[str, list[EventHandler]] = {}
        self._state_listeners: list[StateListener] = []
        self._waiters: list[defer.Deferred] = []
        self._protocol: InboundProtocol | None = None
        self._connecting: InboundProtocol | None = None
        base = backoffPolicy(initialDelay=initial_delay, maxDelay=max_delay, factor=2.0, jitter=jitter)
        self._service = ClientService(
            GatedEndpoint(endpoint, lambda: self._connecting),
            Factory.forProtocol(self._build_protocol),
            retryPolicy=lambda attempt: self._retry_delay(base, attempt),
            clock=clock,
            prepareConnection=self._prepare,
        )

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        """Start connecting (and keep reconnecting until :meth:`stop`)."""
        self._stopping = False
        self._service.startService()

    def stop(self) -> defer.Deferred:
        """Disconnect and stop reconnecting; pending commands fail with ConnectionLost."""
        self._stopping = True
        self._fail_waiters(NotConnected("switch client stopped"))
        stopped = self._service.stopService()
        protocol = self._protocol
        if protocol is not None and protocol.transport is not None:
            # ClientService may not count a connection set up through prepareConnection as its current one,
            # and then leaves it open: close it here, so a stopped client holds no connection to the switch
            protocol.transport.loseConnection()
        return stopped

    @property
    def connected(self) -> bool:
        """True once authenticated and subscribed, until the connection drops."""
        return self._protocol is not None

    def when_connected(self) -> defer.Deferred:
        """Fires (with None) when connected; fails with AuthenticationError on a bad password."""
        if self._protocol is not None:
            return defer.succeed(None)
        waiter: defer.Deferred = defer.Deferred()
        self._waiters.append(waiter)
        return waiter

    def add_state_listener(self, listener: StateListener) -> None:
        """Call ``listener(True)`` after each (re)connect and ``listener(False)`` on loss."""
        self._state_listeners.append(listener)

    def _retry_delay(self, base: Callable[[int], float], attempt: int) -> float:
        delay = base(attempt)
        if self._auth_failed:
            # A wrong password will not fix itself in half a second: no storm.
            delay = max(delay, self._auth_retry_delay)
        log.info("reconnecting to FreeSWITCH in %.1fs (attempt %d)", delay, attempt)
        return delay

    def _build_protocol(self) -> InboundProtocol:
        protocol = InboundProtocol(clock=self._clock, timeout=self._command_timeout)
        protocol.add_event_handler(self._dispatch)
        protocol.on_lost = self._lost
        self._connecting = protocol
        return protocol

    def _prepare(self, _proxy: object) -> defer.Deferred:
        """ClientService hook: auth, subscribe, filter; the connection is usable after it."""
        protocol = self._connecting
        assert protocol is not None
        d = protocol.wait_auth_request(self._connect_timeout)
        d.addCallback(lambda _: protocol.authenticate(self._password))
        d.addCallback(lambda _: self._subscribe_all(protocol))
        d.addCallbacks(lambda _: self._ready(protocol), lambda f: self._prepare_failed(protocol, f))
        return d

    def _subscribe_all(self, protocol: InboundProtocol) -> defer.Deferred:
        sent = [protocol.send_command(self._event_command())]
        sent += [protocol.filter(header, value) for header, value in self._filters]
        return defer.gatherResults(sent, consumeErrors=True).addErrback(
            lambda f: f.value.subFailure if isinstance(f.value, defer.FirstError) else f
        )

    def _ready(self, protocol: InboundProtocol) -> None:
        protocol.ready_confirmed = True
        self._protocol = protocol
        self._auth_failed = False
        log.info("connected to FreeSWITCH %s", protocol.peer_text())
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.callback(None)
        self._notify(True)

    def _prepare_failed(self, protocol: InboundProtocol, failure: Failure) -> Failure:
        if failure.check(AuthenticationError):
            self._auth_failed = True
            log.error(
                "FreeSWITCH refused the ESL password (%s); check the switch password setting. "
                "Retrying in at least %ss.", failure.value.reply, self._auth_retry_delay,
            )
            self._fail_waiters(failure.value)
        elif not self._stopping:  # a handshake cut short by stop() is no news
            log.warning("could not set up the FreeSWITCH connection: %s", failure.getErrorMessage())
        protocol.drop()
        return failure

    def _lost(self, protocol: InboundProtocol) -> None:
        if protocol is self._protocol:
            self._protocol = None
            if self._stopping:  # closed by stop(): expected, and nothing reconnects
                log.info("FreeSWITCH connection closed (switch client stopped)")
            else:
                log.warning("lost the FreeSWITCH connection; reconnecting")
            self._notify(False)

    def _notify(self, up: bool) -> None:
        for listener in list(self._state_listeners):
            try:
                listener(up)
            except Exception:
                log.exception("switch state listener failed")

    def _fail_waiters(self, error: Exception) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.errback(Failure(error))

    # -- events ----------------------------------------------------------------

    def _add_wire_event(self, name: str) -> bool:
        """Record an event to subscribe on the wire; True if it is new."""
        words = name.split()
        if not words:
            raise ValueError("empty event name")
        if words[0] == "CUSTOM":
            new = [w for w in words[1:] if w not in self._custom]
            self._custom.update(new)
            if len(words) == 1 and "CUSTOM" not in self._wire_events:
                self._wire_events.add("CUSTOM")
                return True
            return bool(new)
        new = [w for w in words if w not in self._wire_events]
        self._wire_events.update(new)
        return bool(new)

    def _event_command(self) -> str:
        names = self._wire_events | set(_REQUIRED_EVENTS)
        if "ALL" in names:
            return f"event {self._format} ALL"
        plain = sorted(n for n in names if n != "CUSTOM")
        if self._custom or "CUSTOM" in names:
            plain += ["CUSTOM", *sorted(self._custom)]
        return f"event {self._format} " + " ".join(plain)

    def subscribe(self, name: str, handler: EventHandler, subclass: str | None = None) -> None:
        """Call ``handler(event)`` for events named ``name`` (``"*"`` for all).

        ``CUSTOM`` events are told apart by ``subclass`` (``sim::caller``);
        ``subscribe("CUSTOM", h)`` alone gets every CUSTOM event. The switch is
        asked for the event at once if connected, else on the next connect.
        """
        key = name if subclass is None else f"{name}::{subclass}"
        self._handlers.setdefault(key, []).append(handler)
        if name == "*":
            return
        wire = name if subclass is None else f"{name} {subclass}"
        if self._add_wire_event(wire) and self._protocol is not None:
            self._protocol.send_command(f"event {self._format} {wire}").addErrback(
                lambda f: log.error("subscribing to %s failed: %s", wire, f.getErrorMessage())
            )

    def unsubscribe(self, name: str, handler: EventHandler, subclass: str | None = None) -> None:
        """Stop calling ``handler`` (the switch keeps sending the event)."""
        key = name if subclass is None else f"{name}::{subclass}"
        handlers = self._handlers.get(key, [])
        if handler in handlers:
            handlers.remove(handler)

    def _dispatch(self, event: Event) -> None:
        """The one place events meet handlers; one failing handler never stops the rest."""
        name = event.name
        handlers = list(self._handlers.get(name, ()))
        if name == "CUSTOM":
            handlers += self._handlers.get("CUSTOM::" + event.subclass, ())
        handlers += self._handlers.get("*", ())
        for handler in handlers:
            try:
                result = handler(event)
            except Exception:
                log.exception("handler %r failed on %r", handler, event)
                continue
            if isinstance(result, defer.Deferred):
                result.addErrback(lambda f, e=event: log.error("handler failed on %r: %s", e, f.getTraceback()))

    # -- commands --------------------------------------------------------------

    def _require(self) -> InboundProtocol:
        protocol = self._protocol
        if protocol is None or protocol.closed:
            raise NotConnected("not connected to FreeSWITCH")
        return protocol

    def api(self, command: str) -> defer.Deferred:
        """``api <command>``: fires with the body text; ``-ERR`` bodies fail with ApiError."""
        try:
            return self._require().api(command)
        except Exception as exc:
            return defer.fail(exc)

    def bgapi(self, command: str, job_uuid: str | None = None, timeout: float | None = None) -> defer.Deferred:
        """``bgapi <command>``: fires with the BACKGROUND_JOB result text."""
        try:
            return self._require().bgapi(command, job_uuid, timeout=timeout)
        except Exception as exc:
            return defer.fail(exc)

    def originate(
        self,
        dial_string: str,
        app: str | None = None,
        variables: Mapping[str, object] | None = None,
        timeout: int | None = None,
        origination_uuid: str | None = None,
    ) -> defer.Deferred:
        """Dial out (``bgapi originate``); fires with the new channel's uuid.

        ``app`` is ``None`` (park), an application (``"&playback(x)"``) or an
        extension (``"1000 XML default"``). A uuid is chosen here unless given,
        so the caller can correlate events before the result arrives. Failure
        causes fail with ApiError (``-ERR USER_BUSY``, ``-ERR NO_ANSWER``).
        """
        chosen = origination_uuid or str(uuidlib.uuid4())
        try:
            command = originate_command(dial_string, app, variables, timeout, chosen)
        except ValueError as exc:
            return defer.fail(exc)
        job_wait = None if self._command_timeout is None else (timeout or 60) + self._command_timeout
        d = self.bgapi(command, timeout=job_wait)

        def _uuid(text: str) -> str:
            reply = text.strip()
            if not reply.startswith("+OK"):
                raise ApiError(command, reply)
            return reply[3:].strip() or chosen

        return d.addCallback(_uuid)

    def _uuid_api(self, command: str, *args: str) -> defer.Deferred:
        try:
            words = [_check_arg(args[0], "uuid"), *args[1:]]
            line = " ".join([command, *words])
            if "\n" in line or "\r" in line:
                raise ValueError("API arguments cannot contain line breaks")
        except ValueError as exc:
            return defer.fail(exc)
        return self.api(line)

    def uuid_bridge(self, uuid: str, other_uuid: str) -> defer.Deferred:
        """Bridge two live channels; fires with the other leg's uuid."""
        return self._uuid_api("uuid_bridge", uuid, _check_arg(other_uuid, "uuid")).addCallback(
            lambda text: text.strip()[3:].strip() if text.startswith("+OK") else text.strip()
        )

    def uuid_transfer(self, uuid: str, destination: str, dialplan: str | None = None,
                      context: str | None = None, leg: str | None = None) -> defer.Deferred:
        """Transfer to an extension; ``leg`` is ``"-bleg"`` or ``"-both"``."""
        args = ([leg] if leg else []) + [destination] + [a for a in (dialplan, context) if a]
        return self._uuid_api("uuid_transfer", uuid, *args)

    def uuid_kill(self, uuid: str, cause: str | None = None) -> defer.Deferred:
        """Hang up a channel (``-ERR No such channel!`` fails with ApiError)."""
        return self._uuid_api("uuid_kill", uuid, *([cause] if cause else []))

    def uuid_broadcast(self, uuid: str, path: str, leg: str = "aleg") -> defer.Deferred:
        """Play ``path`` to ``aleg``, ``bleg`` or ``both`` of a live channel."""
        return self._uuid_api("uuid_broadcast", uuid, path, leg)

    def uuid_break(self, uuid: str, all_queued: bool = False) -> defer.Deferred:
        """Stop the current playback (``all`` also drops queued ones)."""
        return self._uuid_api("uuid_break", uuid, *(["all"] if all_queued else []))

    def uuid_setvar(self, uuid: str, name: str, value: str | None = None) -> defer.Deferred:
        """Set a channel variable; ``value=None`` unsets it."""
        return self._uuid_api("uuid_setvar", uuid, _check_arg(name, "variable"), *([] if value is None else [value]))

    def uuid_getvar(self, uuid: str, name: str) -> defer.Deferred:
        """A channel variable's value, or None when unset (FreeSWITCH says ``_undef_``)."""
        return self._uuid_api("uuid_getvar", uuid, _check_arg(name, "variable")).addCallback(
            lambda text: None if text == "_undef_" else text
        )

    def uuid_exists(self, uuid: str) -> defer.Deferred:
        """True when the channel is alive."""
        return self._uuid_api("uuid_exists", uuid).addCallback(lambda text: text.strip() == "true")

    def uuid_record(self, uuid: str, action: str, path: str, limit: int | None = None) -> defer.Deferred:
        """``uuid_record <uuid> start|stop|mask|unmask <path> [<limit>]``."""
        if action not in ("start", "stop", "mask", "unmask"):
            return defer.fail(ValueError(f"bad uuid_record action {action!r}"))
        return self._uuid_api("uuid_record", uuid, action, path, *([str(int(limit))] if limit else []))

    def uuid_send_dtmf(self, uuid: str, digits: str, duration_ms: int | None = None) -> defer.Deferred:
        """Send DTMF to the far end of a channel."""
        arg = _check_arg(digits, "digits") + (f"@{int(duration_ms)}" if duration_ms else "")
        return self._uuid_api("uuid_send_dtmf", uuid, arg)

    def hupall(self, cause: str = "NORMAL_CLEARING", variable: str | None = None,
               value: str | None = None) -> defer.Deferred:
        """Hang up every channel (optionally those with ``variable == value``)."""
        args = [_check_arg(cause, "cause")]
        if variable is not None:
            args += [_check_arg(variable, "variable"), _check_arg(value or "", "value")]
        return self.api("hupall " + " ".join(args))

    def status(self) -> defer.Deferred:
        """The ``status`` text (uptime, sessions)."""
        return self.api("status")

    def show_channels(self) -> defer.Deferred:
        """Live channels as :class:`ChannelRow` objects."""
        return self.api("show channels as json").addCallback(parse_show_channels)


__all__ = ["ChannelRow", "ConnectionLost", "Switch"]
