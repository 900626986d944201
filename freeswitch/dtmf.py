"""DTMF digits of one call as a stream: push handlers and a pull queue.

IVR code wants both styles: a menu waits for "the next key" with a timeout
(``next_dtmf``), a barge-in detector or the agent desk wants every key as it
comes (``on_dtmf``). FreeSWITCH reports each digit as a ``DTMF`` event on the
outbound socket whether or not an application is collecting it, so the
buffer is bounded and can be flushed (digits typed into ``play_and_get_digits``
are reported too).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import Callable

from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall, IReactorTime

from freeswitch.esl.events import Event

log = logging.getLogger(__name__)

#: Digits kept for ``next_dtmf`` before the oldest is dropped.
MAX_BUFFERED_DIGITS = 32


@dataclass(frozen=True, slots=True)
class Dtmf:
    """One key press: ``digit`` (0-9 * # A-D), ``duration`` in RTP timestamp units, ``source`` (RTP, INBAND_AUDIO, APP...)."""

    digit: str
    duration: int
    source: str

    @classmethod
    def from_event(cls, event: Event) -> "Dtmf":
        """Build from a decoded ``DTMF`` event (``DTMF-Digit`` arrives URL-encoded, ``%23`` for ``#``)."""
        try:
            duration = int(event.get("DTMF-Duration", "0"))
        except ValueError:
            duration = 0
        return cls(event.get("DTMF-Digit", ""), duration, event.get("DTMF-Source", ""))


DtmfHandler = Callable[[Dtmf], object]


class DtmfStream:
    """Fan-out of DTMF digits to handlers, plus a bounded queue for ``next()``."""

    def __init__(self, clock: IReactorTime | None, max_buffered: int = MAX_BUFFERED_DIGITS) -> None:
        self._clock = clock
        self._handlers: list[DtmfHandler] = []
        self._buffer: deque[Dtmf] = deque(maxlen=max_buffered)
        self._waiters: deque[tuple[defer.Deferred, IDelayedCall | None]] = deque()

    def subscribe(self, handler: DtmfHandler) -> Callable[[], None]:
        """Call ``handler(dtmf)`` for every digit; returns a function that unsubscribes."""
        self._handlers.append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)

        return unsubscribe

    def push(self, dtmf: Dtmf) -> None:
        """A digit arrived: wake the oldest waiter or buffer it, then tell every handler."""
        if self._waiters:
            deferred, timer = self._waiters.popleft()
            if timer is not None and timer.active():
                timer.cancel()
            deferred.callback(dtmf)
        else:
            self._buffer.append(dtmf)
        for handler in list(self._handlers):
            try:
                handler(dtmf)
            except Exception:  # one bad listener must not starve the others
                log.exception("DTMF handler %r failed", handler)

    def next(self, timeout: float | None = None) -> defer.Deferred:
        """Deferred of the next buffered or future digit; fires with ``None`` after ``timeout`` seconds."""
        if self._buffer:
            return defer.succeed(self._buffer.popleft())
        deferred: defer.Deferred = defer.Deferred(self._cancel_waiter)
        timer = None
        if timeout is not None:
            if self._clock is None:
                raise ValueError("next_dtmf(timeout=...) needs a clock")
            timer = self._clock.callLater(timeout, self._timed_out, deferred)
        self._waiters.append((deferred, timer))
        return deferred

    def flush(self) -> list[Dtmf]:
        """Drop and return the buffered digits (e.g. type-ahead from an earlier prompt)."""
        digits = list(self._buffer)
        self._buffer.clear()
        return digits

    def fail_waiters(self, error: Exception) -> None:
        """Fail everyone waiting in ``next()`` (the call hung up)."""
        waiters, self._waiters = self._waiters, deque()
        for deferred, timer in waiters:
            if timer is not None and timer.active():
                timer.cancel()
            deferred.errback(error)

    def _timed_out(self, deferred: defer.Deferred) -> None:
        for item in self._waiters:
            if item[0] is deferred:
                self._waiters.remove(item)
                deferred.callback(None)
                return

    def _cancel_waiter(self, deferred: defer.Deferred) -> None:
        for item in self._waiters:
            if item[0] is deferred:
                self._waiters.remove(item)
                if item[1] is not None and item[1].active():
                    item[1].cancel()
                return
