"""E-mail bounces: delivery status notifications read from a Maildir and recorded on the message they concern.

Outbox e-mail leaves with the envelope sender ``bounces+<outbox id>@<domain>``
(VERP), so a bounce lands at an address naming its message. Point that
address (or the whole ``bounces+*`` family) at a Maildir the engine can read
(``email.bounce_maildir``); every ``sweep_interval`` the new reports there are
parsed (RFC 3464 ``message/delivery-status``: ``Status`` and
``Diagnostic-Code``; failing that, the original's ``X-Hotline-Message``
header), recorded with ``crm_core.services.inbound.record_bounce`` (the
message fails with the reason, the report is filed once by its Message-ID)
and moved to ``cur/`` as seen. Delay notices (``Action: delayed``) are not
failures and are only marked seen.
"""

from __future__ import annotations

import email
import email.policy
import logging
import os
import re
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

from twisted.internet import defer

from crm_core.services.inbound import record_bounce
from messaging.db import DbRunner
from messaging.threads import BlockingPool

log = logging.getLogger(__name__)

_VERP = re.compile(r"bounces\+(\d+)@", re.IGNORECASE)
_ADDRESS_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "To")


@dataclass(frozen=True)
class Bounce:
    """One parsed report: the message it concerns, why, and the report's own id."""

    message_id: int
    reason: str
    report_id: str | None
    permanent: bool


def _status_fields(report: Message) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in report.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        blocks = payload if isinstance(payload, list) else [part]
        for block in blocks:
            for key in ("Action", "Status", "Diagnostic-Code", "Final-Recipient"):
                value = block.get(key)
                if value and key not in fields:
                    fields[key] = " ".join(str(value).split())
            if not fields and isinstance(block.get_payload(), str):  # unparsed body: read the lines
                for line in block.get_payload().splitlines():
                    key, sep, value = line.partition(":")
                    if sep and key.strip() in ("Action", "Status", "Diagnostic-Code", "Final-Recipient"):
                        fields.setdefault(key.strip(), value.strip())
    return fields


def _original_message_id(report: Message) -> int | None:
    for part in report.walk():
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            text = inner.as_string() if isinstance(inner, Message) else str(inner or "")
            match = re.search(r"^X-Hotline-Message:\s*(\d+)\s*$", text, re.MULTILINE | re.IGNORECASE)
            if match:
                return int(match.group(1))
    return None


def parse_bounce(raw: bytes) -> Bounce | None:
    """The bounce a DSN reports, or None when it is not one about an outbox message."""
    report = email.message_from_bytes(raw, policy=email.policy.compat32)
    message_id = None
    for header in _ADDRESS_HEADERS:
        for value in report.get_all(header) or []:
            match = _VERP.search(str(value))
            if match:
                message_id = int(match.group(1))
                break
        if message_id is not None:
            break
    if message_id is None:
        message_id = _original_message_id(report)
    if message_id is None:
        return None
    fields = _status_fields(report)
    action, status = fields.get("Action", "failed").lower(), fields.get("Status", "")
    permanent = action == "failed" and not status.startswith("4")
    reason = fields.get("Diagnostic-Code") or fields.get("Status") or str(report.get("Subject", "bounced"))
    if status and status not in reason:
        reason = f"{status} {reason}"
    return Bounce(message_id, reason[:1000], report.get("Message-ID"), permanent)


class MaildirBounces:
    """Reads new reports from a Maildir (``new/`` -> ``cur/``), records bounces through ``db``."""

    def __init__(self, db: DbRunner, reactor: Any, maildir: str | os.PathLike) -> None:
        self.db, self.reactor = db, reactor
        self.maildir = Path(maildir)
        self.threads = BlockingPool(reactor, "hotline-bounces", 1)
        self.recorded = 0

    def stop(self) -> None:
        """Stop the reading thread (a later ``poll`` fails)."""
        self.threads.stop()

    def _read_new(self) -> list[tuple[Path, Bounce | None]]:
        new = self.maildir / "new"
        if not new.is_dir():
            return []
        out = []
        for path in sorted(new.iterdir()):
            if path.is_file():
                try:
                    out.append((path, parse_bounce(path.read_bytes())))
                except Exception as exc:  # one unreadable file never stops the others
                    log.warning("bounce report %s unreadable: %s", path.name, exc)
                    out.append((path, None))
        return out

    def _seen(self, path: Path) -> None:
        cur = self.maildir / "cur"
        cur.mkdir(exist_ok=True)
        name = path.name if ":2," in path.name else path.name + ":2,S"
        os.replace(path, cur / name)

    @defer.inlineCallbacks
    def poll(self) -> Any:
        """Record the bounces among the new reports; how many were recorded."""
        found = yield self.threads.run(self._read_new)
        recorded = 0
        for path, bounce in found:
            if bounce is not None and bounce.permanent:
                yield self.db.run(record_bounce, bounce.message_id, reason=bounce.reason,
                                  report_id=bounce.report_id)
                recorded += 1
                log.info("e-mail %d bounced: %s", bounce.message_id, bounce.reason)
            self._seen(path)
        self.recorded += recorded
        return recorded
