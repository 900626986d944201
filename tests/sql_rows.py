"""Running plain SQL on a test database in one transaction (the migration tests seed and read with it)."""

from __future__ import annotations

from sqlalchemy import text

from crm_core.db import make_engine


def run_sql(url: str, *statements: str) -> list:
    """Execute ``statements`` in one transaction; the rows of the last one that returns rows."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            result = []
            for sql in statements:
                rows = connection.execute(text(sql))
                result = rows.all() if rows.returns_rows else result
            return result
    finally:
        engine.dispose()
