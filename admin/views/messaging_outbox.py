"""The outbox in the admin UI: every message with its status, retry and cancel; the capture gateway's mailbox.

Messages are written by crm_core services only (queued by the IVR, order
changes, the desk, campaigns); here they are read, filtered by channel and
status, and retried (failed / expired / cancelled) or cancelled (queued)
through ``crm_core.services.outbox``, each change audited. The capture
gateway's mailbox shows what development mode "sent".
"""

from __future__ import annotations

import json
from typing import Any

from flask import flash, url_for
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_login import current_user
from markupsafe import Markup, escape

from admin import audit
from admin.extensions import db
from admin.forms import enum_choices
from admin.i18n import gettext, lazy_gettext as _l
from admin.views.base import SecureModelView
from admin.views.formatting import badge, fmt_datetime
from crm_core.enums import MessageStatus, NotifyChannel
from crm_core.exceptions import CrmError
from crm_core.models import CapturedMessage, OutboxMessage
from crm_core.services.outbox import cancel_message, retry_message
from crm_core.services.sms_segments import sms_size

STATUS_BADGES = {"queued": "info", "sending": "warning", "sent": "primary", "delivered": "success",
                 "failed": "danger", "expired": "secondary", "cancelled": "dark"}


def _status(_view: Any, _ctx: Any, model: Any, name: str) -> Any:
    value = getattr(model, name)
    return badge(gettext(value), STATUS_BADGES.get(value, "secondary"))


def _short(limit: int) -> Any:
    def formatter(_view: Any, _ctx: Any, model: Any, name: str) -> str:
        value = getattr(model, name) or ""
        return value if len(value) <= limit else value[:limit - 1] + "…"

    return formatter


def _json(_view: Any, _ctx: Any, model: Any, name: str) -> Any:
    value = getattr(model, name)
    if not value:
        return ""
    return Markup(f"<pre class='mb-0'>{escape(json.dumps(value, ensure_ascii=False, indent=1))}</pre>")


def _body(_view: Any, _ctx: Any, model: Any, name: str) -> Any:
    text = getattr(model, name) or ""
    extra = ""
    if name == "body" and model.channel == NotifyChannel.SMS:
        size = sms_size(text)
        extra = f"<div class='text-muted small'>{escape(size.encoding)}, {size.units} units, " \
                f"{size.segments} part(s)</div>"
    return Markup(f"<pre class='mb-0' style='white-space: pre-wrap'>{escape(text)}</pre>{extra}")


def _document(_view: Any, _ctx: Any, model: Any, _name: str) -> Any:
    if not model.attachment_path:
        return ""
    pdf = url_for("fax_files.outbox_file", id=model.id, kind="pdf")
    tif = url_for("fax_files.outbox_file", id=model.id, kind="tif")
    return Markup(f"<a href='{escape(pdf)}'>PDF</a> · <a href='{escape(tif)}'>TIFF</a>")


class OutboxView(SecureModelView):
    """Outbox messages, newest first; actions: retry, cancel."""

    column_list = ("id", "created_at", "channel", "status", "recipient", "template", "attempts", "provider",
                   "provider_message_id", "last_error")
    column_details_list = ("id", "channel", "status", "recipient", "template", "language", "subject", "body",
                           "body_html", "document", "merge_data", "idempotency_key", "attempts", "max_attempts",
                           "next_attempt_at", "expires_at", "provider", "provider_message_id", "segments", "result",
                           "last_error", "customer_id", "order_id", "complaint_id", "campaign_id", "call_uuid",
                           "created_by", "created_at", "sent_at", "delivered_at")
    column_formatters = {"status": _status, "created_at": fmt_datetime, "last_error": _short(80),
                         "recipient": _short(40)}
    column_formatters_detail = {"status": _status, "body": _body, "body_html": _body, "merge_data": _json,
                                "result": _json, "document": _document, "created_at": fmt_datetime,
                                "sent_at": fmt_datetime, "delivered_at": fmt_datetime,
                                "next_attempt_at": fmt_datetime, "expires_at": fmt_datetime}
    column_filters = (
        FilterEqual(OutboxMessage.channel, _l("Channel"), options=enum_choices(NotifyChannel)),
        FilterEqual(OutboxMessage.status, _l("Status"), options=enum_choices(MessageStatus)),
        "template", "provider", "created_at", "customer_id", "order_id", "campaign_id",
    )
    column_searchable_list = ("recipient", "idempotency_key", "provider_message_id", "call_uuid")
    column_sortable_list = ("id", "created_at", "status", "attempts")
    column_default_sort = ("id", True)
    column_labels = {"provider": _l("Gateway"), "provider_message_id": _l("Gateway id"),
                     "last_error": _l("Last error"), "idempotency_key": _l("Idempotency key"),
                     "document": _l("Document")}
    column_export_list = ("id", "created_at", "channel", "status", "recipient", "template", "attempts", "provider",
                          "provider_message_id", "last_error", "customer_id", "order_id", "campaign_id",
                          "sent_at", "delivered_at")
    form_columns = ()

    def _each(self, ids: list[str], name: str, fn: Any) -> tuple[int, list[str]]:
        done, refused = 0, []
        for raw in ids:
            try:
                message = fn(db.session, int(raw), by=current_user.username)
                audit.record(f"message-{name}", OutboxMessage.__tablename__, message.id, {"status": message.status})
                db.session.commit()
                done += 1
            except CrmError as exc:
                db.session.rollback()
                refused.append(exc.message)
        return done, refused

    @action("retry", _l("Retry"), _l("Send the selected failed, expired or cancelled messages again?"))
    def action_retry(self, ids: list[str]) -> None:
        done, refused = self._each(ids, "retry", retry_message)
        if done:
            flash(gettext("%(n)s message(s) queued again.", n=done), "success")
        for reason in refused[:5]:
            flash(gettext("Refused: %(message)s", message=reason), "error")

    @action("cancel", _l("Cancel"), _l("Cancel the selected queued messages?"))
    def action_cancel(self, ids: list[str]) -> None:
        done, refused = self._each(ids, "cancel", cancel_message)
        if done:
            flash(gettext("%(n)s message(s) cancelled.", n=done), "success")
        for reason in refused[:5]:
            flash(gettext("Refused: %(message)s", message=reason), "error")


class CapturedMessageView(SecureModelView):
    """What the capture gateway kept instead of sending (development and demo mode)."""

    column_list = ("captured_at", "channel", "recipient", "subject", "body", "client_ref")
    column_formatters = {"captured_at": fmt_datetime, "body": _short(100)}
    column_formatters_detail = {"captured_at": fmt_datetime, "body": _body, "body_html": _body}
    column_filters = (FilterEqual(CapturedMessage.channel, _l("Channel"), options=enum_choices(NotifyChannel)),
                      "captured_at")
    column_searchable_list = ("recipient", "body", "client_ref")
    column_default_sort = ("id", True)
    column_labels = {"client_ref": _l("Outbox key")}
