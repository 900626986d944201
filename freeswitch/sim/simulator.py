"""The simulator as one object: event socket server, dialplan, phones, callers.

Used by the test suite (``Simulator(clock=Clock())`` or the real reactor), by
``hotline sim`` and by ``hotline run`` in demo mode. Port 0 is allowed; the
bound port is returned by :meth:`Simulator.start`.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable

from twisted.internet.interfaces import IReactorTime

from freeswitch.sim import apps as _apps  # noqa: F401  (registers the applications)
from freeswitch.sim import control as _control  # noqa: F401  (registers "api sim ...")
from freeswitch.sim.callers import SimulatedCall, place_call
from freeswitch.sim.core import SimCore
from freeswitch.sim.dialplan import Dialplan
from freeswitch.sim.phones import Directory
from freeswitch.sim.server import InboundFactory
from freeswitch.sim.session import OutboundFactory

MAX_KEPT_CALLS = 500


class Simulator:
    """A simulated FreeSWITCH 1.11 box."""

    def __init__(self, reactor: Any = None, *, clock: IReactorTime | None = None, host: str = "127.0.0.1",
                 port: int = 8021, password: str = "ClueCon", socket_host: str = "127.0.0.1",
                 socket_port: int = 8084, sounds_dir: str | Path = "var/sim/sounds",
                 recordings_dir: str | Path = "var/sim/recordings", idle_timeout: float = 25.0,
                 heartbeat_interval: float = 20.0,
                 connector: Callable[[str, int, Any], Any] | None = None) -> None:
        if reactor is None and clock is None:
            from twisted.internet import reactor as default_reactor
            reactor = default_reactor
        self.reactor = reactor
        self.clock = clock or reactor
        self.host, self.port, self.password = host, port, password
        self.core = SimCore(self.clock, sounds_dir=sounds_dir, recordings_dir=recordings_dir,
                            socket_target=(socket_host, socket_port), heartbeat_interval=heartbeat_interval)
        self.directory = Directory()
        self.dialplan = Dialplan(self.core)
        self.calls: OrderedDict[str, SimulatedCall] = OrderedDict()
        self.factory = InboundFactory(self.core, password, idle_timeout)
        self.core.extensions.update({"directory": self.directory, "dialplan": self.dialplan,
                                     "simulator": self, "reactor": _Connector(reactor, connector),
                                     "outbound_socket": OutboundFactory})
        self._listening: Any = None

    def start(self) -> int:
        """Listen on the event socket (if a reactor was given) and start the heartbeat; the bound port."""
        self.core.start()
        if self.reactor is not None and self._listening is None:
            self._listening = self.reactor.listenTCP(self.port, self.factory, interface=self.host)
            self.port = self._listening.getHost().port
        return self.port

    def stop(self) -> Any:
        """Stop listening, drop every connection and call; a Deferred when listening."""
        self.core.stop()
        for ch in list(self.core.channels.values()):
            ch.hangup("SYSTEM_SHUTDOWN")
        for sub in list(self.core.subscribers):
            try:
                sub.close()
            except Exception:
                pass
        listening, self._listening = self._listening, None
        return listening.stopListening() if listening is not None else None

    # -- driving -------------------------------------------------------------
    def place_call(self, ani: str, dnis: str, script: str | list[str] = "", **kw: Any) -> SimulatedCall:
        """A simulated caller dials ``dnis``; see :mod:`freeswitch.sim.callers` for the script."""
        call = place_call(self.core, ani, dnis, script, **kw)
        self.calls[call.uuid] = call
        while len(self.calls) > MAX_KEPT_CALLS:
            self.calls.popitem(last=False)
        return call

    def set_target(self, pattern: str, spec: str, **counting: Any) -> None:
        """Where calls to numbers matching ``pattern`` go (host:port, park, app(arg);...); see Dialplan.set_target."""
        self.dialplan.set_target(pattern, spec, **counting)

    @property
    def channels(self) -> dict[str, Any]:
        return self.core.channels


class _Connector:
    """``connectTCP`` for the socket app; tests may inject an in-memory connector."""

    def __init__(self, reactor: Any, connector: Callable[[str, int, Any], Any] | None) -> None:
        self.reactor = reactor
        self.connector = connector

    def connectTCP(self, host: str, port: int, factory: Any, timeout: float = 30) -> Any:
        if self.connector is not None:
            return self.connector(host, port, factory)
        if self.reactor is None:
            factory.clientConnectionFailed(None, "no reactor")
            return None
        return self.reactor.connectTCP(host, port, factory, timeout=timeout)
