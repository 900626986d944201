"""The one way IVR, ACD and the call recorder run database work off the reactor: the ``DbGateway`` protocol.

``crm_core`` services are blocking functions that take a session. Code on the
reactor thread never calls them directly; it hands them to a gateway, which
runs each in one transaction on a bounded thread pool and gives back an
awaitable (a Twisted ``Deferred`` in the engine) of the result. The engine's
implementation is ``hotline.db_gateway.ThreadPoolGateway``; tests and
command-line tools may use ``hotline.db_gateway.InlineGateway`` (the same
calls, run at once on one session).

The protocol lives here, beside the services it runs, because every package
that uses it (``ivr``, ``acd``, ``messaging``) may import ``crm_core`` but not
each other; it names no Twisted type, so ``crm_core`` stays free of Twisted.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, Sequence, TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")
Item = TypeVar("Item")

#: ``writer(session, items) -> one result per item``: writes several queued items in one go (one transaction).
BatchWriter = Callable[[Session, Sequence[Any]], Sequence[Any]]


class DbGateway(Protocol):
    """Runs blocking database work off the reactor; every method returns an awaitable (Deferred) of the result."""

    def run(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> Any:
        """``work(session, *args, **kwargs)`` in one transaction on a pool thread; awaitable of its result."""

    def write_batched(self, writer: BatchWriter, item: Any) -> Any:
        """Queue ``item`` for ``writer``; items queued within the batch window share one transaction.

        Items of every writer queued in the same window are written together; each
        writer gets all its items of the window as one list, in the order they were
        queued (writers must not depend on each other's rows within a window). The
        awaitable fires with the writer's result for this item once committed. A
        batch that fails is written again item by item, so one bad item never
        loses the others and each caller sees its own item's failure.
        """

    def stop(self) -> None:
        """Write what is still queued, then refuse new work (it fails with a clear error)."""
