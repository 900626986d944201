"""The audit log of admin changes: who, when, which row of which table, what action, which fields.

crm_core has no audit table yet, so this model is admin-owned, on its own
declarative base that copies crm_core's naming convention and column types
but keeps its own MetaData: ``crm_core.Base.metadata`` must stay equal to
what the crm_core migrations build (tests/crm_core checks that).
**Needs a migration** in ``crm_core/migrations`` (table ``admin_audit_log``,
see ``AuditEntry``); until it exists ``ensure_table`` creates it (checkfirst)
at app start-up. Once migrated, the model can move onto ``crm_core.db.Base``.
Entries are added to the same session as the change, so they commit or roll
back with it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import Engine, Index, MetaData, inspect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from admin.extensions import db
from crm_core.db import NAMING_CONVENTION, Base
from crm_core.types import created_at, intpk, json_doc, str20, str40, str100

log = logging.getLogger(__name__)

#: Fields whose values never reach the log (only the fact that they changed).
SECRET_FIELDS = frozenset({"password_hash", "password"})


class AdminBase(DeclarativeBase):
    """Admin-owned tables: crm_core's conventions, a metadata of their own (not yet migrated by crm_core)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = Base.type_annotation_map


class AuditEntry(AdminBase):
    __tablename__ = "admin_audit_log"
    __table_args__ = (
        Index("ix_admin_audit_log_at", "at"),
        Index("ix_admin_audit_log_model_pk", "model", "pk"),
    )

    id: Mapped[intpk]
    at: Mapped[created_at]
    user_id: Mapped[int | None]
    username: Mapped[str40 | None]
    action: Mapped[str40] = mapped_column(doc="create, update, delete, login or a view action like order-status")
    model: Mapped[str100] = mapped_column(doc="table name")
    pk: Mapped[str40 | None]
    changes: Mapped[json_doc | None] = mapped_column(doc="{field: [old, new]} or action details")
    remote_addr: Mapped[str20 | None] = mapped_column(doc="client address (IPv4; IPv6 truncated)")


def ensure_table(engine: Engine) -> None:
    """Create ``admin_audit_log`` if the database has none (stop-gap until crm_core migrates it)."""
    if not inspect(engine).has_table(AuditEntry.__tablename__):
        log.warning("creating %s outside the migrations: add it to crm_core/migrations", AuditEntry.__tablename__)
        AuditEntry.__table__.create(engine, checkfirst=True)


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def changed_fields(model: Any) -> dict[str, Any]:
    """The column attributes of ``model`` changed in this session: {name: [old, new]} (secrets hidden)."""
    state = inspect(model)
    out: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if attr.key in SECRET_FIELDS:
            out[attr.key] = ["***", "***"]
        elif _plain(old) != _plain(new):
            out[attr.key] = [_plain(old), _plain(new)]
    return out


def primary_key(model: Any) -> str | None:
    """The row's primary key as text (``a/b`` for composite keys), None before it is flushed."""
    identity = inspect(model).identity
    if identity is None:
        return None
    return "/".join(str(part) for part in identity)


def record(action: str, table: str, pk: Any, changes: dict[str, Any] | None = None) -> AuditEntry:
    """Add one audit entry for the current user to the admin session (committed with the change)."""
    user_id = username = addr = None
    if has_request_context():
        if current_user and current_user.is_authenticated:
            user_id, username = current_user.id, current_user.username
        addr = (request.remote_addr or "")[:20] or None
    entry = AuditEntry(user_id=user_id, username=username, action=action, model=table,
                       pk=None if pk is None else str(pk), changes=changes or None, remote_addr=addr)
    db.session.add(entry)
    return entry
