"""People who log in to the admin UI, with the role that decides what they may do.

``session_version`` is the generation of the user's sessions: every signed-in
browser and every event-stream token carries the number it was issued with,
and the admin UI accepts only the current one. Logging out bumps it, and so
does any change of the password, the role or the active flag (the mapper
hook below, whatever code path makes the change), which ends every session
of that user at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKey, event, inspect
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db import Base, check_in
from crm_core.enums import AdminRole
from crm_core.types import created_at, intpk, str20, str40


class AdminUser(Base):
    __tablename__ = "admin_users"
    __table_args__ = (check_in("role", AdminRole),)

    id: Mapped[intpk]
    username: Mapped[str40] = mapped_column(unique=True)
    password_hash: Mapped[str]
    role: Mapped[str20] = mapped_column(server_default=AdminRole.AGENT.value)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, server_default="1")
    created_at: Mapped[created_at]
    last_login_at: Mapped[dt.datetime | None]
    session_version: Mapped[int] = mapped_column(server_default="0", default=0)


#: Changing any of these ends the user's sessions.
SESSION_ENDING_FIELDS = ("password_hash", "role", "active")


@event.listens_for(AdminUser, "before_update")
def _end_sessions_on_credential_change(_mapper: Any, _connection: Any, user: AdminUser) -> None:
    state = inspect(user)
    if any(state.attrs[name].history.has_changes() for name in SESSION_ENDING_FIELDS) \
            and not state.attrs["session_version"].history.has_changes():
        user.session_version = (user.session_version or 0) + 1
