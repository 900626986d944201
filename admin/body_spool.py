"""A request body written to a temporary file by a worker thread, never by the reactor thread.

The reactor receives an upload in 64 KiB pieces; writing each to disk on the
reactor thread would hold up every call in progress while the disk is slow.
:class:`BodySpool` queues the pieces and a small dedicated thread pool
writes them, in order, to a temporary file; when more than ``high_water``
bytes wait, the connection is paused (TCP back-pressure) until the writer
catches up. ``finished()`` fires once everything is on disk, and only then
is the request handed on (to the WSGI app, which reads the file in its own
thread).
"""

from __future__ import annotations

import tempfile
from collections import deque
from typing import IO, Any

from twisted.internet import defer
from twisted.internet.threads import deferToThreadPool
from twisted.python.failure import Failure

HIGH_WATER = 1024 * 1024
LOW_WATER = 256 * 1024


class BodySpool:
    """Writes a request body to ``file`` (a new temporary file by default) on ``pool``'s threads."""

    def __init__(self, reactor: Any, pool: Any, producer: Any = None, file: IO[bytes] | None = None,
                 high_water: int = HIGH_WATER, low_water: int = LOW_WATER) -> None:
        self.reactor = reactor
        self.pool = pool
        self.producer = producer
        self.file: IO[bytes] = file if file is not None else tempfile.TemporaryFile()
        self.high_water, self.low_water = high_water, low_water
        self._queue: deque[bytes] = deque()
        self._pending = 0
        self._draining = False
        self._paused = False
        self._waiters: list[defer.Deferred] = []
        self._failure: Failure | None = None

    def write(self, data: bytes) -> None:
        """Queue ``data`` (reactor thread); pauses the producer when too much is waiting."""
        if self._failure is not None:
            return
        self._queue.append(data)
        self._pending += len(data)
        if not self._draining:
            self._start()
        if self._pending > self.high_water and not self._paused and self.producer is not None:
            self._paused = True
            self.producer.pauseProducing()

    def finished(self) -> defer.Deferred:
        """Fires (with the file) once every queued byte is written; errbacks if a write failed."""
        self._resume()  # the body is complete: nothing more to hold back
        d: defer.Deferred = defer.Deferred()
        if self._failure is not None:
            d.errback(self._failure)
        elif not self._draining:
            d.callback(self.file)
        else:
            self._waiters.append(d)
        return d

    def _start(self) -> None:
        self._draining = True
        deferToThreadPool(self.reactor, self.pool, self._drain).addCallbacks(self._drained, self._failed)

    def _drain(self) -> int:
        """Worker thread: write what is queued, in order; the number of bytes written."""
        written = 0
        while True:
            try:
                chunk = self._queue.popleft()
            except IndexError:
                return written
            self.file.write(chunk)
            written += len(chunk)

    def _drained(self, written: int) -> None:
        self._pending -= written
        self._draining = False
        if self._queue:
            self._start()
        if self._pending <= self.low_water:
            self._resume()
        if not self._draining:
            waiters, self._waiters = self._waiters, []
            for d in waiters:
                d.callback(self.file)

    def _failed(self, failure: Failure) -> None:
        self._failure = failure
        self._draining = False
        self._queue.clear()
        self._resume()
        waiters, self._waiters = self._waiters, []
        for d in waiters:
            d.errback(failure)

    def _resume(self) -> None:
        if self._paused and self.producer is not None:
            self._paused = False
            self.producer.resumeProducing()
