"""Setting messaging up in the admin UI: message templates (checked, with a preview) and per-channel gateways.

A template is checked when it is saved (``check_template``): a placeholder
its callers never supply, a bad ``{...}``, an e-mail without a subject are
refused with the reason, so a broken template never reaches the outbox. The
details page previews it with example data and, for SMS, its encoding and
number of parts.

A gateway row overrides the settings file for its channel (the engine picks
it up within ``messaging.sweep_interval``). Its secret is write-only: the form
has an empty password field (leave it empty to keep the stored secret, or
tick "clear"), list and details only say whether one is set, and the audit
log records that it changed, never the value.
"""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from markupsafe import Markup, escape
from wtforms import BooleanField, PasswordField, TextAreaField

from admin.forms import enum_choices
from admin.i18n import gettext, lazy_gettext as _l
from admin.views.base import SecureModelView
from admin.views.formatting import badge, fmt_datetime
from crm_core.enums import GatewayKind, NotifyChannel
from crm_core.exceptions import CrmError, InvalidInput
from crm_core.models import MessageGateway, MessageTemplate
from crm_core.services.gateways import check_gateway
from crm_core.services.message_templates import check_template, declared_fields, render, sample_data
from crm_core.services.sms_segments import sms_size

LANGUAGES = [("zh", "中文"), ("en", "English")]


def _preview(_view: Any, _ctx: Any, model: MessageTemplate, _name: str) -> Any:
    try:
        rendered = render(model, sample_data(model))
    except CrmError as exc:
        return Markup(f"<span class='text-danger'>{escape(exc.message)}</span>")
    parts = [f"<div class='text-muted small'>{escape(gettext('With example data'))}</div>"]
    if rendered.subject:
        parts.append(f"<strong>{escape(rendered.subject)}</strong>")
    parts.append(f"<pre class='mb-1' style='white-space: pre-wrap'>{escape(rendered.body)}</pre>")
    if model.channel == NotifyChannel.SMS:
        size = sms_size(rendered.body)
        parts.append(f"<div class='small'>{escape(size.encoding)}: {size.units} / {size.per_segment} "
                     f"{escape(gettext('units per part'))}, {size.segments} {escape(gettext('part(s)'))}</div>")
    return Markup("".join(parts))


def _fields(_view: Any, _ctx: Any, model: MessageTemplate, _name: str) -> str:
    return ", ".join(sorted(declared_fields(model)))


def _segments(_view: Any, _ctx: Any, model: MessageTemplate, _name: str) -> str:
    if model.channel != NotifyChannel.SMS:
        return ""
    try:
        return str(sms_size(render(model, sample_data(model)).body).segments)
    except CrmError:
        return "?"


class MessageTemplateView(SecureModelView):
    """Message texts per name, channel and language; checked on save, previewed on the details page."""

    column_list = ("name", "channel", "language", "subject", "active", "segments", "updated_by", "updated_at")
    column_details_list = ("name", "channel", "language", "description", "merge_fields", "subject", "body",
                           "body_html", "preview", "active", "updated_by", "updated_at")
    column_formatters = {"updated_at": fmt_datetime, "segments": _segments}
    column_formatters_detail = {"updated_at": fmt_datetime, "preview": _preview, "merge_fields": _fields}
    column_filters = ("name", "channel", "language", "active")
    column_searchable_list = ("name", "subject", "body", "description")
    column_default_sort = ("name", False)
    column_labels = {"segments": _l("SMS parts"), "merge_fields": _l("Merge fields"), "preview": _l("Preview"),
                     "fields": _l("Merge fields (own templates)"), "body_html": _l("HTML (e-mail)")}
    column_descriptions = {"body": _l("Text; {field} takes merge data, {{ and }} are literal braces"),
                           "fields": _l("Templates of your own: the merge fields callers supply, comma-separated")}
    form_columns = ("name", "channel", "language", "subject", "body", "body_html", "fields", "description", "active")
    form_choices = {"channel": enum_choices(NotifyChannel), "language": LANGUAGES}
    form_overrides = {"body": TextAreaField, "body_html": TextAreaField}
    form_widget_args = {"body": {"rows": 6}, "body_html": {"rows": 6}}

    def prepare_model(self, form: Any, model: MessageTemplate, is_created: bool) -> None:
        model.subject = model.subject or None
        model.body_html = model.body_html or None
        model.fields = model.fields or None
        model.updated_by = current_user.username[:40]
        check_template(model)  # InvalidTemplate: the form comes back with the reason


def _options(_view: Any, _ctx: Any, model: MessageGateway, _name: str) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(model.options_dict().items()))


def _secret(_view: Any, _ctx: Any, model: MessageGateway, _name: str) -> Any:
    return badge(gettext("set") if model.secret else gettext("not set"), "success" if model.secret else "secondary")


def parse_options(text: str) -> dict[str, Any]:
    """``key=value`` lines (numbers and true/false typed) as a dict; InvalidInput on a malformed line."""
    out: dict[str, Any] = {}
    for number, line in enumerate((text or "").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise InvalidInput(f"options line {number}: write key=value", line=number)
        if value.lower() in ("true", "false"):
            out[key] = value.lower() == "true"
        else:
            try:
                out[key] = int(value)
            except ValueError:
                try:
                    out[key] = float(value)
                except ValueError:
                    out[key] = value
    return out


class GatewayView(SecureModelView):
    """Per-channel gateway settings; the secret can be set or cleared, never read back."""

    column_list = ("channel", "kind", "enabled", "options", "secret_set", "updated_by", "updated_at")
    column_details_list = column_list
    column_formatters = {"options": _options, "secret_set": _secret, "updated_at": fmt_datetime}
    column_formatters_detail = column_formatters
    column_export_list = ("channel", "kind", "enabled", "options", "updated_by", "updated_at")
    column_formatters_export = {"options": _options}
    column_labels = {"secret_set": _l("Secret"), "kind": _l("Gateway")}
    column_default_sort = ("channel", False)
    form_columns = ("channel", "kind", "enabled", "options_text", "new_secret", "clear_secret")
    form_choices = {"channel": enum_choices(NotifyChannel), "kind": enum_choices(GatewayKind)}
    form_extra_fields = {
        "options_text": TextAreaField(_l("Options (key=value per line)"), render_kw={"rows": 6}),
        "new_secret": PasswordField(_l("New secret (API secret or password); empty keeps the stored one")),
        "clear_secret": BooleanField(_l("Clear the stored secret")),
    }

    def on_form_prefill(self, form: Any, id: Any) -> None:
        model = self.get_one(id)
        if model is not None:
            form.options_text.data = "\n".join(f"{k}={v}" for k, v in sorted(model.options_dict().items()))

    def prepare_model(self, form: Any, model: MessageGateway, is_created: bool) -> None:
        options = parse_options(form.options_text.data or "")
        check_gateway(model.channel, model.kind, options)
        model.options = options
        if form.new_secret.data:
            model.secret = form.new_secret.data
        elif form.clear_secret.data:
            model.secret = None
        model.updated_by = current_user.username[:40]
