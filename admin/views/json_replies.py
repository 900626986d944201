"""The desk's JSON answers: ``{"ok": true, ...}`` or ``{"ok": false, "message": ...}`` with the HTTP status.

Shared by the agent desk (:mod:`admin.views.desk`) and its preview routes
(:mod:`admin.views.desk_preview`), so the page's ``fetch`` code reads one shape.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_wtf import FlaskForm

from admin.extensions import db
from admin.i18n import gettext
from crm_core.exceptions import CrmError, InvalidInput, NotFound


def ok(**data: Any) -> Any:
    return jsonify({"ok": True, **data})


def refused(message: str, status: int = 400, **data: Any) -> Any:
    return jsonify({"ok": False, "message": message, **data}), status


def form_refused(form: FlaskForm) -> Any:
    errors = {}
    for name, messages in form.errors.items():
        flat = []
        for m in messages:
            flat += [str(x) for x in m] if isinstance(m, list) else [str(m)]
        errors[name] = [m for m in flat if m]
    text = "; ".join(f"{name}: {', '.join(msgs)}" for name, msgs in errors.items() if msgs)
    return refused(gettext("Check the form: %(errors)s", errors=text), 400, errors=errors)


def crm_refused(exc: CrmError) -> Any:
    db.session.rollback()
    status = 404 if isinstance(exc, NotFound) else 400 if isinstance(exc, InvalidInput) else 409
    return refused(gettext("Refused: %(message)s", message=exc.message), status, error_id=exc.error_id,
                   details={k: str(v) for k, v in exc.details.items()})


__all__ = ["crm_refused", "form_refused", "ok", "refused"]
