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


def sqlite_intact(url: str) -> bool:
    """A SQLite file passes ``PRAGMA integrity_check`` (migrations that rewrite a stored table definition must
    leave it so); any other database: True."""
    engine = make_engine(url)
    try:
        if engine.dialect.name != "sqlite":
            return True
        with engine.connect() as connection:
            return connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        engine.dispose()
