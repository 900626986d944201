"""The one small interface every channel adapter has, and the two ways a send can fail.

``send(message)`` returns a Deferred that fires with a :class:`SendResult`
(``sent``: the gateway took it, a receipt may follow; ``delivered``: it
arrived, as far as the gateway can tell) or fails with
:class:`TransientSendError` (try again later: unreachable, busy, throttled)
or :class:`PermanentSendError` (never: the gateway refused this message).
Any other exception counts as transient, so an adapter bug delays a message
instead of losing it. Adapters tell the dispatcher about delivery receipts
and inbound messages through the :class:`Listener` they are given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from twisted.internet import defer

from crm_core.services.outbox_dispatch import ClaimedMessage, Receipt


@dataclass(frozen=True)
class SendResult:
    """A gateway's answer to one send."""

    kind: str  # "sent" or "delivered"
    provider_message_id: str | None = None
    result: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in ("sent", "delivered"):
            raise ValueError(f"a send result is sent or delivered, not {self.kind!r}")


class SendError(Exception):
    """A send that did not work; ``result`` carries what the gateway said."""

    def __init__(self, reason: str, *, result: dict[str, Any] | None = None,
                 provider_message_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.result = result or {}
        self.provider_message_id = provider_message_id


class TransientSendError(SendError):
    """Worth trying again later (``retry_after`` seconds when the gateway said so)."""

    def __init__(self, reason: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(reason, **kwargs)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    """The gateway refused this message for good (bad number, rejected content)."""


@dataclass(frozen=True)
class InboundSms:
    """An SMS a gateway received for us."""

    sender: str
    body: str
    recipient: str | None = None
    provider: str | None = None
    provider_message_id: str | None = None


@dataclass
class Listener:
    """Where adapters report what arrives outside a send: delivery receipts and inbound SMS."""

    receipt: Callable[[Receipt], Any] = lambda receipt: None
    inbound: Callable[[InboundSms], Any] = lambda message: None


class Adapter(Protocol):
    """A channel's gateway as the dispatcher sees it."""

    kind: str            # the gateway kind recorded on each message (capture, http, smpp, smtp, freeswitch)
    max_in_flight: int   # sends it may have outstanding at once
    lease_seconds: float  # how long a claim may take before another dispatcher may take it over

    def start(self, listener: Listener) -> None:
        """Connect / start threads; report receipts and inbound messages to ``listener``."""

    def stop(self) -> defer.Deferred | None:
        """Disconnect; pending sends fail as transient."""

    def send(self, message: ClaimedMessage) -> defer.Deferred:
        """Send one message: SendResult, or TransientSendError / PermanentSendError."""


__all__ = ["Adapter", "ClaimedMessage", "InboundSms", "Listener", "PermanentSendError", "Receipt", "SendError",
           "SendResult", "TransientSendError"]
