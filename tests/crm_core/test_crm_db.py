"""The database layer: aware UTC timestamps on both backends, SQLite hardening, the transaction helper."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from crm_core.db import make_engine, session_factory, transaction
from crm_core.models import Customer, Promotion
from crm_core.types import UTCDateTime

UTC = dt.timezone.utc
BEIJING = dt.timezone(dt.timedelta(hours=8))


def test_server_default_timestamps_come_back_timezone_aware(db_session, make_customer):
    customer = make_customer()
    db_session.expire(customer)
    assert customer.created_at.tzinfo is not None
    assert abs(customer.created_at - dt.datetime.now(UTC)) < dt.timedelta(minutes=5)


def test_aware_datetimes_round_trip_as_the_same_instant_in_utc(db_session):
    starts = dt.datetime(2026, 11, 11, 20, 0, tzinfo=BEIJING)
    promotion = Promotion(name="Singles day", rule="percent", percent=10, starts_at=starts,
                          ends_at=starts + dt.timedelta(hours=4))
    db_session.add(promotion)
    db_session.flush()
    db_session.expire(promotion)
    assert promotion.starts_at == starts and promotion.starts_at.utcoffset() == dt.timedelta(0)
    found = db_session.scalars(select(Promotion).where(Promotion.starts_at <= starts + dt.timedelta(minutes=1),
                                                       Promotion.id == promotion.id)).all()
    assert found == [promotion]


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(dt.datetime(2026, 1, 1), None)  # type: ignore[arg-type]


def test_sqlite_engine_has_foreign_keys_wal_and_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
    engine.dispose()


def test_transaction_commits_on_success_and_rolls_back_on_error(engine):
    factory = session_factory(engine)
    with transaction(factory) as session:
        kept = Customer(name="kept")
        session.add(kept)
    with pytest.raises(RuntimeError):
        with transaction(factory) as session:
            session.add(Customer(name="lost"))
            session.flush()
            raise RuntimeError("boom")
    with transaction(factory) as session:
        names = session.scalars(select(Customer.name).where(Customer.name.in_(["kept", "lost"]))).all()
        assert names == ["kept"]
        session.delete(session.get(Customer, kept.id))


def test_savepoints_work_on_every_backend(db_session, make_customer):
    customer = make_customer()
    nested = db_session.begin_nested()
    customer.name = "changed"
    db_session.flush()
    nested.rollback()
    assert db_session.get(Customer, customer.id).name != "changed"
