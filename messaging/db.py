"""The one road from messaging to the database: a gateway that runs ``work(session, ...)`` off the reactor.

Messaging does not own a thread pool or sessions; it is handed the engine's
database gateway (``hotline.db_gateway.ThreadPoolGateway``: one transaction per
call on a bounded pool) typed against this Protocol, so it can be re-pointed
at whatever gateway the engine converges on.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

from twisted.internet import defer


class DbRunner(Protocol):
    """Runs ``work(session, *args, **kwargs)`` in one transaction on a pool thread; a Deferred of its result."""

    def run(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> defer.Deferred:
        ...
