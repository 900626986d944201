"""Report queries for the back office: every figure aggregated in SQL, on SQLite and PostgreSQL alike.

``period`` parses and validates the date range a report page asks for,
``sql`` holds the small dialect-aware helpers (time buckets, seconds between
two timestamps, GREATEST/LEAST), and ``calls``, ``agents`` and ``business``
hold one function per report. Each report function takes a session and a
:class:`~admin.reports.period.Period` and returns a :class:`Table` (column
names and rows of plain values), which the page draws as a chart and a table
and the CSV export writes as is. Rows are never loaded one by one: each
function issues a handful of GROUP BY queries over indexed columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Table:
    """A report's result: a title key, column keys and rows of plain values (CSV-ready)."""

    name: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)

    def column(self, key: str) -> list[Any]:
        """The values of one column, top to bottom."""
        index = self.columns.index(key)
        return [row[index] for row in self.rows]
