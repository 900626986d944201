"""Alembic migrations: upgrade, downgrade to nothing and upgrade again on both backends, matching the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import crm_core.models  # noqa: F401
from crm_core import migrate
from crm_core.db import Base, make_engine


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_base_upgrade_round_trip(fresh_db_url):
    assert migrate.current(fresh_db_url) is None
    migrate.upgrade(fresh_db_url)
    assert migrate.current(fresh_db_url) == migrate.head()
    assert _tables(fresh_db_url) == set(Base.metadata.tables)
    migrate.downgrade(fresh_db_url, "base")
    assert migrate.current(fresh_db_url) is None
    assert _tables(fresh_db_url) == set()
    migrate.upgrade(fresh_db_url)
    assert _tables(fresh_db_url) == set(Base.metadata.tables)


def test_migrated_schema_matches_the_models_exactly(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_every_constraint_and_index_is_named():
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            assert constraint.name, f"unnamed constraint on {table.name}"
        for index in table.indexes:
            assert index.name, f"unnamed index on {table.name}"
