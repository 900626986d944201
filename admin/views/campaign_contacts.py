"""Campaign contacts with the file import, and the do-not-call list (admins, campaign managers).

Contacts import from a CSV (UTF-8 with or without BOM, GBK/GB18030 as
Chinese Excel saves it, UTF-16 "Unicode text") or an .xlsx file with a
header row holding the number column (``number``, ``phone``, ``mobile``,
``手机`` ...; other columns become the contact's merge fields, a ``timezone``
column the contact's own zone). crm_core reads the file whole before
anything is written: any malformed line is listed with its line number and
nothing is imported. A number given twice is merged (listed as a notice);
numbers on the do-not-call list or owned by a blacklisted customer are
imported as ``skipped`` with the reason, so the dialer never rings them and
the list shows why. A contact added by hand takes the same road.
"""

from __future__ import annotations

from typing import Any, Callable

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import SelectField

from admin.extensions import db
from admin.forms import e164_filter, enum_choices
from admin.i18n import gettext, lazy_gettext as _l
from admin.views.base import SecureModelView
from admin.views.formatting import fmt_datetime
from crm_core.enums import ContactStatus
from crm_core.exceptions import CrmError
from crm_core.models import Campaign, CampaignContact
from crm_core.phones import try_e164
from crm_core.services.campaign_contacts import (
    MAX_IMPORT_ROWS,
    MAX_LISTED,
    ContactRow,
    ParsedFile,
    Problem,
    import_contacts,
    read_contact_file,
)

#: The largest file one import takes.
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_LISTED_ERRORS = MAX_LISTED


def problem_text(problem: Problem) -> str:
    """One bad line of an import file, in the user's language."""
    p = problem.params
    messages = {
        "not_text": lambda: gettext("the file is neither UTF-8 nor GB18030 (GBK) text"),
        "old_excel": lambda: gettext("old .xls workbooks are not read: save the sheet as .xlsx or CSV"),
        "bad_xlsx": lambda: gettext("the file is not a readable .xlsx workbook"),
        "empty": lambda: gettext("the file is empty"),
        "csv_error": lambda: str(p.get("message", "")),
        "no_number_column": lambda: gettext("the header has no 'number' column"),
        "too_many_rows": lambda: gettext("more than %(n)s contacts in one file", n=p.get("limit", MAX_IMPORT_ROWS)),
        "field_count": lambda: gettext("%(found)s fields, the header has %(expected)s", found=p.get("found"),
                                       expected=p.get("expected")),
        "bad_number": lambda: gettext("%(raw)s is not a phone number", raw=p.get("raw")),
        "bad_timezone": lambda: gettext("%(raw)s is not a time zone", raw=p.get("raw")),
    }
    message = messages.get(problem.code, lambda: problem.code)()
    return gettext("line %(line)s: %(message)s", line=problem.line, message=message)


def problem_report(parsed: ParsedFile) -> list[str]:
    lines = [problem_text(p) for p in parsed.problems]
    if parsed.problem_count > len(parsed.problems):
        lines.append(gettext("… and %(n)s more.", n=parsed.problem_count - len(parsed.problems)))
    return lines


def committed(fn: Callable[[], Any]) -> Any:
    """Run a crm_core service (it audits itself) and commit; on its refusal roll back, say why, return None."""
    try:
        result = fn()
        db.session.commit()
        return result
    except CrmError as exc:
        db.session.rollback()
        flash(gettext("Refused: %(message)s", message=exc.message), "error")
        return None


class ImportForm(FlaskForm):
    campaign = SelectField(_l("Campaign"), coerce=int)
    file = FileField(_l("CSV or Excel file"), validators=[FileRequired()])


