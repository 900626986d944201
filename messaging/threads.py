"""A small named thread pool for one kind of blocking work (SMTP sessions, fax rendering, fax conversion).

Blocking libraries never run on the reactor: each kind of work gets its own
bounded pool, so a slow SMTP relay cannot hold up fax rendering (and neither
takes threads from the database gateway). Started on first use, stopped with
the service; work after ``stop`` fails instead of hanging.
"""

from __future__ import annotations

from typing import Any, Callable

from twisted.internet import defer
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool


class BlockingPool:
    """``run(fn, *args)`` in one of at most ``threads`` threads; a Deferred of the result."""

    def __init__(self, reactor: Any, name: str, threads: int = 2) -> None:
        self.reactor = reactor
        self.pool = ThreadPool(minthreads=0, maxthreads=threads, name=name)
        self._started = False
        self._stopped = False

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> defer.Deferred:
        if self._stopped:
            return defer.fail(RuntimeError(f"{self.pool.name} stopped; {getattr(fn, '__name__', 'work')} not run"))
        if not self._started:
            self.pool.start()
            self._started = True
        return deferToThreadPool(self.reactor, self.pool, fn, *args, **kwargs)

    def stop(self) -> None:
        """Finish the queued work and stop the threads."""
        if self._started:
            self.pool.stop()
            self._started = False
        self._stopped = True
