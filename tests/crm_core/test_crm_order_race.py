"""Two callers, one last unit: real threads, real sessions, committed data — exactly one order wins."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text

from crm_core import migrate
from crm_core.db import make_engine, session_factory, transaction
from crm_core.exceptions import InsufficientStock
from crm_core.models import Order, Stock
from crm_core.services import place_order

pytestmark = pytest.mark.slow


def _open_shop(url: str, factories):
    migrate.upgrade(url)
    engine = make_engine(url, pool_size=8)
    return engine, session_factory(engine), factories


@pytest.fixture
def shop(fresh_db_url, factories):
    """A migrated database of its own (each backend), an engine on it, and a factory for committed sessions."""
    opened = _open_shop(fresh_db_url, factories)
    yield opened
    opened[0].dispose()


@pytest.fixture
def pg_shop(database_maker, factories):
    """Like ``shop``, PostgreSQL only."""
    opened = _open_shop(database_maker("postgresql"), factories)
    yield opened
    opened[0].dispose()


def _setup_round(factory, factories, callers: int):
    with transaction(factory) as session:
        product = factories.make_product(session, stock=1)
        customers = [factories.make_customer(session).id for _ in range(callers)]
        return product.phone_code, product.id, customers


def test_concurrent_orders_for_the_last_unit_exactly_one_succeeds(shop):
    engine, factory, factories = shop
    callers, rounds = 4, 8
    for _ in range(rounds):
        code, product_id, customers = _setup_round(factory, factories, callers)
        barrier = threading.Barrier(callers)
        outcomes: list[str] = []

        def buy(customer_id: int, barrier=barrier, code=code, outcomes=outcomes) -> None:
            barrier.wait(timeout=10)
            try:
                with transaction(factory) as session:
                    place_order(session, customer_id, [(code, 1)])
                outcomes.append("ordered")
            except InsufficientStock:
                outcomes.append("refused")

        threads = [threading.Thread(target=buy, args=(c,)) for c in customers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes) == ["ordered"] + ["refused"] * (callers - 1)
        with factory() as session:
            stock = session.scalars(select(Stock).where(Stock.product_id == product_id)).one()
            assert (stock.on_hand, stock.reserved) == (1, 1)


@pytest.mark.postgres
def test_second_caller_blocks_on_the_first_then_is_refused_when_it_commits(pg_shop):
    engine, factory, factories = pg_shop
    code, product_id, (first, second) = _setup_round(factory, factories, 2)
    holding = threading.Event()
    release = threading.Event()
    outcome: dict[str, object] = {}

    def first_caller() -> None:
        with transaction(factory) as session:
            place_order(session, first, [(code, 1)])  # stock row now locked by this open transaction
            holding.set()
            release.wait(timeout=20)

    def second_caller() -> None:
        try:
            with transaction(factory) as session:
                outcome["order"] = place_order(session, second, [(code, 1)]).number
        except InsufficientStock as exc:
            outcome["error"] = exc.error_id

    one = threading.Thread(target=first_caller)
    one.start()
    assert holding.wait(timeout=10)
    two = threading.Thread(target=second_caller)
    two.start()
    deadline = time.monotonic() + 10
    with engine.connect() as probe:
        while time.monotonic() < deadline:  # bounded poll until the second caller waits on the row lock
            waiting = probe.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")).scalar()
            probe.rollback()
            if waiting:
                break
            time.sleep(0.02)
        else:
            pytest.fail("second caller never waited for the first one's row lock")
    release.set()
    one.join(timeout=20)
    two.join(timeout=20)
    assert outcome == {"error": "insufficient-stock"}
    with factory() as session:
        assert session.scalar(select(Order.customer_id)) == first
