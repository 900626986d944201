"""The engine's database gateway: crm_core work on a bounded thread pool, one transaction each, group commit.

:class:`ThreadPoolGateway` implements :class:`crm_core.gateway.DbGateway`. It
is built once by the composition root and shared by the IVR (``CrmGateway``),
the ACD (its record adapters) and the call recorder, so the whole engine has
one pool of database threads (``db.pool_size``) and one way of keeping
blocking work off the reactor (ARCHITECTURE boundary 1: a slow database
delays only the calls waiting on it, never another call's DTMF).

Group commit (:meth:`ThreadPoolGateway.write_batched`): writes nobody waits
for before going on -- the IVR's interaction rows, the recorder's CDR
updates -- are queued for ``batch_window`` seconds (50 ms) and written
together in one transaction; each writer gets all its items of the window as
one list, in the order they were queued (one multi-row INSERT, one
executemany UPDATE), whatever other writers queued in between. A busy engine
therefore pays one transaction per window instead of one per row. Batches run
one after another, so each writer's items are written in queue order; writers
are independent of each other (different tables, no foreign key between
their rows), so the order between two writers' items does not matter.

:class:`InlineGateway` runs the same calls at once on one session: tests
inside a rolled-back transaction and command-line tools, never the live
reactor.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Sequence

from sqlalchemy.orm import Session, sessionmaker
from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from crm_core.db import transaction
from crm_core.gateway import BatchWriter

log = logging.getLogger(__name__)

#: Seconds a batched write waits for others to share its transaction.
BATCH_WINDOW = 0.05


class GatewayStopped(RuntimeError):
    """Work arrived after the gateway stopped (the engine is shutting down)."""


class ThreadPoolGateway:
    """``DbGateway`` on a bounded ``ThreadPool``; Deferreds fire on the reactor thread."""

    def __init__(self, sessions: sessionmaker[Session], reactor: Any = None, max_threads: int = 8,
                 name: str = "hotline-db", batch_window: float = BATCH_WINDOW) -> None:
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor
        self.sessions = sessions
        self.reactor = reactor
        self.batch_window = batch_window
        self._pool = ThreadPool(minthreads=0, maxthreads=max_threads, name=name)
        self._started = False
        self._stopped = False
        self._pending: list[tuple[BatchWriter, Any, defer.Deferred]] = []
        self._busy = False  # a batch is being written (or waiting out its window)
        self._timer: IDelayedCall | None = None

    # -- life ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the pool (stopped again at reactor shutdown)."""
        if not self._started and not self._stopped:
            self._pool.start()
            self._started = True
            self.reactor.addSystemEventTrigger("during", "shutdown", self.stop)

    def stop(self) -> None:
        """Write the batch still waiting out its window, then stop the pool for good; later work fails cleanly."""
        if self._started:
            if self._timer is not None and self._timer.active():
                self._timer.cancel()
                self._write_batch()  # queued before the pool stops, and the pool finishes its queue
            self._started = False
            self._pool.stop()
        self._stopped = True

    @property
    def stopped(self) -> bool:
        return self._stopped

    # -- one unit of work -----------------------------------------------------------------

    def run(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> defer.Deferred:
        """``work(session, *args, **kwargs)`` in one transaction on a pool thread."""
        if self._stopped:
            return defer.fail(GatewayStopped(f"database gateway stopped; {getattr(work, '__name__', 'work')} not run"))
        self.start()

        def in_transaction() -> Any:
            with transaction(self.sessions) as session:
                return work(session, *args, **kwargs)

        return deferToThreadPool(self.reactor, self._pool, in_transaction)

    # -- group commit ------------------------------------------------------------------------

    def write_batched(self, writer: BatchWriter, item: Any) -> defer.Deferred:
        """Queue ``item`` for ``writer``; Deferred of the writer's result for it, fired once committed."""
        waiter: defer.Deferred = defer.Deferred()
        if self._stopped:
            waiter.errback(GatewayStopped("database gateway stopped; batched write not run"))
            return waiter
        self._pending.append((writer, item, waiter))
        if not self._busy:
            self._busy = True
            self._timer = self.reactor.callLater(self.batch_window, self._write_batch)
        return waiter

    def _write_batch(self) -> None:
        self._timer = None
        batch, self._pending = self._pending, []
        if not batch:
            self._busy = False
            return
        groups = batch_groups(batch)
        in_groups = [batch[i] for _writer, indices in groups for i in indices]  # the order results come back in
        d = self.run(write_groups, [(writer, [batch[i][1] for i in indices]) for writer, indices in groups])
        d.addCallbacks(lambda results: _deliver(in_groups, results), lambda failure: self._one_by_one(batch, failure))
        d.addErrback(lambda f: log.error("batched write: %s", f.getErrorMessage()))
        d.addBoth(lambda _: self._batch_done())

    def _one_by_one(self, batch: list[tuple[BatchWriter, Any, defer.Deferred]], failure: Any) -> defer.Deferred:
        if len(batch) == 1:
            batch[0][2].errback(failure)
            return defer.succeed(None)
        log.warning("batch of %d writes failed (%s); writing them one by one", len(batch), failure.getErrorMessage())
        chain: defer.Deferred = defer.succeed(None)
        for writer, item, waiter in batch:  # in order, one after the other

            def single(_: Any, writer: BatchWriter = writer, item: Any = item,
                       waiter: defer.Deferred = waiter) -> defer.Deferred:
                d = self.run(lambda session: writer(session, [item])[0])
                return d.addCallbacks(waiter.callback, waiter.errback)

            chain.addCallback(single)
        return chain

    def _batch_done(self) -> None:
        """Writes queued while a batch was written wait out a window too (else a busy engine writes 1-row batches)."""
        if self._pending and not self._stopped:
            self._timer = self.reactor.callLater(self.batch_window, self._write_batch)
        elif self._pending:
            self._write_batch()
        else:
            self._busy = False


def batch_groups(batch: Sequence[tuple[BatchWriter, Any, Any]]) -> list[tuple[BatchWriter, list[int]]]:
    """The batch's positions per writer, writers in the order they first appear, each writer's in queue order."""
    groups: dict[BatchWriter, list[int]] = {}
    for index, (writer, _item, _waiter) in enumerate(batch):
        groups.setdefault(writer, []).append(index)
    return list(groups.items())


def write_groups(session: Session, groups: Sequence[tuple[BatchWriter, Sequence[Any]]]) -> list[Any]:
    """Run each writer on its items (one transaction); every item's result, in queue order."""
    results: list[Any] = []
    for writer, items in groups:
        out = list(writer(session, items))
        if len(out) != len(items):
            raise RuntimeError(f"{getattr(writer, '__name__', writer)} returned {len(out)} results for {len(items)}")
        results += out
    return results


def _deliver(batch: Sequence[tuple[BatchWriter, Any, defer.Deferred]], results: Sequence[Any]) -> None:
    for (_writer, _item, waiter), result in zip(batch, results):
        waiter.callback(result)


class InlineGateway:
    """``DbGateway`` that runs work at once on one session (flushes); for tests and tools, never the live reactor."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def run(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> defer.Deferred:
        try:
            result = work(self.session, *args, **kwargs)
            self.session.flush()
            return defer.succeed(result)
        except Exception:
            return defer.fail()

    def write_batched(self, writer: BatchWriter, item: Any) -> defer.Deferred:
        return self.run(lambda session: writer(session, [item])[0])

    def stop(self) -> None:
        """Nothing to stop."""
