"""Member points: the cached balance always equals the ledger, and never goes below zero."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from crm_core.exceptions import InsufficientPoints, InvalidQuantity, UnknownCustomer
from crm_core.models import Customer, PointsEntry
from crm_core.services import adjust_points, earn_points, expire_points, points_balance, recent_points, redeem_points

OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["earn", "redeem", "expire", "adjust"]), st.integers(min_value=1, max_value=500),
              st.booleans()),
    max_size=25,
)


def _ledger_sum(session, customer_id: int) -> int:
    return session.scalar(select(func.coalesce(func.sum(PointsEntry.delta), 0)).where(
        PointsEntry.customer_id == customer_id))


def test_balance_equals_ledger_sum_for_any_sequence_of_changes(db_session, make_customer):
    # @given sits on an inner function: pytest-twisted's call hook cannot drive a @given test itself.
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(operations=OPERATIONS)
    def check(operations):
        customer = make_customer()
        expected = 0
        for kind, amount, negative in operations:
            delta = {"earn": amount, "redeem": -amount, "expire": -amount,
                     "adjust": -amount if negative else amount}[kind]
            try:
                if kind == "earn":
                    earn_points(db_session, customer.id, amount)
                elif kind == "redeem":
                    redeem_points(db_session, customer.id, amount)
                elif kind == "expire":
                    expire_points(db_session, customer.id, amount)
                else:
                    adjust_points(db_session, customer.id, delta, reason="test", by="hypothesis")
            except InsufficientPoints:
                assert expected + delta < 0
                continue
            expected += delta
        assert points_balance(db_session, customer.id) == expected == _ledger_sum(db_session, customer.id)
        assert expected >= 0
        entries = db_session.scalars(
            select(PointsEntry).where(PointsEntry.customer_id == customer.id).order_by(PointsEntry.id)
        ).all()
        running = 0
        for entry in entries:
            running += entry.delta
            assert entry.balance_after == running

    check()


def test_redeeming_more_than_the_balance_is_refused_and_changes_nothing(db_session, make_customer):
    customer = make_customer(points=100)
    with pytest.raises(InsufficientPoints) as caught:
        redeem_points(db_session, customer.id, 101)
    assert caught.value.error_id == "insufficient-points"
    assert caught.value.details == {"customer_id": customer.id, "balance": 100, "requested": 101}
    assert points_balance(db_session, customer.id) == 100 == _ledger_sum(db_session, customer.id)


def test_redeem_updates_a_loaded_customer_object(db_session, make_customer):
    customer = make_customer(points=50)
    redeem_points(db_session, customer.id, 20, reason="gift")
    assert db_session.get(Customer, customer.id).points_balance == 30


def test_recent_points_lists_newest_changes_first(db_session, make_customer):
    customer = make_customer()
    earn_points(db_session, customer.id, 10, reason="order 1")
    earn_points(db_session, customer.id, 20, reason="order 2")
    redeem_points(db_session, customer.id, 5, reason="voucher")
    assert [(e.kind, e.delta, e.balance_after) for e in recent_points(db_session, customer.id, limit=2)] == [
        ("redeem", -5, 25),
        ("earn", 20, 30),
    ]


def test_points_changes_must_be_positive_and_for_a_known_customer(db_session, make_customer):
    customer = make_customer()
    with pytest.raises(InvalidQuantity):
        earn_points(db_session, customer.id, 0)
    with pytest.raises(InvalidQuantity):
        redeem_points(db_session, customer.id, -5)
    with pytest.raises(UnknownCustomer):
        earn_points(db_session, 987654321, 10)
    with pytest.raises(UnknownCustomer):
        points_balance(db_session, 987654321)
