"""An endpoint wrapper that lets ``ClientService`` survive connections lost during setup.

``ClientService`` (Twisted 26.10) has no state transition for a connection
that closes while ``prepareConnection`` is running or after it failed: the
close raises automat's ``NoTransition`` out of ``connectionLost``. FreeSWITCH
does exactly that after ``-ERR invalid`` (and after an ACL rejection or the
~25 s idle timeout). The gate hands ``ClientService``'s protocol proxy the
``connectionLost`` only for connections whose setup succeeded
(``ready_confirmed``); a connection lost earlier is reported to our protocol
alone, which fails the setup Deferred, and ``ClientService`` counts it as a
failed attempt with backoff, as documented. A connection the client closes
itself after ``stopService`` reaches our protocol, and ``ClientService``'s
complaint that it is already stopped is dropped.
"""

from __future__ import annotations

from typing import Any, Callable

from automat import NoTransition
from twisted.internet import defer
from twisted.internet.interfaces import IProtocol, IProtocolFactory, IStreamClientEndpoint
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure
from zope.interface import implementer


class _Gate(Protocol):
    def __init__(self, proxy: IProtocol, inner: Any) -> None:
        self.proxy = proxy
        self.inner = inner

    def makeConnection(self, transport: Any) -> None:
        self.transport = transport
        self.connected = 1
        self.proxy.makeConnection(transport)

    def dataReceived(self, data: bytes) -> None:
        self.proxy.dataReceived(data)

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        self.connected = 0
        if getattr(self.inner, "ready_confirmed", False):
            try:
                self.proxy.connectionLost(reason)  # our protocol first, then ClientService's bookkeeping
            except NoTransition:
                pass  # ClientService already stopped (the client closed this connection itself on stop)
        else:
            self.inner.connectionLost(reason)


@implementer(IProtocolFactory)
class _GateFactory:
    def __init__(self, factory: IProtocolFactory, current: Callable[[], Any]) -> None:
        self._factory = factory
        self._current = current

    def doStart(self) -> None:
        self._factory.doStart()

    def doStop(self) -> None:
        self._factory.doStop()

    def buildProtocol(self, addr: Any) -> _Gate | None:
        proxy = self._factory.buildProtocol(addr)
        if proxy is None:
            return None
        return _Gate(proxy, self._current())


@implementer(IStreamClientEndpoint)
class GatedEndpoint:
    """Wraps an endpoint; ``current()`` returns the protocol just built for a connection."""

    def __init__(self, endpoint: IStreamClientEndpoint, current: Callable[[], Any]) -> None:
        self._endpoint = endpoint
        self._current = current

    def connect(self, factory: IProtocolFactory) -> defer.Deferred:
        d = self._endpoint.connect(_GateFactory(factory, self._current))
        return d.addCallback(lambda gate: gate.proxy)
