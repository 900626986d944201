"""The admin audit log: who changed which row of which table, when, how and from where.

The admin UI writes one entry per change in the same session as the change,
so the two commit or roll back together. ``action`` is usually one of
``AuditAction`` (create, update, delete, other) but stays free text, because
views log their own actions (login, order-status, skill-level). No foreign
key to ``admin_users``: the log outlives the accounts it names, which is why
the username is kept beside the id.
"""

from __future__ import annotations

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db import Base
from crm_core.types import created_at, intpk, json_doc, str40, str100


class AuditEntry(Base):
    __tablename__ = "admin_audit_log"
    __table_args__ = (
        Index("ix_admin_audit_log_at", "at"),
        Index("ix_admin_audit_log_model_pk", "model", "pk"),
    )

    id: Mapped[intpk]
    at: Mapped[created_at]
    user_id: Mapped[int | None] = mapped_column(doc="admin_users.id of who did it (None: system or anonymous)")
    username: Mapped[str40 | None]
    action: Mapped[str40] = mapped_column(doc="create, update, delete, other, or a view action like order-status")
    model: Mapped[str100] = mapped_column(doc="table name")
    pk: Mapped[str40 | None] = mapped_column(doc="primary key as text ('a/b' for composite keys)")
    changes: Mapped[json_doc | None] = mapped_column(doc="{field: [old, new]} or action details")
    remote_addr: Mapped[str | None] = mapped_column(String(45), doc="client address (IPv4 or IPv6)")

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} {self.model}/{self.pk} by {self.username}>"
