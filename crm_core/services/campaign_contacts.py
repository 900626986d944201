"""Campaign contacts from an uploaded file (CSV in UTF-8 or GB18030/GBK, or xlsx) or a segment, merged and marked.

Reading a file is all-or-nothing: any malformed line (wrong number of
fields, a number that cannot be E.164, an unknown time zone) is reported
with its line number and nothing is imported; the caller shows the report.
Chinese Excel saves "CSV" in GBK (GB18030 is its superset), so an upload
that is not UTF-8 (with or without a BOM) is read as GB18030; UTF-16 with a
BOM ("Unicode text") is read too. A number given twice is merged into its
first line (later fields fill the gaps) and the merge is reported.

Adding contacts merges numbers already in the campaign the same way, and
marks numbers on the do-not-call list or owned by a blacklisted customer as
``skipped`` with the reason: every row given ends up in the campaign or in
the report, none is dropped silently.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crm_core.campaign_rules import validate_timezone
from crm_core.enums import ContactStatus
from crm_core.exceptions import InvalidInput
from crm_core.models import Campaign, CampaignContact, Customer, CustomerPhone, DoNotCall
from crm_core.phones import DEFAULT_REGION, try_e164
from crm_core.services.audit import record_audit
from crm_core.types import utcnow

MAX_IMPORT_ROWS = 50_000
#: At most this many problems and merges are kept for the report (the counts say how many there were).
MAX_LISTED = 20
NUMBER_COLUMNS = ("number", "phone", "mobile", "电话", "手机", "号码", "手机号")
TIMEZONE_COLUMNS = ("timezone", "time_zone", "tz", "时区")
SKIP_DO_NOT_CALL = "do_not_call"
SKIP_BLACKLISTED = "blacklisted"
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # the old binary .xls


@dataclass(frozen=True)
class ContactRow:
    """One contact to add: E.164 number, merge fields, where it came from."""

    number: str
    data: dict[str, str]
    line: int | None = None
    customer_id: int | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class Problem:
    """One bad line: a stable code the UI translates, and its parameters."""

    line: int
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ParsedFile:
    """The contacts of a file, or the lines that stop it; plus how it was read and what was merged."""

    rows: list[ContactRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    merged: list[tuple[int, int, str]] = field(default_factory=list)  # (line, into line, number)
    merged_count: int = 0
    encoding: str = ""
    last_line: int = 0

    def problem(self, line: int, code: str, **params: Any) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED:
            self.problems.append(Problem(line, code, params))


@dataclass
class ImportReport:
    """What adding contacts did: added, merged into existing contacts, skipped with each reason."""

    added: int = 0
    merged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {"added": self.added, "merged": self.merged, **{f"skipped_{k}": v for k, v in self.skipped.items()}}


# -- reading files ---------------------------------------------------------------------------------------


def decode_text(data: bytes) -> tuple[str, str] | None:
    """(text, encoding) of a CSV upload: UTF-16/UTF-8 by BOM, UTF-8, else GB18030; None if none fits."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            return None
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            return None
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return None


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)  # the header decides: comma unless it holds more ; or tabs
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    for row in reader:
        yield reader.line_num, row


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps a mobile number as 13812345678.0
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        for index, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell(v) for v in row]
            while cells and cells[-1] == "":
                cells.pop()  # openpyxl pads rows to the sheet's width
            yield index, cells
    finally:
        book.close()


def read_contact_file(data: bytes, filename: str = "", *, region: str = DEFAULT_REGION,
                      max_rows: int = MAX_IMPORT_ROWS) -> ParsedFile:
    """Read an upload (CSV in UTF-8/GB18030/UTF-16, or xlsx) with a header holding a number column."""
    out = ParsedFile()
    rows: Iterable[tuple[int, list[str]]]
    if data.startswith(_OLE):
        out.problem(1, "old_excel")
        return out
    if data.startswith(_ZIP) or filename.lower().endswith(".xlsx"):
        out.encoding = "xlsx"
        rows = _xlsx_rows(data)
    else:
        decoded = decode_text(data)
        if decoded is None:
            out.problem(1, "not_text")
            return out
        text, out.encoding = decoded
        rows = _csv_rows(text)
    try:
        _parse_rows(iter(rows), out, region, max_rows, pad=out.encoding == "xlsx")
    except csv.Error as exc:
        out.problem(out.last_line + 1, "csv_error", message=str(exc))
    except Exception as exc:  # openpyxl: not a workbook, damaged zip, ...
        if out.encoding != "xlsx":
            raise
        out.problem(1, "bad_xlsx", message=str(exc)[:200])
    return out


