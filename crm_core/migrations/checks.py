"""CHECK constraints changed in place by migrations, on SQLite and PostgreSQL alike.

Tables that other tables reference (campaigns, campaign attempts) are never
rebuilt on SQLite: dropping the old table would cascade-delete the rows that
point at it. A constraint-only change is written into SQLite's stored table
definition instead, SQLite's documented procedure for that case; PostgreSQL
drops and re-creates the named constraint.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from alembic import op


def in_list(column: str, values: Sequence[str]) -> str:
    """``column IN ('a', 'b')``: the condition of a CHECK that keeps a column within an enum's values."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def sqlite_rewrite(table: str, edit: Callable[[str], str]) -> None:
    """Change SQLite's stored table definition in place: constraint-only changes, no rebuild, no cascade."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (edit(sql), table))
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def with_checks(sql: str, checks: dict[str, str]) -> str:
    """``sql`` (a CREATE TABLE) with each named CHECK's condition replaced; a name not found is an error."""
    for name, condition in checks.items():
        pattern = re.compile(rf"CONSTRAINT {name} CHECK \((?:[^()]|\([^()]*\))*\)")
        if not pattern.search(sql):
            raise RuntimeError(f"constraint {name} not found in the stored table definition")
        sql = pattern.sub(lambda _m: f"CONSTRAINT {name} CHECK ({condition})", sql, count=1)
    return sql


def replace_checks(table: str, checks: dict[str, str]) -> None:
    """Give each named CHECK of ``table`` its new condition."""
    if op.get_bind().dialect.name == "sqlite":
        sqlite_rewrite(table, lambda sql: with_checks(sql, checks))
        return
    for name, condition in checks.items():
        op.drop_constraint(op.f(name), table, type_="check")
        op.create_check_constraint(op.f(name), table, condition)
