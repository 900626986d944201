"""Admin UI sessions on the server side: the generation number that makes a logout or a credential change final.

A browser's signed cookie and an event-stream token each carry the user's
``session_version`` from when they were issued. Ending a user's sessions is
one UPDATE that bumps the number; checking a session is one indexed read.
(Password, role and active-flag changes bump it by themselves: see
``crm_core.models.admin``.)
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm_core.models import AdminUser


def end_sessions(session: Session, user_id: int) -> None:
    """End every session and stream token of the user (logout, or a change made elsewhere)."""
    session.execute(update(AdminUser).where(AdminUser.id == user_id)
                    .values(session_version=AdminUser.session_version + 1))


def session_is_current(session: Session, user_id: int, version: int) -> bool:
    """Whether a session issued at ``version`` still belongs to an active user whose sessions were not ended."""
    row = session.execute(select(AdminUser.active, AdminUser.session_version)
                          .where(AdminUser.id == user_id)).first()
    return row is not None and bool(row.active) and row.session_version == version
