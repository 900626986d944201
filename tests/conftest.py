"""Shared fixtures: real databases (SQLite and PostgreSQL), migrated schema, rolled-back sessions, factories.

``db_url`` / ``engine`` are parametrised over both backends; the PostgreSQL
one needs ``HOTLINE_TEST_PG_URL`` (a role allowed to CREATE DATABASE) and is
skipped without it. Every test run works in its own throw-away databases, so
several people can run the suite against one server at once.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

# ``import factories`` works whatever pytest's import mode is.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

PG_ENV = "HOTLINE_TEST_PG_URL"
PG_SKIP_REASON = (f"PostgreSQL tests: set {PG_ENV} to a role that may CREATE DATABASE, "
                  "e.g. postgresql+psycopg://hotline:hotline@127.0.0.1:5432/hotline_test")

#: Parameters for anything that runs once per database backend.
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _pg_url() -> str | None:
    return os.environ.get(PG_ENV) or None


@pytest.fixture(scope="session")
def database_maker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """Make a new empty database for a backend and return its URL; PostgreSQL ones are dropped at the end."""
    created: list[str] = []
    base = _pg_url()

    def make(backend: str) -> str:
        if backend == "sqlite":
            path: Path = tmp_path_factory.mktemp("sqlite") / "hotline.db"
            return f"sqlite:///{path}"
        if base is None:
            pytest.skip(PG_SKIP_REASON)
        name = f"hotline_t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        created.append(name)
        return make_url(base).set(database=name).render_as_string(hide_password=False)

    yield make
    if created and base is not None:
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                for name in created:
                    _drop_database(connection, name)
        finally:
            admin.dispose()


def _drop_database(connection: Any, name: str, attempts: int = 40) -> None:
    """Drop a test database; an autovacuum worker (which FORCE may not end) gets a bounded wait, then a warning."""
    import time
    import warnings

    from sqlalchemy.exc import DBAPIError

    for _ in range(attempts):
        try:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError as exc:
            last = exc
            time.sleep(0.25)
    warnings.warn(f"test database {name} left behind: {last}", stacklevel=1)


@pytest.fixture(scope="session", params=BACKENDS)
def db_url(request: pytest.FixtureRequest, database_maker: Callable[[str], str]) -> str:
    """A database for this test session on each backend (empty until ``engine`` migrates it)."""
    return database_maker(request.param)


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on ``db_url`` with the schema built by the Alembic migrations (once per backend)."""
    from crm_core.db import make_engine
    from crm_core.migrate import upgrade

    upgrade(db_url)
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test (commits become savepoints)."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture(params=BACKENDS)
def fresh_db_url(request: pytest.FixtureRequest, database_maker: Callable[[str], str]) -> str:
    """A brand-new empty database per test, for tests that commit or migrate for real."""
    return database_maker(request.param)


@pytest.fixture
def backend(engine: Engine) -> str:
    """'sqlite' or 'postgresql': the backend the current ``engine`` runs on."""
    return engine.dialect.name


@pytest.fixture
def factories() -> Any:
    """The factory module (``tests/factories.py``), for tests that pass their own session."""
    import factories as module

    return module


@pytest.fixture
def make_customer(db_session: Session) -> Callable[..., Any]:
    """Factory bound to ``db_session``: a customer with a fresh mobile number."""
    import factories

    return lambda **kw: factories.make_customer(db_session, **kw)


@pytest.fixture
def make_product(db_session: Session) -> Callable[..., Any]:
    """Factory bound to ``db_session``: a product stocked in its own warehouse."""
    import factories

    return lambda **kw: factories.make_product(db_session, **kw)


@pytest.fixture
def make_warehouse(db_session: Session) -> Callable[..., Any]:
    """Factory bound to ``db_session``: an active warehouse."""
    import factories

    return lambda **kw: factories.make_warehouse(db_session, **kw)


@pytest.fixture
def make_agent(db_session: Session) -> Callable[..., Any]:
    """Factory bound to ``db_session``: an agent with a unique login and extension."""
    import factories

    return lambda **kw: factories.make_agent(db_session, **kw)


@pytest.fixture
def make_queue(db_session: Session) -> Callable[..., Any]:
    """Factory bound to ``db_session``: a queue with a unique name."""
    import factories

    return lambda **kw: factories.make_queue(db_session, **kw)


@pytest.fixture
def make_promotion(db_session: Session) -> Callable[..., Any]:
    """Factory bound to ``db_session``: a promotion over some products."""
    import factories

    return lambda products, **kw: factories.make_promotion(db_session, products, **kw)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """One line per reason tests were skipped, saying how to run them (instead of one line per test)."""
    from collections import Counter

    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    if reasons:
        terminalreporter.section("skipped tests, and what runs them")
        for reason, count in reasons.most_common():
            terminalreporter.write_line(f"{count} skipped - {reason}")