class CampaignContactView(SecureModelView):
    column_list = ("campaign", "number", "customer_id", "status", "skip_reason", "attempts", "next_attempt_at",
                   "last_attempt_at", "last_result")
    column_formatters = {"campaign": lambda v, c, m, n: m.campaign.name, "next_attempt_at": fmt_datetime,
                         "last_attempt_at": fmt_datetime}
    column_formatters_export = {"campaign": lambda v, c, m, n: m.campaign.name}
    column_searchable_list = ("number",)
    column_filters = ("campaign.name", "status", "last_result", "skip_reason")
    column_sortable_list = ("number", "status", "next_attempt_at")
    column_default_sort = ("id", True)
    form_columns = ("campaign", "number", "timezone", "next_attempt_at")
    form_choices = {"status": enum_choices(ContactStatus)}
    form_args = {"number": {"filters": [e164_filter]}}
    column_labels = {"customer_id": _l("Customer id"), "next_attempt_at": _l("Next attempt"),
                     "last_attempt_at": _l("Last attempt"), "last_result": _l("Last result"),
                     "skip_reason": _l("Skipped because"), "timezone": _l("Time zone")}
    list_template = "campaigns/contacts_list.html"
    method_permissions = {"import_view": "create"}

    def get_query(self) -> Any:
        from sqlalchemy.orm import joinedload

        return super().get_query().options(joinedload(CampaignContact.campaign))

    def create_form(self, obj: Any = None) -> Any:
        form = super().create_form(obj)
        del form.next_attempt_at  # a new contact is due at once
        return form

    def edit_form(self, obj: Any = None) -> Any:
        form = super().edit_form(obj)
        del form.campaign, form.number  # a contact's campaign and number never change
        return form

    def create_model(self, form: Any) -> Any:
        """One contact by hand: the same merge and do-not-call marking as an import."""
        number = try_e164(form.number.data or "")
        if form.campaign.data is None or number is None:
            flash(gettext("Refused: %(message)s", message=gettext("a contact needs a campaign and a valid phone "
                                                                  "number")), "error")
            return False
        if committed(lambda: import_contacts(db.session, form.campaign.data.id,
                                             [ContactRow(number, {}, timezone=(form.timezone.data or None))],
                                             by=current_user.username, user_id=current_user.id,
                                             remote_addr=(request.remote_addr or "")[:45] or None,
                                             source="form")) is None:
            return False
        contact = db.session.scalars(select(CampaignContact).where(
            CampaignContact.campaign_id == form.campaign.data.id, CampaignContact.number == number)).first()
        return contact

    @expose("/import/", methods=("GET", "POST"))
    def import_view(self) -> Any:
        form = ImportForm()
        form.campaign.choices = [(c.id, c.name) for c in db.session.scalars(select(Campaign).order_by(Campaign.name))]
        back = url_for(".index_view")
        errors: list[str] = []
        notices: list[str] = []
        if form.validate_on_submit():
            data = form.file.data.read(MAX_IMPORT_BYTES + 1)
            filename = form.file.data.filename or ""
            if len(data) > MAX_IMPORT_BYTES:
                errors = [gettext("The file is larger than %(mb)s MB.", mb=MAX_IMPORT_BYTES // (1024 * 1024))]
            else:
                parsed = read_contact_file(data, filename)
                if parsed.problem_count:
                    errors = problem_report(parsed)
                elif not parsed.rows:
                    errors = [gettext("The file has no contacts.")]
                else:
                    notices = [gettext("line %(line)s: %(number)s merged into line %(first)s", line=line,
                                       number=number, first=first) for line, first, number in parsed.merged]
                    report = committed(lambda: import_contacts(
                        db.session, form.campaign.data, parsed.rows, by=current_user.username,
                        user_id=current_user.id, remote_addr=(request.remote_addr or "")[:45] or None,
                        merged_in_file=parsed.merged_count))
                    if report is not None:
                        flash(gettext("Imported %(n)s contact(s), %(s)s on the do-not-call list (skipped).",
                                      n=report.added, s=report.skipped.get("do_not_call", 0)), "success")
                        if report.skipped.get("blacklisted"):
                            flash(gettext("%(n)s number(s) of blacklisted customers imported as skipped.",
                                          n=report.skipped["blacklisted"]), "info")
                        merged = parsed.merged_count + report.merged
                        if merged:
                            flash(gettext("%(n)s duplicate number(s) merged.", n=merged), "info")
                            for notice in notices:
                                flash(notice, "info")
                        return redirect(url_for(".index_view"))
            flash(gettext("Nothing imported: the file has errors."), "error")
        elif request.method == "POST":
            flash(gettext("Nothing imported: the file has errors."), "error")
        status = 400 if request.method == "POST" else 200
        return self.render("campaigns/import.html", form=form, errors=errors, return_url=back,
                           title=gettext("Import campaign contacts from CSV")), status


class DoNotCallView(SecureModelView):
    column_list = ("number", "reason", "added_by", "added_at", "expires_at")
    column_formatters = {"added_at": fmt_datetime, "expires_at": fmt_datetime}
    column_searchable_list = ("number", "reason")
    column_sortable_list = ("number", "added_at")
    column_default_sort = ("added_at", True)
    column_display_pk = True
    form_columns = ("number", "reason", "expires_at")
    form_args = {"number": {"filters": [e164_filter]}}
    column_labels = {"added_by": _l("Added by"), "added_at": _l("Added"), "expires_at": _l("Expires")}

    def prepare_model(self, form: Any, model: Any, is_created: bool) -> None:
        if is_created:
            model.added_by = current_user.username


__all__ = ["CampaignContactView", "DoNotCallView", "committed", "problem_text"]
