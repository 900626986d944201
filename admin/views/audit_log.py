"""The audit log, read-only (admins)."""

from __future__ import annotations

import json
from typing import Any

from admin.views.base import SecureModelView
from admin.views.formatting import fmt_datetime


def _changes(_view: Any, _ctx: Any, model: Any, _name: str) -> str:
    return "" if model.changes is None else json.dumps(model.changes, ensure_ascii=False)[:300]


class AuditLogView(SecureModelView):
    column_list = ("at", "username", "action", "model", "pk", "changes", "remote_addr")
    column_formatters = {"at": fmt_datetime, "changes": _changes}
    column_formatters_export = {"changes": _changes}
    column_filters = ("username", "action", "model", "at")
    column_searchable_list = ("username", "model", "pk")
    column_sortable_list = ("at",)
    column_default_sort = ("id", True)
