"""The outbound side: a channel running ``socket host:port async full`` connects to the engine.

The simulator is the TCP *client* here, but speaks as the switch: it answers
``connect`` with the serialised CHANNEL_DATA header block (no Content-Length,
``Reply-Text: %2BOK%0A``, ``Socket-Mode``/``Control`` last), parks the channel,
and runs ``sendmsg`` apps from its queue. ``getvar`` replies with the raw value.
(``connect``, ``getvar``, ``resume`` live in :class:`~freeswitch.sim.connection.EslConnection`:
an inbound connection bound by ``myevents <uuid>`` has them too.)
"""

from __future__ import annotations

from typing import Any

from twisted.internet.protocol import ClientFactory

from freeswitch.esl.frames import Frame
from freeswitch.sim.connection import EslConnection
from freeswitch.sim.core import SimCore


#: seconds after ``connect`` at which the channel parks if the app sent nothing else
PARK_FALLBACK = 0.02


class OutboundSession(EslConnection):
    """One outbound socket connection, bound to its channel."""

    outbound = True

    def __init__(self, core: SimCore, channel: Any, mode: str = "async", control: str = "full") -> None:
        super().__init__(core)
        self.channel = channel
        self.session_uuid = channel.uuid
        self.authenticated = True
        self.mode = mode
        self.control = control
        self.async_mode = mode == "async"
        self.full_control = control == "full"
        self._connect_seen = False
        self._park_pending: Any = None

    def connectionMade(self) -> None:
        super().connectionMade()
        self.channel.bound.append(self)

    def connectionLost(self, reason: Any = None) -> None:
        super().connectionLost(reason)
        channel = self.channel
        channel.unbind(self)
        app_uuid = getattr(self.factory, "app_uuid", None) if getattr(self, "factory", None) else None
        if channel.up and channel.main_app is not None and channel.main_app[0] == "socket" and \
                app_uuid in (None, channel.main_app[2]):
            # the engine went away: the socket app ends (once the app running inside it returns)
            # and the dialplan goes on after it -- or hangs the call up when nothing follows
            channel.complete_main_app()

    def cmd_connect(self, rest: str, frame: Frame) -> None:
        super().cmd_connect(rest, frame)
        if not self._connect_seen:
            self._connect_seen = True
            # The socket app parks the channel a moment after the handshake; real captures show
            # CHANNEL_PARK right after the app's next command (myevents, linger...). Firing it then,
            # or PARK_FALLBACK later, keeps it visible to an app that subscribes straight away.
            self._park_pending = self.core.clock.callLater(PARK_FALLBACK, self._park)
        return None

    def handle(self, frame: Frame) -> Any:
        result = super().handle(frame)
        pending = self._park_pending
        if pending is not None and pending.active() and not (frame.command or "").lower().startswith("connect"):
            pending.cancel()
            self._park()
        return result

    def _park(self) -> None:
        self._park_pending = None
        if self.channel.up:
            self.channel.fire("CHANNEL_PARK", ("switch_ivr.c", "switch_ivr_park", 1002))


class OutboundFactory(ClientFactory):
    """Connects one channel's socket app to the engine."""

    def __init__(self, core: SimCore, channel: Any, mode: str, control: str) -> None:
        self.core = core
        self.channel = channel
        self.mode = mode
        self.control = control
        self.failed: Any = None
        self.app_uuid: str | None = None  # the socket app this connection belongs to

    def buildProtocol(self, addr: Any) -> OutboundSession:
        session = OutboundSession(self.core, self.channel, self.mode, self.control)
        session.factory = self
        return session

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        if self.failed is not None:
            self.failed(reason)
