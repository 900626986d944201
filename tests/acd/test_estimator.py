"""Expected wait: EWMA of live handle times and staffing."""

from __future__ import annotations

import pytest

from acd.estimator import Estimator, HandleTimes, expected_wait, round_for_announcement


def test_handle_time_average_starts_at_first_sample_then_moves_by_ewma():
    ht = HandleTimes(prior=180, alpha=0.5)
    assert ht.value == 180
    assert ht.observe(100) == 100
    assert ht.observe(200) == 150


def test_expected_wait_is_zero_when_enough_agents_are_free():
    assert expected_wait(position=2, staffed=3, available=2, aht=120) == 0


def test_expected_wait_grows_with_position_and_shrinks_with_staffing():
    assert expected_wait(4, staffed=2, available=0, aht=100) == 200
    assert expected_wait(4, staffed=4, available=0, aht=100) == 100
    assert expected_wait(5, staffed=4, available=1, aht=100) == 100


def test_expected_wait_is_unknown_with_nobody_staffed():
    assert expected_wait(1, staffed=0, available=0, aht=100) is None
    assert round_for_announcement(None) is None
    assert round_for_announcement(61) == 2 and round_for_announcement(1) == 1


def test_bad_alpha_is_refused():
    with pytest.raises(ValueError):
        Estimator(alpha=0)


def test_acd_expected_wait_follows_live_handle_times(h):
    h.queue(wrapup_seconds=0, default_aht=300)
    h.agent(1)
    assert h.acd.expected_wait("sales", 2) == 300  # prior until a call finishes
    leg, _ = h.call()
    leg.ring.answer()
    h.clock.advance(60)
    leg.ring.end()
    assert h.acd.estimator.aht("sales") == 60
    h.acd.set_state(1, "break")
    assert h.acd.expected_wait("sales", 1) is None  # nobody staffed
    h.acd.set_state(1, "available")
    busy, _ = h.call()
    busy.ring.answer()
    assert h.acd.expected_wait("sales", 3) == 180
