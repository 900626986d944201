"""The capture gateway's mailbox: messages accepted in development instead of being sent anywhere.

It behaves like a real provider that deduplicates on the client reference:
capturing the same outbox key again returns the first capture's message id
and stores nothing new. That is what makes a send repeated after a crash
harmless, and what the restart tests count.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models import CapturedMessage

_T = CapturedMessage.__table__


def capture_messages(session: Session, items: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Store messages (keys: channel, recipient, subject, body, body_html, attachment_path, client_ref).

    Returns client_ref -> provider message id, the existing id for a reference captured before.
    """
    if not items:
        return {}
    rows = [{"channel": i["channel"], "recipient": i["recipient"], "subject": i.get("subject"), "body": i["body"],
             "body_html": i.get("body_html"), "attachment_path": i.get("attachment_path"),
             "client_ref": i["client_ref"], "provider_message_id": "cap-" + uuid.uuid4().hex[:24]} for i in items]
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(_T).on_conflict_do_nothing(index_elements=["client_ref"]), rows)  # executemany
    refs = [r["client_ref"] for r in rows]
    found = session.execute(select(_T.c.client_ref, _T.c.provider_message_id).where(_T.c.client_ref.in_(refs)))
    return {ref: pid for ref, pid in found}


def captured_count(session: Session, client_ref: str) -> int:
    """How many captures carry ``client_ref`` (the unique key makes it 0 or 1)."""
    return len(session.scalars(select(_T.c.id).where(_T.c.client_ref == client_ref)).all())
