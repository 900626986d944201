"""The pacing model (pure): the four modes, the predictive over-dial and its abandonment control, the estimators,
and the seeded shift simulation holding the cap."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from acd.dialer.pacing import (
    PREDICTIVE,
    PREVIEW,
    PROGRESSIVE,
    RATIO,
    Pacer,
    PacingPolicy,
    Snapshot,
)
from acd.dialer.stats import AbandonBudget, DialStats, HandleTimes, RecentDistribution

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))


def pacer(mode: str = PREDICTIVE, **policy) -> Pacer:
    """A pacer with some history: 300 live calls connected (the budget is not spent)."""
    made = Pacer(PacingPolicy(mode=mode, **policy))
    for n in range(300):
        made.budget.record(False, float(n))
    return made


def test_a_new_campaign_starts_cautiously_until_it_has_a_budget():
    fresh = Pacer(PacingPolicy())
    assert fresh.target(0.0) < pacer().target(0.0) / 5


def test_preview_never_dials_and_progressive_gives_one_call_per_free_agent_counting_calls_in_flight():
    assert pacer(PREVIEW).decide(Snapshot(10), 0).calls == 0
    assert pacer(PROGRESSIVE).decide(Snapshot(5, ringing_elapsed=[1.0, 2.0]), 0).calls == 3
    assert pacer(PROGRESSIVE).decide(Snapshot(1, ringing_elapsed=[1.0], waiting=1), 0).calls == 0


def test_automated_campaigns_fill_their_lines_without_agents():
    from acd.dialer.pacing import AUTOMATED, AUTOMATED_LINES

    assert pacer(AUTOMATED, max_lines=10).decide(Snapshot(0, lines_in_use=4), 0).calls == 6
    assert pacer(AUTOMATED).decide(Snapshot(0, lines_in_use=0), 0).calls == AUTOMATED_LINES


def test_fixed_ratio_keeps_ratio_lines_per_free_agent_and_the_trunk_limit_holds_for_every_mode():
    assert pacer(RATIO, ratio=2.5).decide(Snapshot(4, ringing_elapsed=[1.0] * 3), 0).calls == 7
    assert pacer(RATIO, ratio=2.5, max_lines=5).decide(Snapshot(4, ringing_elapsed=[1.0] * 3), 0).calls == 2
    assert pacer(PREDICTIVE, max_lines=3).decide(Snapshot(20), 0).calls == 3


def test_predictive_over_dials_for_free_agents_but_not_when_every_agent_is_busy_for_minutes():
    free = pacer().decide(Snapshot(10), 0)
    assert free.calls > 10  # 10 free agents, a live answer rate near 30 %: more lines than agents
    assert free.expected_live <= free.expected_agents
    busy = pacer().decide(Snapshot(0, busy_elapsed=[5.0] * 20), 0)
    assert busy.calls == 0  # nobody frees up before the calls would be answered


def test_predictive_counts_agents_about_to_free_up_and_calls_already_ringing():
    young = pacer().decide(Snapshot(2, busy_elapsed=[10.0] * 40), 0).calls
    typical = pacer().decide(Snapshot(2, busy_elapsed=[180.0] * 40), 0).calls
    assert typical > young + 5  # 40 calls around the average handle time: several agents free up soon
    quiet = pacer().decide(Snapshot(3), 0).calls
    ringing = pacer().decide(Snapshot(3, ringing_elapsed=[2.0] * 5), 0).calls
    assert ringing < quiet


def test_the_target_follows_the_real_abandon_rate_and_is_cut_when_the_budget_is_spent():
    p = pacer(abandon_cap=0.03)
    for n in range(100):
        p.connected(300.0 + n)
    relaxed = p.target(400.0)
    calls_relaxed = p.decide(Snapshot(3, busy_elapsed=[100.0] * 20), 400.0).calls
    for n in range(20):
        p.abandoned(500.0 + n)
    assert p.budget.rate() > 0.03
    assert p.target(600.0) < relaxed / 10  # over the cap: the guard and the gain both cut
    assert p.decide(Snapshot(3, busy_elapsed=[100.0] * 20), 600.0).calls <= calls_relaxed


def test_rates_are_learnt_in_placing_order_so_fast_failures_do_not_fool_them():
    from acd.dialer.stats import ForgettingRate

    stats = DialStats(prior_answer=0.3, prior_live=1.0, ring_timeout=25)
    for n in range(30):
        stats.placed(n, 0.0)
    for n in range(10, 30):  # the busy lines of the burst resolve first...
        stats.observe_failure(1.0, key=n, now=1.0)
    assert stats.answered.value == pytest.approx(0.3)  # ...but wait for the calls placed before them
    for n in range(10):
        stats.observe_answer(8.0, True, key=n, now=8.0)
    expected = ForgettingRate(0.3)
    for n in range(30):
        expected.observe(n < 10)
    assert stats.answered.value == pytest.approx(expected.value)


def test_an_unresolved_call_is_given_up_after_stale_after_seconds():
    stats = DialStats(ring_timeout=20)
    stats.placed("lost", 0.0)
    stats.placed("ok", 1.0)
    stats.observe_failure(2.0, key="ok", now=3.0)
    assert stats.answered.trials == pytest.approx(20.0)  # waits for "lost"
    stats.placed("later", 500.0)
    stats.observe_failure(2.0, key="later", now=502.0)
    assert stats.answered.trials > 20.5  # "lost" was dropped, "ok" and "later" counted


def test_live_answer_probability_falls_as_a_call_keeps_ringing():
    stats = DialStats(prior_answer=0.4, prior_live=0.75, prior_answer_delay=6.0, ring_timeout=25)
    fresh, late = stats.live_within(0.0), stats.live_within(15.0)
    assert fresh == pytest.approx(0.3, abs=0.01) and late < fresh / 2
    assert stats.live_within(0.0, 1.0) < stats.live_within(0.0, 10.0) <= fresh


def test_handle_times_fit_a_lognormal_and_give_conditional_completion():
    handle = HandleTimes(prior_mean=180, prior_sigma=0.6)
    assert handle.mean == pytest.approx(180, rel=0.01)
    assert handle.done_within(600.0, 30.0) > handle.done_within(10.0, 30.0)
    for _ in range(2000):
        handle.observe(60.0)
    assert handle.mean == pytest.approx(60, rel=0.1)


def test_recent_distribution_forgets_old_samples():
    dist = RecentDistribution([100.0] * 10, capacity=10)
    for _ in range(10):
        dist.add(1.0)
    assert dist.survival(50.0) == 0.0 and dist.quantile(0.5) == 1.0


def test_abandon_budget_rolls_over_thirty_days_and_restores_counts():
    budget = AbandonBudget(0.03, answered=1000, abandoned=20, answered_window=500, abandoned_window=20, now=0.0)
    assert budget.headroom(0.0) == pytest.approx(0.03 * 500 - 20)  # the 30-day count is the tighter one
    day = 86400.0
    assert budget.window(31 * day) == (0, 0)  # the restored counts expired with their window
    for n in range(400):
        budget.record(n == 0, 31 * day + n)
    assert budget.window(31 * day + 400) == (400, 1) and budget.abandoned == 21
    assert budget.headroom(31 * day + 400) == pytest.approx(min(0.03 * 1400 - 21, 0.03 * 400 - 1))


@pytest.fixture(scope="module")
def quick_shift():
    import dialer_sim

    cfg = dialer_sim.SimConfig(hours=1.0, seed=1)
    return dialer_sim, cfg, dialer_sim.run(cfg)


def test_the_quick_shift_holds_the_cap_with_high_utilisation_and_beats_progressive(quick_shift):
    _module, _cfg, (predictive, progressive, ratio) = quick_shift
    assert predictive.abandon_pct <= 3.0
    assert predictive.utilisation_pct >= 85.0
    assert progressive.abandon_pct == 0.0 and predictive.utilisation_pct > progressive.utilisation_pct + 10
    assert predictive.connects_per_agent_hour > progressive.connects_per_agent_hour
    assert ratio.dials > 0


def test_the_simulation_is_deterministic_for_a_seed(quick_shift):
    module, cfg, (predictive, _progressive, _ratio) = quick_shift
    again = module.simulate(PREDICTIVE, cfg)
    assert (again.dials, again.connected, again.abandoned) == (predictive.dials, predictive.connected,
                                                                predictive.abandoned)


def test_the_bench_prints_the_named_last_line(capsys):
    import dialer_sim

    assert dialer_sim.main(["--hours", "0.25", "--agents", "20"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("predictive: abandon ") and last.endswith("%") and " utilisation " in last
