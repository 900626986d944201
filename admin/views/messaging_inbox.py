"""What came in: received faxes (with the "unmatched" inbox and assignment to a customer) and inbound SMS.

Fax documents (PDF, thumbnail, TIFF) are served by a view of their own
(``fax_files``) that agents may use too, so the agent desk can show the
faxes on a customer's card; files are only served from the configured fax
folders. Assigning a fax and filing a test SMS go through crm_core services
and are audited.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEmpty, FilterEqual
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from admin import audit
from admin.extensions import db
from admin.forms import enum_choices
from admin.i18n import gettext, lazy_gettext as _l
from admin.views.base import SecureBaseView, SecureModelView
from admin.views.formatting import badge, fmt_datetime
from crm_core.enums import FaxStatus, InboundKind, NotifyChannel
from crm_core.exceptions import CrmError
from crm_core.models import Customer, InboundFax, InboundMessage, OutboxMessage
from crm_core.phones import try_e164
from crm_core.services.customers import find_customer_by_phone
from crm_core.services.faxes import assign_fax
from crm_core.services.inbound import receive_sms

FILE_TYPES = {"pdf": "application/pdf", "png": "image/png", "tif": "image/tiff"}


def fax_file(path: str | None) -> Path:
    """A fax document inside one of the configured fax folders (404 otherwise)."""
    if not path:
        abort(404)
    file = Path(path).resolve()
    roots = [Path(r).resolve() for r in current_app.config.get("FAX_DIRS", [])]
    if not any(file.is_relative_to(root) for root in roots) or not file.is_file():
        abort(404)
    return file


def _thumbnail(_view: Any, _ctx: Any, model: InboundFax, _name: str) -> Any:
    if not model.thumbnail_path:
        return ""
    src = escape(url_for("fax_files.fax_file", id=model.id, kind="png"))
    pdf = escape(url_for("fax_files.fax_file", id=model.id, kind="pdf")) if model.pdf_path else src
    return Markup(f"<a href='{pdf}'><img src='{src}' alt='fax {model.id}' style='max-height:90px'></a>")


def _fax_status(_view: Any, _ctx: Any, model: InboundFax, _name: str) -> Any:
    return badge(gettext(model.status), "success" if model.status == FaxStatus.RECEIVED else "danger")


def _customer(_view: Any, _ctx: Any, model: Any, _name: str) -> Any:
    if model.customer_id is None:
        return badge(gettext("unmatched"), "warning")
    return Markup(f"<a href='{escape(url_for('customers.details_view', id=model.customer_id))}'>"
                  f"#{model.customer_id}</a>")


def _why(_view: Any, _ctx: Any, model: InboundFax, _name: str) -> str:
    return model.error or model.result_text or ""


class AssignFaxForm(FlaskForm):
    customer = StringField(_l("Customer id or phone number"), validators=[DataRequired(), Length(max=40)])


class FaxInboxView(SecureModelView):
    """Received faxes; the "unmatched" filter is the inbox of faxes no customer was found for."""

    column_list = ("thumbnail", "received_at", "status", "sender", "customer", "pages", "remote_station_id", "why")
    column_details_list = ("thumbnail", "received_at", "status", "sender", "sender_e164", "dnis", "customer",
                           "remote_station_id", "pages", "total_pages", "result_code", "result_text", "error",
                           "call_uuid", "assigned_by", "assigned_at")
    column_formatters = {"thumbnail": _thumbnail, "status": _fax_status, "customer": _customer, "why": _why,
                         "received_at": fmt_datetime, "assigned_at": fmt_datetime}
    column_formatters_detail = column_formatters
    column_filters = (FilterEmpty(InboundFax.customer_id, _l("Unmatched")),
                      FilterEqual(InboundFax.status, _l("Status"), options=enum_choices(FaxStatus)),
                      "received_at", "sender_e164")
    column_searchable_list = ("sender", "sender_e164", "remote_station_id", "call_uuid")
    column_sortable_list = ("received_at", "pages")
    column_default_sort = ("id", True)
    column_labels = {"thumbnail": _l("Page 1"), "why": _l("Result"), "remote_station_id": _l("Station id"),
                     "customer": _l("Customer")}
    column_export_list = ("id", "received_at", "status", "sender", "sender_e164", "customer_id", "pages",
                          "result_text", "error", "call_uuid")
    form_columns = ()
    details_template = "admin/fax_details.html"
    method_permissions = {"assign_view": "assign"}

    @expose("/assign/<int:id>", methods=("GET", "POST"))
    def assign_view(self, id: int) -> Any:
        fax = db.session.get(InboundFax, id)
        if fax is None:
            return redirect(url_for(".index_view"))
        form = AssignFaxForm()
        back = url_for(".details_view", id=id)
        if form.validate_on_submit():
            raw = form.customer.data.strip()
            customer = db.session.get(Customer, int(raw)) if raw.isdigit() and len(raw) < 10 else None
            if customer is None and try_e164(raw):
                customer = find_customer_by_phone(db.session, raw)
            if customer is None:
                flash(gettext("No customer %(what)s.", what=raw), "error")
            elif self.service_call("fax-assign", fax,
                                   lambda: assign_fax(db.session, id, customer.id, by=current_user.username),
                                   customer_id=customer.id):
                flash(gettext("Fax attached to %(name)s.", name=customer.name), "success")
                return redirect(back)
        title = gettext("Attach fax %(id)s from %(sender)s to a customer", id=id, sender=fax.sender or "?")
        return self.render("admin/service_form.html", form=form, return_url=back, title=title), \
            (400 if request.method == "POST" else 200)


class FaxFileView(SecureBaseView):
    """Fax documents (received and sent) for the admin pages and the agent desk; not in the menu."""

    #: "files" opens documents; nobody has "view", so the view has no page of its own and is in no menu
    method_permissions = {"index": "view", "fax_file": "files", "outbox_file": "files"}

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and self.permitted("files")

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self) -> Any:
        abort(404)

    @expose("/in/<int:id>.<kind>")
    def fax_file(self, id: int, kind: str) -> Any:
        fax = db.session.get(InboundFax, id)
        if fax is None or kind not in FILE_TYPES:
            abort(404)
        path = {"pdf": fax.pdf_path, "png": fax.thumbnail_path, "tif": fax.tiff_path}[kind]
        return send_file(fax_file(path), mimetype=FILE_TYPES[kind], conditional=True,
                         download_name=f"fax-{id}.{kind}")

    @expose("/out/<int:id>.<kind>")
    def outbox_file(self, id: int, kind: str) -> Any:
        message = db.session.get(OutboxMessage, id)
        if message is None or not message.attachment_path or kind not in ("pdf", "tif"):
            abort(404)
        path = message.attachment_path if kind == "tif" else str(Path(message.attachment_path).with_suffix(".pdf"))
        return send_file(fax_file(path), mimetype=FILE_TYPES[kind], conditional=True,
                         download_name=f"outbox-{id}.{kind}")


class TestSmsForm(FlaskForm):
    sender = StringField(_l("From (phone number)"), validators=[DataRequired(), Length(max=40)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=1000)])


class InboundSmsView(SecureModelView):
    """SMS replies and opt-outs, e-mail bounces; an admin can file a test SMS (as the capture gateway would)."""

    column_list = ("received_at", "channel", "kind", "sender", "customer", "body", "outbox_message_id")
    column_formatters = {"received_at": fmt_datetime, "customer": _customer}
    column_filters = (FilterEqual(InboundMessage.channel, _l("Channel"), options=enum_choices(NotifyChannel)),
                      FilterEqual(InboundMessage.kind, _l("Kind"), options=enum_choices(InboundKind)),
                      "received_at")
    column_searchable_list = ("sender", "body")
    column_default_sort = ("id", True)
    column_labels = {"outbox_message_id": _l("In reply to"), "customer": _l("Customer")}
    form_columns = ()
    list_template = "admin/inbound_list.html"
    method_permissions = {"test_view": "simulate"}

    @expose("/test", methods=("GET", "POST"))
    def test_view(self) -> Any:
        form = TestSmsForm()
        back = url_for(".index_view")
        if form.validate_on_submit():
            try:
                result = receive_sms(db.session, form.sender.data, form.body.data, provider="admin-test")
                audit.record("sms-test-inbound", InboundMessage.__tablename__, result.message.id,
                             {"sender": result.message.sender, "opt_out": result.opted_out})
                db.session.commit()
            except CrmError as exc:
                db.session.rollback()
                flash(gettext("Refused: %(message)s", message=exc.message), "error")
            else:
                flash(gettext("SMS filed%(opt)s.", opt=gettext(" (opted out)") if result.opted_out else ""),
                      "success")
                return redirect(back)
        return self.render("admin/service_form.html", form=form, return_url=back,
                           title=gettext("File a test SMS as if a customer had sent it")), \
            (400 if request.method == "POST" else 200)
