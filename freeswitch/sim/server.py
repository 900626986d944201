"""The inbound event socket (127.0.0.1:8021): auth, then commands, as mod_event_socket.

Differences from an outbound session: ``auth/request`` greets the client, any
command before ``auth`` gets ``-ERR command not found`` (the connection stays),
a wrong password gets ``-ERR invalid`` and the goodbye, a silent client is
dropped after ``idle_timeout`` seconds, and ``myevents <uuid>`` binds the
connection to a channel so it closes (or lingers) when that channel hangs up.
"""

from __future__ import annotations

from typing import Any, Callable

from twisted.internet.protocol import Factory

from freeswitch.esl.frames import Frame
from freeswitch.sim.connection import EslConnection
from freeswitch.sim.core import SimCore
from freeswitch.esl.frames import encode_frame


class InboundConnection(EslConnection):
    """A client connected to the simulator's event socket."""

    def __init__(self, core: SimCore, password: str, idle_timeout: float,
                 allowed: "Callable[[str], bool] | None" = None) -> None:
        super().__init__(core)
        self.allowed_peer = allowed
        self.password = password
        self.idle_timeout = idle_timeout
        self._idle: Any = None

    def connectionMade(self) -> None:
        peer = getattr(self.transport.getPeer(), "host", "127.0.0.1")
        if self.allowed_peer is not None and not self.allowed_peer(peer):
            # the ACL refusal of inbound/00: rude-rejection, then the goodbye; no auth/request
            text = "Access Denied, go away.\n"
            self.write(encode_frame([("Content-Type", "text/rude-rejection"),
                                     ("Content-Length", str(len(text)))], text))
            self.goodbye()
            return
        super().connectionMade()
        self.write(encode_frame([("Content-Type", "auth/request")]))
        if self.idle_timeout > 0:
            self._idle = self.core.clock.callLater(self.idle_timeout, self._idle_expired)

    def connectionLost(self, reason: Any = None) -> None:
        self._cancel_idle()
        super().connectionLost(reason)
        channel = self.core.channels.get(self.session_uuid or "")
        if channel is not None:
            channel.unbind(self)

    def _cancel_idle(self) -> None:
        if self._idle is not None and self._idle.active():
            self._idle.cancel()
        self._idle = None

    def _idle_expired(self) -> None:
        self._idle = None
        if not self.authenticated and not self.closed:
            self.goodbye()

    def cmd_auth(self, rest: str, frame: Frame) -> None:
        if rest == self.password:  # everything after "auth ", spaces included, as FreeSWITCH compares
            self.authenticated = True
            self._cancel_idle()
            self.reply("+OK accepted")
        else:
            self.reply("-ERR invalid")
            self.goodbye()
        return None

    def cmd_userauth(self, rest: str, frame: Frame) -> None:
        self.reply("-ERR invalid")
        self.goodbye()
        return None


class InboundFactory(Factory):
    """Builds one :class:`InboundConnection` per client."""

    def __init__(self, core: SimCore, password: str = "ClueCon", idle_timeout: float = 25.0,
                 allowed: "Callable[[str], bool] | None" = None) -> None:
        self.core = core
        self.allowed = allowed  # ACL: peer host -> allowed? (None: everyone)
        self.password = password
        self.idle_timeout = idle_timeout
        self.connections: list[InboundConnection] = []

    def buildProtocol(self, addr: Any) -> InboundConnection:
        conn = InboundConnection(self.core, self.password, self.idle_timeout, self.allowed)
        conn.factory = self
        return conn
