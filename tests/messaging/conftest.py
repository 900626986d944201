"""Messaging fixtures: a committed database per test (the gateway's pool threads use their own connections)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

import messaging_rig


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def outbox_db(request: pytest.FixtureRequest, database_maker: Callable[[str], str]) -> Iterator[messaging_rig.OutboxDb]:
    """A fresh migrated database with the default templates, on each backend."""
    db = messaging_rig.OutboxDb.create(database_maker(request.param))
    yield db
    db.close()


@pytest.fixture
def sqlite_outbox_db(database_maker: Callable[[str], str]) -> Iterator[messaging_rig.OutboxDb]:
    """The same, SQLite only (tests whose subject is not the database)."""
    db = messaging_rig.OutboxDb.create(database_maker("sqlite"))
    yield db
    db.close()


@pytest.fixture
def sessions(sqlite_outbox_db: messaging_rig.OutboxDb) -> sessionmaker[Session]:
    return sqlite_outbox_db.sessions
