"""The capture gateway: the development default, which keeps each message in ``captured_messages`` instead.

It behaves like a provider that deduplicates on the client reference (the
outbox key): sending the same message again after a crash returns the first
capture's id and stores nothing new. Captures are group-committed like the
dispatcher's outcomes, so the capture gateway can be used to measure the
outbox itself (``bench/outbox.py``). Captured messages count as delivered.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer

from crm_core.services.capture import capture_messages
from crm_core.services.outbox_dispatch import ClaimedMessage
from messaging.channels.base import Listener, SendResult, TransientSendError
from messaging.db import DbRunner


class CaptureAdapter:
    """Captures into the database, in batches of whatever arrived within ``window`` seconds."""

    kind = "capture"

    def __init__(self, db: DbRunner, clock: Any, *, window: float = 0.01, max_in_flight: int = 2000,
                 lease_seconds: float = 120.0) -> None:
        self.db, self.clock, self.window = db, clock, window
        self.max_in_flight, self.lease_seconds = max_in_flight, lease_seconds
        self._pending: list[tuple[dict[str, Any], defer.Deferred]] = []
        self._timer: Any = None

    def start(self, listener: Listener) -> None:
        """Nothing to connect to."""

    def stop(self) -> None:
        """Nothing to disconnect."""

    def send(self, message: ClaimedMessage) -> defer.Deferred:
        waiter: defer.Deferred = defer.Deferred()
        self._pending.append(({"channel": message.channel, "recipient": message.recipient, "subject": message.subject,
                               "body": message.body, "body_html": message.body_html,
                               "attachment_path": message.attachment_path, "client_ref": message.idempotency_key},
                              waiter))
        if self._timer is None or not self._timer.active():
            self._timer = self.clock.callLater(self.window, self._flush)
        return waiter

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        d = self.db.run(capture_messages, [item for item, _ in batch])

        def captured(ids: dict[str, str]) -> None:
            for item, waiter in batch:
                waiter.callback(SendResult("delivered", ids[item["client_ref"]], {"captured": True}))

        def failed(failure: Any) -> None:
            for _, waiter in batch:
                waiter.errback(TransientSendError(f"capture store unavailable: {failure.getErrorMessage()}"))

        d.addCallbacks(captured, failed)
