"""How Flask views (on WSGI pool threads) reach the engine's services on the reactor thread.

The admin app also runs on its own under a WSGI server, where there is no
engine: views that need one (test call, agent state, live figures) check
:func:`engine_bridge` and say plainly that the engine is not running.
"""

from __future__ import annotations

from typing import Any, Callable

from flask import Flask, current_app
from twisted.internet.threads import blockingCallFromThread

EXTENSION_KEY = "hotline_engine"


class EngineUnavailable(RuntimeError):
    """The admin app is not running inside an engine (or the service is not built)."""


class EngineBridge:
    """Runs engine calls on the reactor thread and waits for their result (Deferreds included)."""

    def __init__(self, reactor: Any, lookup: Callable[[str], Any], hub: Any = None) -> None:
        self.reactor = reactor
        self._lookup = lookup
        self.hub = hub

    def service(self, name: str) -> Any:
        """An engine service by name (``switch``, ``acd``, ``ivr``, ``simulator``)."""
        service = self._lookup(name)
        if service is None:
            raise EngineUnavailable(f"the engine has no {name} service")
        return service

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` on the reactor thread; its (Deferred) result, or its exception, here."""
        return blockingCallFromThread(self.reactor, fn, *args, **kwargs)


def install(app: Flask, bridge: EngineBridge) -> None:
    app.extensions[EXTENSION_KEY] = bridge


def engine_bridge(app: Flask | None = None) -> EngineBridge:
    """The bridge of the running engine; EngineUnavailable when the app runs on its own."""
    bridge = (app or current_app).extensions.get(EXTENSION_KEY)
    if bridge is None:
        raise EngineUnavailable("the admin UI is running without the engine")
    return bridge
