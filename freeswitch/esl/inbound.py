"""The protocol of one inbound ESL connection (client side of ``127.0.0.1:8021``).

Adds the login handshake to :class:`EslProtocol`: wait for ``auth/request``,
answer ``auth <password>`` (never logged), report an ACL rude-rejection with
the switch's own text, and tell its owner when the connection is gone.
"""

from __future__ import annotations

from typing import Any, Callable

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure

from freeswitch.esl.errors import CommandTimeout, ConnectionLost
from freeswitch.esl.frames import Frame
from freeswitch.esl.protocol import EslProtocol, log


class InboundProtocol(EslProtocol):
    """Inbound connection: login handshake plus the lifecycle hooks :class:`Switch` needs."""

    def __init__(self, clock: IReactorTime | None = None, timeout: float | None = 30.0) -> None:
        super().__init__(clock=clock, timeout=timeout)
        self._auth_request: defer.Deferred = defer.Deferred()
        self._rejection: str | None = None
        #: Set once login and subscriptions succeeded (see :mod:`freeswitch.esl.gate`).
        self.ready_confirmed = False
        self.on_lost: Callable[["InboundProtocol"], Any] | None = None

    def auth_requested(self) -> None:
        if not self._auth_request.called:
            self._auth_request.callback(None)

    def rude_rejection_received(self, frame: Frame) -> None:
        self._rejection = frame.text.strip()
        log.error("FreeSWITCH refused this client (ACL): %s", self._rejection)

    def disconnect_notice_received(self, frame: Frame) -> None:
        log.info("FreeSWITCH disconnect notice: %s", frame.text.strip() or frame.header("Content-Disposition"))

    def wait_auth_request(self, timeout: float | None = None) -> defer.Deferred:
        """Fires when the switch sends ``auth/request``; fails if it never does."""
        d = self._auth_request
        if timeout is not None and self.clock is not None and not d.called:
            timer = self.clock.callLater(
                timeout,
                lambda: d.called or d.errback(Failure(CommandTimeout(f"no auth/request within {timeout}s"))),
            )

            def _cancel(result: object) -> object:
                if timer.active():
                    timer.cancel()
                return result

            d.addBoth(_cancel)
        return d

    def authenticate(self, password: str) -> defer.Deferred:
        """``auth <password>``; fails with AuthenticationError on ``-ERR invalid``."""
        return self.send_command(f"auth {password}", label="auth ********")

    def drop(self) -> None:
        """Abort the connection (after a failed login or setup)."""
        if self.transport is not None and not self.closed:
            self.transport.abortConnection()

    def peer_text(self) -> str:
        return self._peer()

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        super().connectionLost(reason)
        if not self._auth_request.called:
            why = f"rejected: {self._rejection}" if self._rejection else "closed before auth/request"
            self._auth_request.errback(Failure(ConnectionLost(f"FreeSWITCH {why}")))
        if self.on_lost is not None:
            self.on_lost(self)
