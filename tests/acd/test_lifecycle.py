"""The waiting caller's lifecycle as a public interface: its steps, its hooks and its record, driven directly."""

from __future__ import annotations

from twisted.internet.task import Clock

from acd import events
from acd.agents import AgentBoard, AgentState
from acd.lifecycle import CallerLifecycle
from acd.queues import Overflow, QueueConfig, WaitingCaller, next_seq
from acd.records import MemoryCdr
from acd.stats import QueueStats
from acd_helpers import ScriptedLeg


def rig(**config):
    clock = Clock()
    clock.advance(1_800_000_000)
    bus = events.EventBus()
    board = AgentBoard(clock, bus=bus)
    cdr = MemoryCdr()
    lifecycle = CallerLifecycle(clock, board, bus, QueueStats(), cdr)
    lifecycle.configure(QueueConfig("sales", announce_every=None, **config))
    lifecycle.configure(QueueConfig("backup", announce_every=None))
    routed, lined = [], []
    lifecycle.on_route(routed.append)
    lifecycle.on_line(lambda caller, cfg: lined.append((caller.uuid, cfg.name)))
    return clock, board, lifecycle, cdr, routed, lined


def waiting(clock, queue="sales") -> WaitingCaller:
    leg = ScriptedLeg()
    now = clock.seconds()
    return WaitingCaller(uuid=leg.uuid, leg=leg, queue=queue, skills={}, priority=0, entered_at=now, seq=next_seq(),
                         queued_at=now, ani=leg.ani)


def test_queued_offered_connected_served_through_public_steps_only():
    clock, board, lifecycle, cdr, routed, lined = rig()
    board.add(7, "1007")
    board.login(7, ["sales"])
    caller = waiting(clock)
    outcomes = []
    caller.outcome.addCallback(outcomes.append)
    lifecycle.enter(caller)
    assert lined == [(caller.uuid, "sales")] and caller.leg.holding and caller.uuid in lifecycle.queues["sales"]
    lifecycle.offering(caller, board.get(7))
    assert board.get(7).state is AgentState.RINGING and caller.offering == 7
    clock.advance(4)
    lifecycle.connected(caller, board.get(7), "agent-leg-7")
    assert board.get(7).state is AgentState.ON_CALL and caller.uuid not in lifecycle.queues["sales"]
    clock.advance(60)
    lifecycle.start_wrap_up(board.get(7), caller)
    lifecycle.served(caller, 7, 60.0, "NORMAL_CLEARING", side="agent")
    assert outcomes[0].kind == "served" and outcomes[0].wait_seconds == 4 and caller.uuid not in lifecycle.callers
    record = cdr.records[caller.uuid]
    assert (record["disposition"], record["agent_id"], record["hangup_side"]) == ("answered", 7, "agent")
    assert [e.kind for e in cdr.events] == ["queued", "answered", "ended"]


def test_a_failed_offer_puts_the_caller_first_again_and_asks_routing_to_look():
    clock, board, lifecycle, _cdr, routed, _ = rig()
    first, second = waiting(clock), waiting(clock)
    lifecycle.enter(first)
    lifecycle.enter(second)
    lifecycle.back_to_head(second, 3, "offer failed: no_answer (NO_ANSWER)")
    assert [c.uuid for c in lifecycle.queues["sales"]] == [second.uuid, first.uuid]
    assert second.decisions[-1]["reason"].startswith("offer failed")
    lifecycle.route("sales")
    assert routed == ["sales"]


def test_overflow_to_another_queue_keeps_the_entry_time_and_is_recorded_on_the_same_row():
    clock, _board, lifecycle, cdr, routed, lined = rig(max_wait=30, overflow=Overflow("queue", "backup"))
    caller = waiting(clock)
    lifecycle.enter(caller)
    entered = caller.entered_at
    clock.advance(30)
    lifecycle.overflow(caller, "max wait")
    assert caller.queue == "backup" and caller.entered_at == entered and routed[-1] == "backup"
    assert lined[-1] == (caller.uuid, "backup")
    assert [e.fields.get("overflow_from") for e in cdr.events if e.kind == "queued"] == [None, "sales"]


def test_a_caller_who_hangs_up_while_waiting_is_abandoned_by_the_lifecycle_itself():
    clock, _board, lifecycle, cdr, _routed, _ = rig()
    caller = waiting(clock)
    outcomes = []
    caller.outcome.addCallback(outcomes.append)
    lifecycle.enter(caller)
    caller.leg.hang_up("ORIGINATOR_CANCEL")
    assert outcomes[0].kind == "abandoned" and cdr.records[caller.uuid]["hangup_side"] == "caller"
