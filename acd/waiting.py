"""While a caller waits in line: the max-wait overflow and the periodic position / expected-wait announcements.

:class:`WaitingTimers` owns two clock timers per waiting caller
(``caller.timers["max_wait"]``, ``caller.timers["announce"]``). It arms them
whenever the lifecycle says a caller entered a line (``on_line``); they stop
with the caller (``WaitingCaller.cancel_timers``). When the longest wait is
reached it asks the lifecycle to overflow the caller (never while an agent
rings it); at each announcement it first lets the ``on_tick`` listeners look
at the caller (the callback offer), then says the position and expected wait
in the caller's language (the ``announcer``).
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Sequence

from acd.lifecycle import CallerLifecycle
from acd.queues import QueueConfig, WaitingCaller
from acd.staffing import Staffing

log = logging.getLogger("acd.engine")

#: ``announcer(caller, position, expected_wait) -> media to play`` (the files of the announcement prompt).
Announcer = Callable[[WaitingCaller, int, "float | None"], Any]


class WaitingTimers:
    """Max-wait and announcement timers of every waiting caller."""

    def __init__(self, clock: Any, lifecycle: CallerLifecycle, staffing: Staffing,
                 announcer: Announcer | None = None) -> None:
        self.clock = clock
        self.lifecycle = lifecycle
        self.staffing = staffing
        self.announcer = announcer
        self._tick: list[Callable[[WaitingCaller], Any]] = []
        lifecycle.on_line(self.arm)

    def on_tick(self, listener: Callable[[WaitingCaller], Any]) -> None:
        """Call ``listener(caller)`` at each announcement time, before the announcement (the callback offer)."""
        self._tick.append(listener)

    def arm(self, caller: WaitingCaller, config: QueueConfig) -> None:
        """(Re)start the caller's timers under ``config`` (max wait counted from its entry into this queue)."""
        caller.cancel_timer("max_wait")
        if config.max_wait is not None and config.overflow is not None and caller.callback is None:
            delay = max(0.0, caller.queued_at + config.max_wait - self.clock.seconds())
            caller.timers["max_wait"] = self.clock.callLater(delay, self._max_wait_reached, caller)
        self._arm_announcement(caller, config)

    def _arm_announcement(self, caller: WaitingCaller, config: QueueConfig) -> None:
        caller.cancel_timer("announce")
        if config.announce_every and caller.callback is None:
            caller.timers["announce"] = self.clock.callLater(config.announce_every, self._announce, caller)

    def _max_wait_reached(self, caller: WaitingCaller) -> None:
        caller.timers.pop("max_wait", None)
        if caller.done or caller.answered_at is not None:
            return
        if caller.offering is not None:  # let the ring finish; check again right after
            caller.timers["max_wait"] = self.clock.callLater(1.0, self._max_wait_reached, caller)
            return
        self.lifecycle.overflow(caller, "max wait")

    def _announce(self, caller: WaitingCaller) -> None:
        caller.timers.pop("announce", None)
        if caller.done or caller.answered_at is not None:
            return
        for listener in list(self._tick):
            try:
                listener(caller)
            except Exception:
                log.exception("call %s: waiting listener failed", caller.uuid)
        if caller.done:
            return
        cq = self.lifecycle.queues[caller.queue]
        if caller.offering is None and self.announcer is not None:  # never talk over a ringing agent
            position = cq.position(caller)
            self.say(caller, position, self.staffing.expected_wait(caller.queue, position))
        self._arm_announcement(caller, cq.config)

    def say(self, caller: WaitingCaller, position: int, expected_wait: float | None) -> None:
        """Announce position and expected wait to ``caller`` (the announcer may answer with a Deferred)."""
        from twisted.internet import defer

        d = defer.maybeDeferred(self.announcer, caller, position, expected_wait)  # type: ignore[misc]

        def play(files: Sequence[str]) -> None:
            if files and not caller.done and caller.answered_at is None and caller.offering is None:
                caller.leg.announce(list(files))

        d.addCallback(play)
        d.addErrback(lambda f: log.warning("call %s: announcement failed: %s", caller.uuid, f.getErrorMessage()))
