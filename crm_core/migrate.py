"""Schema migrations run from Python: ``upgrade``, ``downgrade``, ``current``, with no alembic.ini.

The migration scripts ship inside the package (``crm_core/migrations``), so an
installed Hotline can migrate its database from anywhere.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from crm_core.db import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An alembic Config pointing at the packaged scripts (and at ``url`` for the CLI fallback)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _run(url: str, action: str, rev: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            getattr(command, action)(config, rev)
    finally:
        engine.dispose()


def upgrade(url: str, rev: str = "head") -> None:
    """Bring the database at ``url`` up to ``rev`` (default: the newest schema)."""
    _run(url, "upgrade", rev)


def downgrade(url: str, rev: str) -> None:
    """Take the database at ``url`` back to ``rev`` (``base`` drops everything)."""
    _run(url, "downgrade", rev)


def current(url: str) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head() -> str:
    """The newest revision the packaged scripts know."""
    head_rev = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head_rev is not None
    return head_rev


class SchemaNotCurrent(RuntimeError):
    """The database is not at the schema this code needs (never migrated, behind, or from a newer version)."""

    def __init__(self, current: str | None, head: str, known: bool) -> None:
        self.current, self.head, self.known = current, head, known
        state = ("has no Hotline schema" if current is None else
                 f"is at schema revision {current}" + ("" if known else ", which this version does not know"))
        super().__init__(f"the database {state}; this version needs {head}")


def require_head(url: str) -> None:
    """Raise SchemaNotCurrent unless the database at ``url`` is at the newest revision the scripts know."""
    revision, newest = current(url), head()
    if revision == newest:
        return
    known = True
    if revision is not None:
        try:
            known = ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
        except Exception:  # alembic's "no such revision"
            known = False
    raise SchemaNotCurrent(revision, newest, known)
