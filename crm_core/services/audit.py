"""Writing the admin audit log from anywhere that changes the record on someone's behalf (admin UI, tools)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crm_core.models import AuditEntry

#: ``admin_audit_log.remote_addr`` width: an IPv6 address in text.
REMOTE_ADDR_WIDTH = 45


def record_audit(
    session: Session,
    action: str,
    model: str,
    pk: Any = None,
    changes: dict[str, Any] | None = None,
    *,
    user_id: int | None = None,
    username: str | None = None,
    remote_addr: str | None = None,
) -> AuditEntry:
    """Add one audit entry to ``session`` (it commits or rolls back with the change it describes)."""
    entry = AuditEntry(
        action=str(action)[:40], model=model[:100], pk=None if pk is None else str(pk)[:40], changes=changes or None,
        user_id=user_id, username=None if username is None else username[:40],
        remote_addr=(remote_addr or "")[:REMOTE_ADDR_WIDTH] or None,
    )
    session.add(entry)
    return entry
