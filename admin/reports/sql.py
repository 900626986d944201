"""Dialect-aware SQL pieces the reports share: local time buckets, seconds between timestamps, GREATEST/LEAST.

SQLite stores our timestamps as naive UTC text (``crm_core.types.UTCDateTime``)
and has ``strftime``/``date``/``julianday``; PostgreSQL has ``timestamptz``,
``AT TIME ZONE``, ``to_char`` and ``EXTRACT(EPOCH ...)``. Each helper returns
an expression with the same meaning (and the same Python type) on both, so a
report is one query for both databases. The UTC offset is an integer the app
configures, never user input, and is rendered into the SQL as such.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, Integer, Numeric, case, cast, extract, func, literal, literal_column
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from crm_core.types import UTCDateTime


def dialect_of(session: Session) -> str:
    """'sqlite' or 'postgresql' (the dialect the session's queries run on)."""
    return session.get_bind().dialect.name


def at(value: dt.datetime) -> ColumnElement[Any]:
    """An aware datetime as a bound SQL value stored the way our columns are (naive UTC text on SQLite)."""
    return literal(value, UTCDateTime())


def _pg_local(column: Any, offset_minutes: int) -> ColumnElement[Any]:
    return func.timezone(literal_column("'UTC'"), column) + literal_column(f"interval '{int(offset_minutes)} minutes'")


def local_hour(dialect: str, column: Any, offset_minutes: int) -> ColumnElement[int]:
    """The local hour of day (0-23) of a timestamp column."""
    if dialect == "sqlite":
        return cast(func.strftime("%H", column, f"{int(offset_minutes):+d} minutes"), Integer)
    return cast(extract("hour", _pg_local(column, offset_minutes)), Integer)


def local_day(dialect: str, column: Any, offset_minutes: int) -> ColumnElement[str]:
    """The local calendar day of a timestamp column as 'YYYY-MM-DD' text."""
    if dialect == "sqlite":
        return func.date(column, f"{int(offset_minutes):+d} minutes")
    return func.to_char(_pg_local(column, offset_minutes), literal_column("'YYYY-MM-DD'"))


def epoch(dialect: str, column: Any) -> ColumnElement[float]:
    """A timestamp column as seconds since 1970-01-01 UTC (float), for arithmetic over many rows."""
    if dialect == "sqlite":
        return (func.julianday(column) - 2440587.5) * 86400.0
    return _pg_epoch(column)


def _pg_epoch(value: Any) -> ColumnElement[float]:
    # date_part() is double precision arithmetic on the stored microseconds: the same value as
    # CAST(EXTRACT(EPOCH ...) AS FLOAT) (both correctly rounded), without EXTRACT's per-row numeric.
    # Constants are written into the SQL, not bound: psycopg prepares a statement run five times,
    # and in PostgreSQL's generic plan a bound field name or factor is a per-row parameter.
    return func.date_part(literal_column("'epoch'"), value, type_=Float)


def _number(value: float) -> ColumnElement[Any]:
    """A numeric constant written into the SQL (see :func:`_pg_epoch`)."""
    return literal_column(repr(value), Float if isinstance(value, float) else Integer)


def ms_between(dialect: str, earlier: Any, later: Any) -> ColumnElement[float]:
    """``later - earlier`` in whole milliseconds (rounded half away from zero; NULL when either is NULL).

    The integer form of :func:`seconds_between` (``seconds_between * 1000`` exactly): sums of these
    are exact on both backends, so per-group totals add up to the same figure as one big group. On
    PostgreSQL it is double precision arithmetic on the interval's microseconds (no numeric per row);
    on SQLite, julianday's ~50 µs of noise is rounded away as before.
    """
    if dialect == "sqlite":
        return cast(func.round((func.julianday(later) - func.julianday(earlier)) * 86400000.0), Integer)
    micros = func.round(_pg_epoch(later - earlier) * _number(1000000.0), type_=Float) / _number(1000.0)
    return case((later >= earlier, func.floor(micros + _number(0.5), type_=Float)),
                else_=func.ceil(micros - _number(0.5), type_=Float))


def local_hour_number(dialect: str, column: Any, offset_minutes: int) -> ColumnElement[Any]:
    """Whole local hours since 1970-01-01 00:00 local time: ``// 24`` is the local day, ``% 24`` the hour.

    One integer key for both the hour-of-day and the day buckets (no per-row text formatting or time
    zone conversion); :func:`hour_number_day` turns it back into a date.
    """
    seconds = _number(int(offset_minutes) * 60)
    if dialect == "sqlite":
        return (cast(func.strftime("%s", column), Integer) + seconds).self_group().op("/")(_number(3600))
    return func.floor((_pg_epoch(column) + seconds) / _number(3600.0), type_=Float)


def hour_number_day(hour_number: Any) -> dt.date:
    """The local date of a :func:`local_hour_number` value."""
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(hour_number) // 24)


def raw_seconds_between(dialect: str, earlier: Any, later: Any) -> ColumnElement[float]:
    """``later - earlier`` in seconds as a float (cheapest form: sum these, round the total)."""
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return _pg_epoch(later - earlier)


def seconds_between(dialect: str, earlier: Any, later: Any) -> ColumnElement[float]:
    """``later - earlier`` in seconds, rounded to the millisecond (NULL when either is NULL).

    Rounded so that comparisons with a target are exact: SQLite's julianday
    carries ~50 µs of floating-point noise, which would move a call answered
    in exactly 20 s out of a 20 s service level.
    """
    return cast(func.round(cast(raw_seconds_between(dialect, earlier, later), Numeric(18, 6)), 3), Float)


def greatest(dialect: str, *values: Any) -> ColumnElement[Any]:
    """The largest of the values (SQLite's scalar max())."""
    return (func.max if dialect == "sqlite" else func.greatest)(*values)


def least(dialect: str, *values: Any) -> ColumnElement[Any]:
    """The smallest of the values (SQLite's scalar min())."""
    return (func.min if dialect == "sqlite" else func.least)(*values)


def ratio(part: Any, whole: Any) -> float | None:
    """part / whole as a float, None when there is nothing to divide by."""
    return None if not whole else float(part or 0) / float(whole)


def rounded(value: Any, digits: int = 1) -> float | None:
    """A float rounded for display and CSV (None stays None)."""
    return None if value is None else round(float(value), digits)
