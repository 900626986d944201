"""Spreadsheet-safe export cells: text from the record is never run as a formula in Excel or LibreOffice.

A customer name, a note or a caller's number is typed by whoever fills the
record (a caller's ANI, a web form, a CSV import). Written to CSV or xlsx as
is, ``=HYPERLINK("http://…")`` or ``=cmd|' /C calc'!A0`` becomes a live
formula when an admin opens the export. Every export cell goes through
:func:`spreadsheet_safe`: text starting with a formula character gets a
leading apostrophe, so the spreadsheet shows it as the text it is (OWASP's
advice for CSV injection). Plain numbers (``-12.50``, ``+8613800138000``)
are left alone: they are not formulas and stay sortable; so is a lone ``-``
(the reports' "none").

Model views get this through ``SecureModelView.get_export_value`` (CSV and
xlsx alike); custom CSV views pass each row through :func:`safe_row`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

#: First characters that make a spreadsheet read a cell as a formula (ASCII and their full-width forms).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` for an export cell: text that would start a formula gets a leading apostrophe."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if not isinstance(value, str):
        return value
    if len(value) > 1 and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.match(value):
        return "'" + str(value)
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """A row of export cells, each through :func:`spreadsheet_safe`."""
    return [spreadsheet_safe(v) for v in values]
