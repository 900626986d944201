"""Per-channel gateway settings kept in the database and edited in the admin UI; the secret is write-only.

A row overrides the settings file for its channel. The secret (API secret,
SMPP or SMTP password) can be set or replaced but is never handed back to a
form: ``gateway_view`` leaves it out and says only whether one is set, and
saving with no new secret keeps the old one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.enums import GatewayKind, NotifyChannel
from crm_core.exceptions import InvalidInput
from crm_core.models import MessageGateway

#: The options each gateway kind understands (anything secret goes in the secret, never here).
GATEWAY_OPTIONS: dict[str, frozenset[str]] = {
    GatewayKind.CAPTURE: frozenset(),
    GatewayKind.HTTP: frozenset({"url", "api_key", "sender_id", "callback_url", "timeout", "poll_after"}),
    GatewayKind.SMPP: frozenset({"host", "port", "system_id", "system_type", "source_addr", "source_ton",
                                 "source_npi", "timeout", "enquire_link", "tls"}),
    GatewayKind.SMTP: frozenset({"host", "port", "username", "from_address", "starttls", "ssl", "ca_file",
                                 "timeout", "bounce_domain"}),
    GatewayKind.FREESWITCH: frozenset({"dial_string", "caller_id", "station_id", "header", "timeout",
                                       "max_concurrent"}),
}

#: Which kinds can carry which channel.
CHANNEL_KINDS: dict[str, frozenset[str]] = {
    NotifyChannel.SMS: frozenset({GatewayKind.CAPTURE, GatewayKind.HTTP, GatewayKind.SMPP}),
    NotifyChannel.EMAIL: frozenset({GatewayKind.CAPTURE, GatewayKind.SMTP}),
    NotifyChannel.FAX: frozenset({GatewayKind.CAPTURE, GatewayKind.FREESWITCH}),
    NotifyChannel.VOICE: frozenset({GatewayKind.CAPTURE, GatewayKind.FREESWITCH}),
}


@dataclass(frozen=True)
class GatewayConfig:
    """A channel's gateway as the dispatcher builds it (the secret included; never shown)."""

    channel: str
    kind: str
    enabled: bool
    options: dict[str, Any]
    secret: str | None
    version: str  # changes whenever the row does, so the dispatcher knows to rebuild


def check_gateway(channel: str, kind: str, options: dict[str, Any]) -> None:
    """Refuse a kind that cannot carry the channel, or options it does not know."""
    try:
        NotifyChannel(channel)
        GatewayKind(kind)
    except ValueError as exc:
        raise InvalidInput(str(exc), channel=channel, kind=kind) from None
    if kind not in CHANNEL_KINDS[channel]:
        raise InvalidInput(f"a {kind} gateway cannot send {channel}; use one of "
                           f"{', '.join(sorted(CHANNEL_KINDS[channel]))}", channel=channel, kind=kind)
    unknown = set(options) - GATEWAY_OPTIONS[kind]
    if unknown:
        raise InvalidInput(f"unknown {kind} option(s): {', '.join(sorted(unknown))}; known: "
                           f"{', '.join(sorted(GATEWAY_OPTIONS[kind])) or 'none'}", unknown=sorted(unknown))


def save_gateway(session: Session, channel: str, kind: str, options: dict[str, Any], *, secret: str | None = None,
                 enabled: bool = True, by: str | None = None) -> MessageGateway:
    """Create or update a channel's gateway; ``secret=None`` keeps the stored one, ``""`` clears it."""
    check_gateway(channel, kind, options)
    row = session.scalars(select(MessageGateway).where(MessageGateway.channel == channel)).first()
    if row is None:
        row = MessageGateway(channel=channel)
        session.add(row)
    row.kind, row.options, row.enabled, row.updated_by = kind, dict(options), enabled, by
    if secret is not None:
        row.secret = secret or None
    session.flush()
    return row


def gateway_configs(session: Session) -> dict[str, GatewayConfig]:
    """The enabled gateways set in the admin UI, by channel."""
    out = {}
    for row in session.scalars(select(MessageGateway).where(MessageGateway.enabled.is_(True))):
        digest = hashlib.sha256(repr((row.kind, sorted(row.options_dict().items()), row.secret)).encode()).hexdigest()
        out[row.channel] = GatewayConfig(row.channel, row.kind, True, row.options_dict(), row.secret, digest[:16])
    return out


def gateway_view(row: MessageGateway) -> dict[str, Any]:
    """A gateway as a form or page may show it: everything but the secret."""
    return {"channel": row.channel, "kind": row.kind, "enabled": row.enabled, "options": row.options_dict(),
            "secret_set": bool(row.secret), "updated_by": row.updated_by, "updated_at": row.updated_at}
