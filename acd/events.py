"""In-process event bus: the ACD publishes screen pops and state changes; the admin desk streams them (SSE).

Handlers run synchronously on the reactor thread in subscription order; a
failing handler is logged and never stops the others or the publisher.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], Any]

#: Topics the ACD publishes.
SCREEN_POP = "acd.screen_pop"
AGENT_STATE = "acd.agent_state"
QUEUE_CHANGED = "acd.queue_changed"
ROUTE_DECISION = "acd.route_decision"
RECONCILED = "acd.reconciled"
#: Transfers (acd/transfer.py): payload has kind (blind_queue, blind_extension, consult), agent_id, call_uuid, target.
TRANSFER_STARTED = "acd.transfer_started"
TRANSFER_COMPLETED = "acd.transfer_completed"
TRANSFER_CANCELLED = "acd.transfer_cancelled"
TRANSFER_FAILED = "acd.transfer_failed"
#: Supervision (acd/supervision.py): supervision_id, supervisor_ext, agent_id, agent_leg_uuid, mode.
SUPERVISION_STARTED = "acd.supervision_started"
SUPERVISION_MODE = "acd.supervision_mode"
SUPERVISION_ENDED = "acd.supervision_ended"


class EventBus:
    """subscribe(topic, handler) / publish(topic, payload); ``"*"`` receives every topic."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    def subscribe(self, topic: str, handler: Handler) -> Callable[[], None]:
        """Call ``handler(topic, payload)`` for each publish on ``topic``; returns an unsubscribe function."""
        self._handlers.setdefault(topic, []).append(handler)

        def unsubscribe() -> None:
            handlers = self._handlers.get(topic, [])
            if handler in handlers:
                handlers.remove(handler)

        return unsubscribe

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        """Deliver ``payload`` to the topic's handlers, then to ``"*"`` handlers."""
        for handler in list(self._handlers.get(topic, ())) + list(self._handlers.get("*", ())):
            try:
                handler(topic, payload)
            except Exception:
                log.exception("event handler %r failed on %s", handler, topic)
