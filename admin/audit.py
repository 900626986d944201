"""The audit log of admin changes: who, when, which row of which table, what action, which fields.

The table is crm_core's ``admin_audit_log`` (``crm_core.models.AuditEntry``,
created or adopted by migration 0003); this module only fills it from a
request. Entries are added to the same session as the change, so they commit
or roll back with it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import inspect

from admin.extensions import db
from crm_core.models import AuditEntry

log = logging.getLogger(__name__)

__all__ = ["AuditEntry", "SECRET_FIELDS", "changed_fields", "primary_key", "record"]

#: Longest client address kept (an IPv6 address in text is at most 45 characters).
REMOTE_ADDR_MAX = 45

#: Fields whose values never reach the log (only the fact that they changed).
SECRET_FIELDS = frozenset({"password_hash", "password", "secret"})


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
        addr = (request.remote_addr or "")[:REMOTE_ADDR_MAX] or None
    entry = AuditEntry(user_id=user_id, username=username, action=action, model=table,
                       pk=None if pk is None else str(pk), changes=changes or None, remote_addr=addr)
    db.session.add(entry)
    return entry
