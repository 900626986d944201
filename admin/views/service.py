"""After-sales: complaints (by category, with resolution and the voicemail playable), voicemails, knowledge base.

Voicemail audio is streamed by a route of the voicemail view (so the same
role check applies) and only from the configured recording folders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import abort, current_app, send_file, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual
from markupsafe import Markup, escape
from sqlalchemy.orm import joinedload

from admin.extensions import db
from admin.forms import enum_choices
from admin.i18n import lazy_gettext as _l
from admin.views.base import SecureModelView
from admin.views.formatting import fmt_datetime
from crm_core.enums import Channel, ComplaintCategory, ComplaintStatus
from crm_core.models import Complaint, Voicemail
from crm_core.types import utcnow

AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg"}


def audio_tag(voicemail_id: int | None) -> Any:
    """An <audio> player for a voicemail (streamed through the protected route)."""
    if voicemail_id is None:
        return ""
    src = escape(url_for("voicemails.audio_view", id=voicemail_id))
    return Markup(f"<audio controls preload='none' src='{src}'></audio> <a href='{src}'>⇩</a>")


def voicemail_file(voicemail: Voicemail) -> Path:
    """The voicemail's audio file, if it lies inside a configured recording folder (404 otherwise)."""
    path = Path(voicemail.audio_path).resolve()
    roots = [Path(r).resolve() for r in current_app.config.get("VOICEMAIL_DIRS", [])]
    if not any(path.is_relative_to(root) for root in roots) or not path.is_file():
        abort(404)
    return path


class ComplaintView(SecureModelView):
    column_list = ("id", "category", "status", "customer_id", "order_id", "channel", "voicemail", "created_at")
    column_formatters = {"voicemail": lambda v, c, m, n: audio_tag(m.voicemail_id), "created_at": fmt_datetime}
    column_formatters_detail = column_formatters
    column_formatters_export = {"voicemail": lambda v, c, m, n: m.voicemail_id or ""}
    column_searchable_list = ("description", "resolution", "assigned_to")
    column_filters = (
        FilterEqual(Complaint.category, _l("Category"), options=enum_choices(ComplaintCategory)),
        FilterEqual(Complaint.status, _l("Status"), options=enum_choices(ComplaintStatus)),
        FilterEqual(Complaint.channel, _l("Channel"), options=enum_choices(Channel)),
        "created_at",
    )
    column_sortable_list = ("id", "created_at")
    column_default_sort = ("id", True)
    column_display_pk = True
    column_labels = {"customer_id": _l("Customer"), "order_id": _l("Order"), "assigned_to": _l("Assigned to"),
                     "resolved_at": _l("Resolved")}
    form_columns = ("category", "channel", "status", "customer_id", "order_id", "description", "assigned_to",
                    "resolution")
    form_choices = {"category": enum_choices(ComplaintCategory), "channel": enum_choices(Channel),
                    "status": enum_choices(ComplaintStatus)}

    def get_query(self) -> Any:
        return super().get_query().options(joinedload(Complaint.voicemail))

    def prepare_model(self, form: Any, model: Complaint, is_created: bool) -> None:
        resolved = model.status in (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED)
        if resolved and model.resolved_at is None:
            model.resolved_at = utcnow()
        elif not resolved:
            model.resolved_at = None


class VoicemailView(SecureModelView):
    column_list = ("created_at", "caller", "mailbox", "duration_seconds", "heard", "audio")
    column_formatters = {"audio": lambda v, c, m, n: audio_tag(m.id), "created_at": fmt_datetime}
    column_formatters_detail = column_formatters
    column_filters = ("mailbox", "heard", "created_at")
    column_searchable_list = ("caller", "transcript")
    column_sortable_list = ("created_at",)
    column_default_sort = ("id", True)
    column_labels = {"caller": _l("Caller"), "mailbox": _l("Mailbox"), "duration_seconds": _l("Seconds"),
                     "heard": _l("Heard"), "audio": _l("Recording"), "transcript": _l("Transcript")}
    column_export_list = ("id", "created_at", "caller", "mailbox", "duration_seconds", "heard", "transcript")
    form_columns = ("heard", "transcript")
    method_permissions = {"audio_view": "listen"}

    @expose("/audio/<int:id>")
    def audio_view(self, id: int) -> Any:
        voicemail = db.session.get(Voicemail, id)
        if voicemail is None:
            abort(404)
        path = voicemail_file(voicemail)
        return send_file(path, mimetype=AUDIO_TYPES.get(path.suffix.lower(), "application/octet-stream"),
                         conditional=True)


class KnowledgeView(SecureModelView):
    column_list = ("question", "keywords", "approved", "hit_count", "updated_at")
    column_formatters = {"updated_at": fmt_datetime}
    column_searchable_list = ("question", "answer", "keywords")
    column_filters = ("approved",)
    column_sortable_list = ("hit_count", "updated_at")
    column_default_sort = ("id", True)
    form_columns = ("question", "answer", "keywords", "approved")

    def prepare_model(self, form: Any, model: Any, is_created: bool) -> None:
        from flask_login import current_user

        if is_created and not model.created_by:
            model.created_by = current_user.username
