"""People who log in to the admin UI, with the role that decides what they may do."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey
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
