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

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
_SHARED = "admin.reports.shared"


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


@contextmanager
def shared_results(session: Any) -> Iterator[None]:
    """Within the block, reports that aggregate the same rows (e.g. the CDR service figures behind
    the hourly volume, the queue summary and the daily trend) run that aggregate once on ``session``.

    The reports page wraps its run of every report in this; each report called on its own (CSV,
    tests) computes its own figures as before. Nothing outlives the block.
    """
    outer = _SHARED in session.info
    if not outer:
        session.info[_SHARED] = {}
    try:
        yield
    finally:
        if not outer:
            session.info.pop(_SHARED, None)


def shared(session: Any, key: Any, compute: Callable[[], T]) -> T:
    """``compute()``, or its result from earlier in the same :func:`shared_results` block."""
    cache = session.info.get(_SHARED)
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]
