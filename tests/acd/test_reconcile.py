"""Consistency with the switch: repairs of lost hang-ups, vanished callers, periodic runs, restart recovery."""

from __future__ import annotations

from twisted.internet import defer

from acd.agents import AgentState, StateChange
from acd.events import RECONCILED
from acd.reconcile import Reconciler, reconcile_once, recover
from freeswitch.channels import ChannelRow


def rows(*uuids: str) -> list[ChannelRow]:
    return [ChannelRow(uuid=u) for u in uuids]


def test_lost_hang_up_leaves_agent_on_call_until_reconciliation_repairs_it(h):
    h.queue(wrapup_seconds=10)
    h.agent(1)
    leg, results = h.call()
    leg.ring.answer()
    h.clock.advance(120)
    # the hang-up event was lost: the ACD still thinks agent 1 talks
    assert h.state(1) == "on_call"
    assert not reconcile_once(h.acd, rows(leg.uuid))  # channel still there: nothing to do
    repairs = reconcile_once(h.acd, rows())
    assert repairs.agents == [(1, "on_call", "wrap_up")] and repairs.callers == [leg.uuid]
    assert results[0].kind == "served" and results[0].hangup_cause == "RECONCILE_CHANNEL_GONE"
    h.clock.advance(10)
    assert h.state(1) == "available"


def test_agent_leg_alive_keeps_the_agent_on_call(h):
    h.queue()
    h.agent(1)
    leg, _ = h.call()
    leg.ring.answer()
    h.clock.advance(60)
    assert not reconcile_once(h.acd, rows(leg.ring.agent_leg))
    assert h.state(1) == "on_call"


def test_waiting_caller_whose_channel_vanished_is_removed_and_cdr_closed_abandoned(h):
    h.queue()
    leg, results = h.call()
    h.clock.advance(30)
    repairs = reconcile_once(h.acd, rows("someone-else"))
    assert repairs.callers == [leg.uuid]
    assert results[0].kind == "abandoned" and h.acd.cdr.records[leg.uuid]["disposition"] == "abandoned"
    assert h.acd.snapshot("sales").waiting == 0


def test_new_caller_is_not_repaired_away_within_the_grace_period(h):
    h.queue()
    leg, results = h.call()
    h.clock.advance(1)
    assert not reconcile_once(h.acd, rows(), grace=5)
    assert results == []


def test_ringing_agent_with_no_channels_is_freed_and_caller_abandoned(h):
    h.queue()
    h.agent(1)
    leg, results = h.call()
    h.clock.advance(30)
    repairs = reconcile_once(h.acd, rows())
    assert repairs.agents == [(1, "ringing", "available")]
    assert results[0].kind == "abandoned"


def test_reconciler_runs_periodically_on_the_clock_and_publishes_repairs(h):
    h.queue()
    leg, _ = h.call()
    published = []
    h.acd.bus.subscribe(RECONCILED, lambda _t, p: published.append(p))
    reconciler = Reconciler(h.acd, lambda: defer.succeed(rows(leg.uuid)), h.clock, interval=30, grace=5)
    reconciler.start()
    h.clock.advance(30)
    assert reconciler.runs == 1 and not published
    reconciler.channels = lambda: defer.succeed(rows())
    h.clock.advance(30)
    assert reconciler.runs == 2 and published[0]["callers"] == [leg.uuid]
    reconciler.stop()


def test_reconciler_survives_a_switch_that_cannot_answer(h):
    h.queue()
    reconciler = Reconciler(h.acd, lambda: defer.fail(RuntimeError("not connected")), h.clock, interval=10)
    reconciler.start()
    h.clock.advance(20)
    assert reconciler.runs == 0 and reconciler._loop.running
    reconciler.stop()


def test_restart_recovery_rebuilds_agents_from_the_state_log_and_channels(h):
    h.queue("sales")
    h.queue("support")
    for i in (1, 2, 3, 4):
        h.agent(i, login=False)
    now = h.clock.seconds()
    last = [
        StateChange(1, AgentState.AVAILABLE, None, None, now - 50, ("sales", "support")),
        StateChange(2, AgentState.ON_CALL, None, "gone-call", now - 40, ("sales",)),
        StateChange(3, AgentState.ON_CALL, None, "live-call", now - 30, ("sales",)),
        StateChange(4, AgentState.NOT_READY, "no answer", None, now - 20, ("support",)),
    ]
    channels = [ChannelRow(uuid="agent3-leg", name="sofia/sim/1003@127.0.0.1:5062", direction="outbound",
                           dest="1003")]
    assert recover(h.acd, last, channels) == [1, 2, 3, 4]
    assert h.state(1) == "available" and h.acd.board.get(1).queues == {"sales", "support"}
    assert h.state(2) == "available"  # its call ended while we were down
    assert h.state(3) == "on_call" and h.acd.board.get(3).call_uuid == "agent3-leg"
    assert h.state(4) == "not_ready" and h.acd.board.get(4).reason == "no answer"
    assert h.acd.board.members("sales") == {1, 2, 3}
    # the recovered on-call agent is repaired later if its channel goes away
    h.clock.advance(10)
    assert reconcile_once(h.acd, rows()).agents == [(3, "on_call", "wrap_up")]
