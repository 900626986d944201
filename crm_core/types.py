"""Column types shared by every model, so money, time and text look the same everywhere.

Timestamps are always timezone-aware UTC in Python: PostgreSQL stores
``timestamptz``; SQLite has no time zones, so ``UTCDateTime`` stores naive UTC
text and hands back aware datetimes. Money is ``Numeric(12, 2)`` as ``Decimal``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from sqlalchemy import JSON, DateTime, Integer, Numeric, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import mapped_column
from sqlalchemy.types import TypeDecorator

UTC = dt.timezone.utc


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> dt.datetime:
    """Now as an aware UTC datetime (for callers that need it in Python)."""
    return dt.datetime.now(UTC)


#: JSON that is JSONB (indexable, compact) on PostgreSQL.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")

Money = Numeric(12, 2, asdecimal=True)

intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
money = Annotated[Decimal, mapped_column(Money)]
created_at = Annotated[dt.datetime, mapped_column(UTCDateTime(), server_default=func.now(), nullable=False)]
updated_at = Annotated[
    dt.datetime,
    mapped_column(UTCDateTime(), server_default=func.now(), onupdate=func.now(), nullable=False),
]
str20 = Annotated[str, mapped_column(String(20))]
str40 = Annotated[str, mapped_column(String(40))]
str100 = Annotated[str, mapped_column(String(100))]
str255 = Annotated[str, mapped_column(String(255))]
json_doc = Annotated[dict[str, Any], mapped_column(JSONDocument)]
