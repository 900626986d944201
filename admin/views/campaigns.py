"""Outbound campaigns (admins, campaign managers): campaigns, their contacts with CSV import, the do-not-call list.

Contacts import from a CSV file with a header row holding ``number`` (the
other columns become the contact's merge fields for the script). The file is
checked whole before anything is written: any malformed line (a wrong number
of fields, a number that cannot be E.164, a duplicate) is listed with its line
number and nothing is imported. Numbers on the do-not-call list are imported
as ``skipped`` so the dialer never rings them and the list shows why.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import SelectField
from wtforms.validators import NumberRange, Optional

from admin import audit
from admin.extensions import db
from admin.forms import e164_filter, enum_choices
from admin.i18n import gettext, lazy_gettext as _l
from admin.views.base import SecureModelView
from admin.views.formatting import fmt_datetime
from crm_core.enums import CampaignMode, CampaignStatus, ContactStatus
from crm_core.models import Campaign, CampaignContact, CustomerPhone, DoNotCall
from crm_core.phones import try_e164

#: The largest file and the most contacts one import takes.
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 50_000
#: At most this many bad lines are listed (the count says how many there were).
MAX_LISTED_ERRORS = 20


class CampaignView(SecureModelView):
    column_list = ("name", "mode", "status", "queue_id", "ivr_script", "caller_id", "starts_at", "ends_at",
                   "created_by")
    column_formatters = {"starts_at": fmt_datetime, "ends_at": fmt_datetime}
    column_searchable_list = ("name",)
    column_filters = ("mode", "status")
    column_sortable_list = ("name", "status", "starts_at")
    column_default_sort = ("id", True)
    form_columns = ("name", "mode", "status", "queue_id", "ivr_script", "caller_id", "calling_hours_start",
                    "calling_hours_end", "max_attempts", "retry_minutes", "abandon_cap_percent", "starts_at",
                    "ends_at")
    form_choices = {"mode": enum_choices(CampaignMode), "status": enum_choices(CampaignStatus)}
    form_args = {
        "max_attempts": {"validators": [NumberRange(min=1, max=20)]},
        "retry_minutes": {"validators": [NumberRange(min=0)]},
        "abandon_cap_percent": {"validators": [Optional(), NumberRange(min=0, max=100)]},
        "caller_id": {"filters": [e164_filter]},
    }
    column_labels = {"queue_id": _l("Queue id"), "ivr_script": _l("IVR script"), "caller_id": _l("Caller ID"),
                     "calling_hours_start": _l("Calling hours from"), "calling_hours_end": _l("Calling hours to"),
                     "max_attempts": _l("Max attempts"), "retry_minutes": _l("Retry after (minutes)"),
                     "abandon_cap_percent": _l("Abandon cap %")}

    def prepare_model(self, form: Any, model: Any, is_created: bool) -> None:
        if is_created and not model.created_by:
            from flask_login import current_user

            model.created_by = current_user.username
        if model.starts_at and model.ends_at and model.ends_at <= model.starts_at:
            from crm_core.exceptions import InvalidInput

            raise InvalidInput("a campaign must end after it starts")


class ImportForm(FlaskForm):
    campaign = SelectField(_l("Campaign"), coerce=int)
    file = FileField(_l("CSV file"), validators=[FileRequired()])


@dataclass
class ParsedContacts:
    """The contacts of an import file, or the lines that stop it."""

    rows: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0

    def error(self, line: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(gettext("line %(line)s: %(message)s", line=line, message=message))


def parse_contacts(data: bytes) -> ParsedContacts:
    """Read an import file (UTF-8, BOM allowed; comma, semicolon or tab): contacts, or every bad line."""
    out = ParsedContacts()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        out.error(1, gettext("the file is not UTF-8 text"))
        return out
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)  # the header decides: comma unless it holds more ; or tabs
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        out.error(1, gettext("the file is empty"))
        return out
    except csv.Error as exc:
        out.error(1, str(exc))
        return out
    if "number" not in header:
        out.error(1, gettext("the header has no 'number' column"))
        return out
    index = header.index("number")
    seen: dict[str, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(out.rows) + out.error_count >= MAX_IMPORT_ROWS:
                out.error(line, gettext("more than %(n)s contacts in one file", n=MAX_IMPORT_ROWS))
                break
            if len(row) != len(header):
                out.error(line, gettext("%(found)s fields, the header has %(expected)s",
                                        found=len(row), expected=len(header)))
                continue
            raw = row[index].strip()
            number = try_e164(raw) if raw else None
            if number is None:
                out.error(line, gettext("%(raw)s is not a phone number", raw=raw[:40] or '""'))
                continue
            if number in seen:
                out.error(line, gettext("%(number)s is already on line %(first)s", number=number,
                                        first=seen[number]))
                continue
            seen[number] = line
            extra = {h: v.strip() for h, v in zip(header, row) if h and h != "number" and v.strip()}
            out.rows.append((number, extra))
    except csv.Error as exc:
        out.error(reader.line_num, str(exc))
    return out


class CampaignContactView(SecureModelView):
    column_list = ("campaign", "number", "customer_id", "status", "attempts", "next_attempt_at",
                   "last_attempt_at", "last_result")
    column_formatters = {"campaign": lambda v, c, m, n: m.campaign.name, "next_attempt_at": fmt_datetime,
                         "last_attempt_at": fmt_datetime}
    column_formatters_export = {"campaign": lambda v, c, m, n: m.campaign.name}
    column_searchable_list = ("number",)
    column_filters = ("campaign.name", "status", "last_result")
    column_sortable_list = ("number", "status", "next_attempt_at")
    column_default_sort = ("id", True)
    form_columns = ("campaign", "number", "status", "next_attempt_at")
    form_choices = {"status": enum_choices(ContactStatus)}
    form_args = {"number": {"filters": [e164_filter]}}
    column_labels = {"customer_id": _l("Customer id"), "next_attempt_at": _l("Next attempt"),
                     "last_attempt_at": _l("Last attempt"), "last_result": _l("Last result")}
    list_template = "campaigns/contacts_list.html"
    method_permissions = {"import_view": "create"}

    def get_query(self) -> Any:
        from sqlalchemy.orm import joinedload

        return super().get_query().options(joinedload(CampaignContact.campaign))

    @expose("/import/", methods=("GET", "POST"))
    def import_view(self) -> Any:
        form = ImportForm()
        form.campaign.choices = [(c.id, c.name) for c in db.session.scalars(select(Campaign).order_by(Campaign.name))]
        back = url_for(".index_view")
        errors: list[str] = []
        if form.validate_on_submit():
            data = form.file.data.read(MAX_IMPORT_BYTES + 1)
            if len(data) > MAX_IMPORT_BYTES:
                errors = [gettext("The file is larger than %(mb)s MB.", mb=MAX_IMPORT_BYTES // (1024 * 1024))]
            else:
                parsed = parse_contacts(data)
                if parsed.error_count:
                    errors = parsed.errors
                    if parsed.error_count > len(parsed.errors):
                        errors.append(gettext("… and %(n)s more.", n=parsed.error_count - len(parsed.errors)))
                elif not parsed.rows:
                    errors = [gettext("The file has no contacts.")]
                else:
                    imported, skipped = self._import(form.campaign.data, parsed.rows)
                    flash(gettext("Imported %(n)s contact(s), %(s)s on the do-not-call list (skipped).",
                                  n=imported, s=skipped), "success")
                    return redirect(url_for(".index_view"))
            flash(gettext("Nothing imported: the file has errors."), "error")
        elif request.method == "POST":
            flash(gettext("Nothing imported: the file has errors."), "error")
        status = 400 if request.method == "POST" else 200
        return self.render("campaigns/import.html", form=form, errors=errors, return_url=back,
                           title=gettext("Import campaign contacts from CSV")), status

    def _import(self, campaign_id: int, rows: list[tuple[str, dict[str, str]]]) -> tuple[int, int]:
        numbers = [number for number, _ in rows]
        blocked: set[str] = set()
        owners: dict[str, int] = {}
        for chunk in (numbers[i:i + 500] for i in range(0, len(numbers), 500)):
            blocked |= set(db.session.scalars(select(DoNotCall.number).where(DoNotCall.number.in_(chunk))))
            owners.update(db.session.execute(select(CustomerPhone.e164, CustomerPhone.customer_id)
                                             .where(CustomerPhone.e164.in_(chunk))).all())
        db.session.add_all(
            CampaignContact(campaign_id=campaign_id, number=number, customer_id=owners.get(number), data=extra or None,
                            status=(ContactStatus.SKIPPED if number in blocked else ContactStatus.PENDING).value,
                            last_result="do_not_call" if number in blocked else None)
            for number, extra in rows)
        audit.record("import", CampaignContact.__tablename__, None,
                     {"campaign_id": campaign_id, "contacts": len(rows), "do_not_call": len(blocked)})
        db.session.commit()
        return len(rows), len(blocked)


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
            from flask_login import current_user

            model.added_by = current_user.username
