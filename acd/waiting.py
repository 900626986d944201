"""While a caller waits in line: the max-wait overflow and the periodic position / expected-wait announcements.

A part of :class:`acd.engine.Acd` (a mixin, kept apart so the engine module
stays readable): everything here runs from the caller's own clock timers
(``caller.timers["max_wait"]``, ``caller.timers["announce"]``), which
:meth:`~acd.queues.WaitingCaller.cancel_timers` stops when the caller leaves.
Overflow actions: ``widen`` (relax skill levels, stay in line), ``queue``
(move to another queue with the same entry time), ``voicemail`` / ``callback``
(the caller's outcome fires and the IVR takes over).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from acd.queues import QueueConfig, WaitingCaller

if TYPE_CHECKING:
    from acd.engine import Acd

log = logging.getLogger("acd.engine")


class WaitingLine:
    """Timers of a waiting caller; mixed into :class:`acd.engine.Acd` (``self`` is the Acd)."""

    def _arm_max_wait(self: "Acd", caller: WaitingCaller, config: QueueConfig) -> None:
        caller.cancel_timer("max_wait")
        if config.max_wait is None or config.overflow is None or caller.callback is not None:
            return
        delay = max(0.0, caller.queued_at + config.max_wait - self.clock.seconds())
        caller.timers["max_wait"] = self.clock.callLater(delay, self._max_wait_reached, caller)

    def _max_wait_reached(self: "Acd", caller: WaitingCaller) -> None:
        caller.timers.pop("max_wait", None)
        if caller.done or caller.answered_at is not None:
            return
        if caller.offering is not None:  # let the ring finish; check again right after
            caller.timers["max_wait"] = self.clock.callLater(1.0, self._max_wait_reached, caller)
            return
        self._overflow(caller, "max wait")

    def _overflow(self: "Acd", caller: WaitingCaller, why: str, add_first: bool = False) -> None:
        config = self.queues[caller.queue].config
        action = config.overflow
        assert action is not None
        now = self.clock.seconds()
        self.stats.overflowed(caller.queue, now)
        caller.decisions.append({"at": now, "call_uuid": caller.uuid, "queue": caller.queue, "agent_id": None,
                                 "strategy": "overflow", "reason": f"{why}: {action.kind} {action.target or ''}".strip(),
                                 "candidates": 0, "retry_at": None})
        log.info("call %s: %s in %s -> overflow %s %s", caller.uuid, why, caller.queue, action.kind,
                 action.target or action.widen or "")
        if action.kind == "widen":
            caller.overflowed = True
            for skill, level in action.widen.items():
                if level <= 0:
                    caller.skills.pop(skill, None)
                else:
                    caller.skills[skill] = min(level, caller.skills.get(skill, level))
            self.route(caller.queue)
            return
        if action.kind == "queue":
            target = self.queue(action.target or "")
            if not add_first:
                self.queues[caller.queue].remove(caller)
            caller.queue, caller.queued_at = target.config.name, now
            self.stats.offered(caller.queue, now)
            self._cdr(caller, "queued", queue=caller.queue, queue_id=target.config.db_id, overflow_from=config.name)
            if config.max_length is not None and target.config.max_length is not None \
                    and target.waiting_count() >= target.config.max_length:
                self._finish(caller, "full", disposition="queue_full")
                return
            target.add(caller)
            self._keep_place(caller)
            if add_first:
                caller.leg.when_gone().addCallback(lambda cause: self._caller_gone(caller, cause))
                caller.leg.start_hold(target.config.music_on_hold)
            self._arm_max_wait(caller, target.config)
            self._arm_announcements(caller, target.config)
            self.route(caller.queue)
            return
        self._finish(caller, "overflow", overflow=action, disposition=f"overflow_{action.kind}")

    def _arm_announcements(self: "Acd", caller: WaitingCaller, config: QueueConfig) -> None:
        caller.cancel_timer("announce")
        if config.announce_every and caller.callback is None:
            caller.timers["announce"] = self.clock.callLater(config.announce_every, self._announce, caller)

    def _announce(self: "Acd", caller: WaitingCaller) -> None:
        caller.timers.pop("announce", None)
        if caller.done or caller.answered_at is not None:
            return
        self.callbacks.consider(caller)
        if caller.done:
            return
        cq = self.queues[caller.queue]
        if caller.offering is None:  # never talk over a ringing agent
            position = cq.position(caller)
            ewt = self.expected_wait(caller.queue, position)
            try:
                caller.leg.announce(list(self.announcer(position, ewt)))
            except Exception:
                log.exception("call %s: announcement failed", caller.uuid)
        self._arm_announcements(caller, cq.config)
