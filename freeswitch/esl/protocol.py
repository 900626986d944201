"""The Twisted ESL protocol shared by the inbound client and the outbound call server.

Replies to ``api`` and commands come back strictly in the order the commands
were sent, so pending commands wait in a deque; ``bgapi`` results arrive later
as ``BACKGROUND_JOB`` events and are matched by ``Job-UUID``. When the
connection is lost, times out or receives garbage, every pending Deferred
fails loudly. Nothing is ever retried here: an ``originate`` must never dial
twice.
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from collections import deque
from typing import Any, Callable

from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure

from freeswitch.esl.errors import (
    ApiError,
    CommandError,
    CommandTimeout,
    ConnectionLost,
    EslProtocolError,
    command_error,
)
from freeswitch.esl.events import EVENT_CONTENT_TYPES, Event, parse_event
from freeswitch.esl.frames import Frame, FrameParser, encode_command

log = logging.getLogger(__name__)

EventHandler = Callable[[Event], Any]


class _Pending:
    __slots__ = ("command", "deferred", "timer", "kind")

    def __init__(self, command: str, deferred: defer.Deferred, kind: str) -> None:
        self.command = command
        self.deferred = deferred
        self.kind = kind  # "command" | "api"
        self.timer: IDelayedCall | None = None


class EslProtocol(Protocol):
    """One ESL connection: send commands, match replies, dispatch events.

    Subclasses override the ``*_received`` hooks. ``clock`` drives command
    timeouts (``timeout=None`` disables them).
    """

    def __init__(self, clock: IReactorTime | None = None, timeout: float | None = 30.0) -> None:
        self.clock = clock
        self.timeout = timeout
        self._parser = FrameParser()
        self._pending: deque[_Pending] = deque()
        self._jobs: dict[str, defer.Deferred] = {}
        self._event_handlers: list[EventHandler] = []
        self.connected_ok = False
        self.closed = False
        self._broken = False  # garbage seen: ignore bytes until the connection is gone

    # -- connection lifecycle -------------------------------------------------

    def connectionMade(self) -> None:
        self.connected_ok = True
        # Commands are small writes answered by small frames: never let Nagle
        # hold one back behind a delayed ACK (~40 ms per round-trip otherwise).
        set_nodelay = getattr(self.transport, "setTcpNoDelay", None)
        if set_nodelay is not None:
            set_nodelay(True)

    def dataReceived(self, data: bytes) -> None:
        if self._broken:
            return
        try:
            frames = self._parser.feed(data)
        except EslProtocolError as exc:
            self.protocol_violation(exc)
            return
        for frame in frames:
            if self._broken:
                return
            try:
                self.frame_received(frame)
            except EslProtocolError as exc:
                self.protocol_violation(exc)
                return
            except Exception:  # a handler bug must not kill the connection
                log.exception("error handling ESL frame %s", frame.content_type)

    def protocol_violation(self, error: EslProtocolError) -> None:
        """The peer sent garbage: fail everything pending and drop the connection.

        The byte stream cannot be resynchronised, so nothing after this point
        is parsed; pending commands fail with :class:`ConnectionLost` whose
        ``__cause__`` is the :class:`EslProtocolError`.
        """
        log.warning("ESL protocol error from %s: %s", self._peer(), error)
        self._broken = True
        self._fail_all(error)
        if self.transport is not None:
            self.transport.abortConnection()

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        self.closed = True
        self.connected_ok = False
        self._fail_all(ConnectionLost(f"ESL connection lost: {reason.getErrorMessage() if reason else ''}"))

    def _peer(self) -> str:
        try:
            return str(self.transport.getPeer())
        except Exception:
            return "?"

    def _fail_all(self, error: Exception) -> None:
        pending, self._pending = self._pending, deque()
        jobs, self._jobs = self._jobs, {}
        if isinstance(error, EslProtocolError):
            lost = ConnectionLost(f"ESL protocol error: {error}")
            lost.__cause__ = error
            error = lost
        for item in pending:
            if item.timer is not None and item.timer.active():
                item.timer.cancel()
            item.deferred.errback(Failure(error))
        for deferred in jobs.values():
            deferred.errback(Failure(ConnectionLost(str(error))))

    # -- frames -----------------------------------------------------------------

    def frame_received(self, frame: Frame) -> None:
        """Route one frame by its Content-Type."""
        ctype = frame.content_type
        if ctype in EVENT_CONTENT_TYPES:
            event = parse_event(frame)
            if event.name == "BACKGROUND_JOB":
                job = self._jobs.pop(event.get("Job-UUID", ""), None)
                if job is not None:
                    job.callback(event.body or "")
                else:
                    log.debug("BACKGROUND_JOB for unknown job %s", event.get("Job-UUID"))
            self.event_received(event)
        elif ctype == "command/reply" or ctype == "api/response":
            self._reply_received(frame)
        elif ctype == "auth/request":
            self.auth_requested()
        elif ctype == "text/disconnect-notice":
            self.disconnect_notice_received(frame)
        elif ctype == "text/rude-rejection":
            self.rude_rejection_received(frame)
        elif ctype == "log/data":
            self.log_received(frame)
        else:
            log.debug("ignoring ESL frame %r", ctype)

    def _reply_received(self, frame: Frame) -> None:
        if not self._pending:
            log.warning("unexpected ESL reply %r from %s", frame.reply_text or frame.text[:60], self._peer())
            return
        item = self._pending.popleft()
        if item.timer is not None and item.timer.active():
            item.timer.cancel()
        if item.kind == "api":
            text = frame.text
            if text.startswith("-ERR") or text.startswith("-USAGE"):
                item.deferred.errback(Failure(ApiError(item.command, text.strip())))
            else:
                item.deferred.callback(text)
            return
        reply = frame.reply_text
        if reply.startswith("-ERR"):
            item.deferred.errback(Failure(self.error_for(item.command, reply)))
        else:
            item.deferred.callback(frame)

    def error_for(self, command: str, reply: str) -> CommandError:
        """The typed error for a ``-ERR`` reply (subclasses may refine it)."""
        return command_error(command, reply)

    # -- hooks --------------------------------------------------------------

    def event_received(self, event: Event) -> None:
        for handler in list(self._event_handlers):
            try:
                handler(event)
            except Exception:
                log.exception("event handler failed on %r", event)

    def auth_requested(self) -> None:
        """The switch asked for a password (inbound connections)."""

    def disconnect_notice_received(self, frame: Frame) -> None:
        """``text/disconnect-notice``: linger notice or the final goodbye."""

    def rude_rejection_received(self, frame: Frame) -> None:
        log.error("FreeSWITCH refused the connection: %s", frame.text.strip())

    def log_received(self, frame: Frame) -> None:
        log.debug("FS log: %s", frame.text.rstrip())

    def add_event_handler(self, handler: EventHandler) -> None:
        self._event_handlers.append(handler)

    def remove_event_handler(self, handler: EventHandler) -> None:
        if handler in self._event_handlers:
            self._event_handlers.remove(handler)

    # -- commands -------------------------------------------------------------

    def send_command(
        self,
        command: str,
        headers: list[tuple[str, str]] | None = None,
        body: bytes | str | None = None,
        *,
        kind: str = "command",
        label: str | None = None,
    ) -> defer.Deferred:
        """Send a command; the Deferred fires with the reply :class:`Frame` (or api body).

        ``label`` replaces the command text in errors and logs (``auth ****``).
        """
        shown = label or command
        if self.closed or self.transport is None or self._broken:
            return defer.fail(ConnectionLost(f"cannot send {shown!r}: connection closed"))
        try:
            data = encode_command(command, headers, body)
        except ValueError as exc:
            return defer.fail(exc)
        deferred: defer.Deferred = defer.Deferred()
        item = _Pending(shown, deferred, kind)
        if self.timeout is not None and self.clock is not None:
            item.timer = self.clock.callLater(self.timeout, self._timed_out, item)
        self._pending.append(item)
        self.transport.write(data)
        return deferred

    def _timed_out(self, item: _Pending) -> None:
        item.timer = None
        log.error("ESL command %r timed out after %ss; dropping connection", item.command, self.timeout)
        if item in self._pending:
            self._pending.remove(item)
            item.deferred.errback(Failure(CommandTimeout(f"{item.command!r}: no reply in {self.timeout}s")))
        # A late reply would be matched to the next command: resync by reconnecting.
        if self.transport is not None and not self.closed:
            self.transport.abortConnection()

    def api(self, command: str) -> defer.Deferred:
        """``api <command>``; fires with the body text, fails with :class:`ApiError` on ``-ERR``."""
        return self.send_command("api " + command, kind="api")

    def bgapi(self, command: str, job_uuid: str | None = None, timeout: float | None = None) -> defer.Deferred:
        """``bgapi <command>``; fires with the ``BACKGROUND_JOB`` result text.

        The connection must be subscribed to ``BACKGROUND_JOB`` (FreeSWITCH only
        delivers it then). A ``-ERR`` result fails with :class:`ApiError`.
        ``timeout`` (needs ``clock``) bounds the wait for the job's result; it
        fails with :class:`CommandTimeout` but keeps the connection, since job
        results are matched by Job-UUID and cannot desynchronise replies.
        """
        job_uuid = job_uuid or str(uuidlib.uuid4())
        result: defer.Deferred = defer.Deferred()
        self._jobs[job_uuid] = result
        timer: IDelayedCall | None = None
        if timeout is not None and self.clock is not None:

            def _job_timed_out() -> None:
                job = self._jobs.pop(job_uuid, None)
                if job is not None:
                    job.errback(Failure(CommandTimeout(f"bgapi {command!r}: no result in {timeout}s")))

            timer = self.clock.callLater(timeout, _job_timed_out)

            def _cancel_timer(value: object) -> object:
                if timer is not None and timer.active():
                    timer.cancel()
                return value

            result.addBoth(_cancel_timer)
        sent = self.send_command("bgapi " + command, [("Job-UUID", job_uuid)])

        def _sent_failed(failure: Failure) -> None:
            job = self._jobs.pop(job_uuid, None)
            if job is not None:
                job.errback(failure)

        sent.addErrback(_sent_failed)

        def _check(text: str) -> str:
            if text.startswith("-ERR") or text.startswith("-USAGE"):
                raise ApiError(command, text.strip())
            return text

        result.addCallback(_check)
        return result

    def events(self, names: str = "ALL", fmt: str = "plain") -> defer.Deferred:
        return self.send_command(f"event {fmt} {names}")

    def nixevent(self, names: str) -> defer.Deferred:
        return self.send_command(f"nixevent {names}")

    def noevents(self) -> defer.Deferred:
        return self.send_command("noevents")

    def filter(self, header: str, value: str, delete: bool = False) -> defer.Deferred:
        return self.send_command(f"filter {'delete ' if delete else ''}{header} {value}")

    def linger(self, seconds: int | None = None) -> defer.Deferred:
        return self.send_command("linger" if seconds is None else f"linger {seconds}")

    def nolinger(self) -> defer.Deferred:
        return self.send_command("nolinger")

    def exit(self) -> defer.Deferred:
        return self.send_command("exit")

    def sendmsg(
        self,
        uuid: str | None,
        call_command: str,
        headers: list[tuple[str, str]] | None = None,
        body: bytes | str | None = None,
    ) -> defer.Deferred:
        """``sendmsg [uuid]`` with ``call-command`` and extra headers."""
        command = "sendmsg" if not uuid else f"sendmsg {uuid}"
        return self.send_command(command, [("call-command", call_command)] + list(headers or ()), body)

    def execute_message(
        self,
        app: str,
        arg: str | None = None,
        uuid: str | None = None,
        event_lock: bool = True,
        app_uuid: str | None = None,
        loops: int | None = None,
    ) -> tuple[str, defer.Deferred]:
        """``sendmsg`` ``execute``; returns (Application-UUID, Deferred of the +OK reply).

        The Application-UUID (sent as ``Event-UUID``) comes back in the matching
        ``CHANNEL_EXECUTE_COMPLETE``. Arguments longer than a header line goes in a body.
        """
        app_uuid = app_uuid or str(uuidlib.uuid4())
        headers = [("execute-app-name", app)]
        body = None
        if arg is not None:
            if len(arg) > 2048 or "\n" in arg:
                body = arg
                headers.append(("content-type", "text/plain"))
            else:
                headers.append(("execute-app-arg", arg))
        if loops is not None:
            headers.append(("loops", str(loops)))
        if event_lock:
            headers.append(("event-lock", "true"))
        headers.append(("Event-UUID", app_uuid))
        return app_uuid, self.sendmsg(uuid, "execute", headers, body)