def _parse_rows(rows: Iterator[tuple[int, list[str]]], out: ParsedFile, region: str, max_rows: int, *,
                pad: bool = False) -> None:
    """``pad``: a spreadsheet row may end early (empty cells); a CSV line must have every field."""
    header_line, header = next(((n, r) for n, r in rows if any(c.strip() for c in r)), (1, []))
    names = [h.strip().lower() for h in header]
    if not names:
        out.problem(1, "empty")
        return
    number_index = next((names.index(c) for c in NUMBER_COLUMNS if c in names), None)
    if number_index is None:
        out.problem(header_line, "no_number_column")
        return
    tz_index = next((names.index(c) for c in TIMEZONE_COLUMNS if c in names), None)
    first_line: dict[str, int] = {}
    by_number: dict[str, int] = {}  # number -> index in out.rows
    for line, row in rows:
        out.last_line = line
        if not any(cell.strip() for cell in row):
            continue
        if len(out.rows) + out.problem_count >= max_rows:
            out.problem(line, "too_many_rows", limit=max_rows)
            return
        if pad and len(row) < len(names):
            row = row + [""] * (len(names) - len(row))
        if len(row) != len(names):
            out.problem(line, "field_count", found=len(row), expected=len(names))
            continue
        raw = row[number_index].strip()
        number = try_e164(raw, region) if raw else None
        if number is None:
            out.problem(line, "bad_number", raw=raw[:40] or '""')
            continue
        timezone = row[tz_index].strip() if tz_index is not None else ""
        if timezone:
            try:
                validate_timezone(timezone)
            except InvalidInput:
                out.problem(line, "bad_timezone", raw=timezone[:40])
                continue
        extra = {h: v.strip() for i, (h, v) in enumerate(zip(names, row))
                 if h and i not in (number_index, tz_index) and v.strip()}
        if number in by_number:
            index = by_number[number]
            kept = out.rows[index]
            out.rows[index] = ContactRow(kept.number, {**extra, **kept.data}, kept.line,
                                         timezone=kept.timezone or timezone or None)
            out.merged_count += 1
            if len(out.merged) < MAX_LISTED:
                out.merged.append((line, first_line[number], number))
            continue
        first_line[number] = line
        by_number[number] = len(out.rows)
        out.rows.append(ContactRow(number, extra, line, timezone=timezone or None))


# -- adding contacts ---------------------------------------------------------------------------------------


def blocked_numbers(session: Session, numbers: list[str], *, now: dt.datetime | None = None) -> dict[str, str]:
    """Which of ``numbers`` may not be called now, with the reason (do-not-call list, blacklisted owner)."""
    now = now or utcnow()
    out: dict[str, str] = {}
    for chunk in (numbers[i:i + 500] for i in range(0, len(numbers), 500)):
        for number in session.scalars(select(DoNotCall.number).where(
                DoNotCall.number.in_(chunk), or_(DoNotCall.expires_at.is_(None), DoNotCall.expires_at > now))):
            out[number] = SKIP_DO_NOT_CALL
        owned_by_blacklisted = (select(CustomerPhone.e164).join(Customer, Customer.id == CustomerPhone.customer_id)
                                .where(CustomerPhone.e164.in_(chunk), Customer.is_blacklisted.is_(True)))
        for number in session.scalars(owned_by_blacklisted):
            out.setdefault(number, SKIP_BLACKLISTED)
    return out


def add_contacts(session: Session, campaign_id: int, rows: list[ContactRow], *,
                 now: dt.datetime | None = None) -> ImportReport:
    """Add rows to a campaign: numbers already there are merged, blocked ones are added as skipped."""
    campaign = session.scalars(select(Campaign).where(Campaign.id == campaign_id).with_for_update()).first()
    if campaign is None:
        raise InvalidInput(f"no campaign {campaign_id}", campaign_id=campaign_id)
    if campaign.status in ("completed", "stopped"):
        raise InvalidInput(f"campaign {campaign.name} is {campaign.status}: no contacts can be added")
    report = ImportReport()
    numbers = list(dict.fromkeys(r.number for r in rows))
    existing: dict[str, CampaignContact] = {}
    owners: dict[str, int] = {}
    for chunk in (numbers[i:i + 500] for i in range(0, len(numbers), 500)):
        for contact in session.scalars(select(CampaignContact).where(CampaignContact.campaign_id == campaign_id,
                                                                      CampaignContact.number.in_(chunk))):
            existing.setdefault(contact.number, contact)
        for e164, customer_id in session.execute(select(CustomerPhone.e164, CustomerPhone.customer_id)
                                                 .where(CustomerPhone.e164.in_(chunk))
                                                 .order_by(CustomerPhone.is_primary.desc(), CustomerPhone.id)):
            owners.setdefault(e164, customer_id)
    blocked = blocked_numbers(session, numbers, now=now)
    for row in rows:
        contact = existing.get(row.number)
        if contact is not None:
            contact.data = {**row.data, **(contact.data or {})} or None
            contact.timezone = contact.timezone or row.timezone
            contact.customer_id = contact.customer_id or row.customer_id or owners.get(row.number)
            report.merged += 1
            continue
        reason = blocked.get(row.number)
        contact = CampaignContact(
            campaign_id=campaign_id, number=row.number, data=row.data or None, timezone=row.timezone,
            customer_id=row.customer_id or owners.get(row.number),
            status=(ContactStatus.SKIPPED if reason else ContactStatus.PENDING).value,
            skip_reason=reason, last_result=reason)
        session.add(contact)
        existing[row.number] = contact
        if reason:
            report.skipped[reason] = report.skipped.get(reason, 0) + 1
        report.added += 1
    session.flush()
    return report


def import_contacts(session: Session, campaign_id: int, rows: list[ContactRow], *, by: str,
                    user_id: int | None = None, remote_addr: str | None = None, source: str = "file",
                    merged_in_file: int = 0) -> ImportReport:
    """``add_contacts`` for a person's upload, audited as one ``import`` entry."""
    report = add_contacts(session, campaign_id, rows)
    record_audit(session, "import", CampaignContact.__tablename__, None,
                 {"campaign_id": campaign_id, "source": source, "contacts": len(rows),
                  "merged_in_file": merged_in_file, **report.counts()},
                 user_id=user_id, username=by, remote_addr=remote_addr)
    return report
