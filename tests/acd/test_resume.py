"""After an engine restart: the place written on the channel, callers back in line in their place, callbacks re-queued."""

from __future__ import annotations

import pytest
from twisted.internet import defer

from acd.queues import Overflow
from acd.resume import AGENT_VAR, QUEUE_VAR, OpenCall, QueuePlace, Recovery
from acd_helpers import ScriptedLeg
from freeswitch.channels import ChannelRow


class FakeSwitch:
    """``show channels``, ``uuid_getvar`` and ``uuid_transfer`` as the recovery uses them."""

    def __init__(self, channels: dict[str, dict[str, str]]) -> None:
        self.channels = channels  # uuid -> channel variables
        self.transfers: list[tuple] = []
        self.directions: dict[str, str] = {}

    def show_channels(self) -> defer.Deferred:
        return defer.succeed([ChannelRow(uuid=u, state="CS_EXECUTE", direction=self.directions.get(u, ""))
                              for u in self.channels])

    def uuid_getvar(self, uuid: str, name: str) -> defer.Deferred:
        return defer.succeed(self.channels[uuid].get(name) or None)

    def uuid_transfer(self, uuid: str, *destination: str) -> defer.Deferred:
        self.transfers.append((uuid, *destination))
        return defer.succeed("+OK")


def recover(h, switch, open_calls, callbacks=()) -> Recovery:
    results: list = []
    defer.ensureDeferred(h.acd.resumer.recover(switch, open_calls, list(callbacks))).addCallback(results.append)
    assert results, "recovery should finish at once with a switch that answers at once"
    return results[0]


# -- the place on the channel ----------------------------------------------------------------------

def test_place_round_trips_through_channel_variables_and_cannot_break_the_setvar_syntax():
    place = QueuePlace("sales", 1_800_000_123.25, 10, {"mandarin": 3, "returns": 1}, 42, "ivr:agent;x=1", "en")
    variables = place.variables()
    assert all(";" not in v for v in variables.values())  # uuid_setvar_multi separates with ";"
    back = QueuePlace.from_variables(variables)
    assert back == QueuePlace("sales", 1_800_000_123.25, 10, {"mandarin": 3, "returns": 1}, 42, "ivr:agent,x:1", "en")


@pytest.mark.parametrize("variables", [
    {},                                                     # never queued
    {QUEUE_VAR: ""},                                        # left the line
    {QUEUE_VAR: "sales"},                                   # entry time missing
    {QUEUE_VAR: "sales", "hotline_acd_entered": "soon"},    # garbage
    {QUEUE_VAR: "sales", "hotline_acd_entered": "1", "hotline_acd_skills": "x:high"},
])
def test_no_or_broken_place_is_not_a_place(variables):
    assert QueuePlace.from_variables(variables) is None


def test_acd_writes_the_place_on_entry_and_the_agent_on_answer(h):
    h.queue(required_skills={"sales": 1})
    leg, _ = h.call(priority=10, customer={"id": 7}, ivr_path="ivr:agent", language="en")
    entered = h.clock.seconds()
    place = QueuePlace.from_variables(leg.places[-1])
    assert place == QueuePlace("sales", round(entered, 3), 10, {"sales": 1}, 7, "ivr:agent", "en")
    h.agent(1, skills={"sales": 2})
    leg.ring.answer()
    assert leg.places[-1] == {QUEUE_VAR: "", AGENT_VAR: "1"}  # answered: not waiting any more


def test_overflow_to_another_queue_moves_the_place_and_voicemail_clears_it(h):
    h.queue("backup", max_wait=30, overflow=Overflow("voicemail"))
    h.queue("sales", max_wait=30, overflow=Overflow("queue", "backup"))
    leg, results = h.call()
    h.clock.advance(31)
    assert QueuePlace.from_variables(leg.places[-1]).queue == "backup"
    assert QueuePlace.from_variables(leg.places[-1]).entered_at == pytest.approx(h.clock.seconds() - 31, abs=0.01)
    h.clock.advance(31)
    assert results[0].kind == "overflow" and leg.places[-1] == {QUEUE_VAR: "", AGENT_VAR: ""}


def test_abandoned_caller_channel_is_not_written_to(h):
    h.queue()
    leg, results = h.call()
    writes = len(leg.places)
    leg.hang_up()
    assert results[0].kind == "abandoned" and len(leg.places) == writes


# -- back in line --------------------------------------------------------------------------------

def test_resumed_caller_keeps_its_entry_time_and_goes_before_later_callers(h):
    h.queue()
    later, _ = h.call()  # arrived after the restart, before the old caller reconnected
    old = ScriptedLeg()
    reserved = h.acd.resumer.reserved[old.uuid] = -1_000_000  # reserved in entry-time order at start
    results: list = []
    since = h.clock.seconds() - 300
    h.acd.resumer.resume(old, QueuePlace("sales", since, 0, {}, None, "ivr:agent", "zh")).addCallback(results.append)
    caller = h.acd.callers[old.uuid]
    assert caller.entered_at == since and caller.seq == reserved
    assert h.acd.queues["sales"].position(caller) == 1
    assert h.acd.snapshot("sales").offered == 1  # counted once, by the engine that first took it
    h.agent(1)
    assert old.rings and not later.rings  # the first free agent goes to the caller waiting longest
    old.ring.answer()
    old.ring.end()
    assert results[0].kind == "served" and results[0].wait_seconds == pytest.approx(300)


def test_resumed_caller_whose_queue_was_removed_goes_to_an_existing_queue(h):
    h.queue("sales")
    leg = ScriptedLeg()
    h.acd.resumer.resume(leg, QueuePlace("gone", h.clock.seconds() - 5))
    assert h.acd.callers[leg.uuid].queue == "sales"


# -- start-up recovery -----------------------------------------------------------------------------

def test_recovery_brings_back_waiting_callers_in_entry_order_and_closes_dead_calls(h):
    h.queue()
    h.agent(1, login=True)
    h.acd.set_state(1, "break")
    now = h.clock.seconds()
    switch = FakeSwitch({
        "w-late": {QUEUE_VAR: "sales"}, "w-early": {QUEUE_VAR: "sales"},
        "talking": {AGENT_VAR: "1"},  # answered before the restart, conversation goes on
        "left": {},  # was queued, then left the line (its CDR write was lost)
    })
    open_calls = [OpenCall("w-late", "sales", now - 30, False), OpenCall("w-early", "sales", now - 90, False),
                  OpenCall("dead", "sales", now - 60, False), OpenCall("talking", "sales", now - 200, True, 1),
                  OpenCall("left", "sales", now - 10, False)]
    result = recover(h, switch, open_calls)
    assert [t[0] for t in switch.transfers] == ["w-early", "w-late"]
    assert switch.transfers[0][1:] == ("hotline_reconnect", "XML", "public")
    assert result.transferred == ["w-early", "w-late"] and result.closed == ["dead"] and result.talking == ["talking"]
    reserved = h.acd.resumer.reserved
    assert reserved["w-early"] < reserved["w-late"]
    ended = h.acd.cdr.records["dead"]
    assert (ended["disposition"], ended["hangup_cause"]) == ("abandoned", "ENGINE_RESTART")
    h.acd.resumer.watch({"w-early", "w-late", "talking"})
    assert "ended_at" not in h.acd.cdr.records.get("talking", {})
    h.acd.resumer.watch({"w-early", "w-late"})  # the conversation ended while nobody listened
    assert h.acd.cdr.records["talking"]["disposition"] == "answered"


def test_a_caller_in_line_whose_queue_entry_never_reached_the_database_is_brought_back_in_its_place(h):
    """The engine died between the caller entering the line and the write: the channel's place still counts."""
    h.queue()
    h.agent(1, login=True)
    h.acd.set_state(1, "break")
    now = h.clock.seconds()
    switch = FakeSwitch({
        "recorded": {QUEUE_VAR: "sales"},
        "unrecorded": {QUEUE_VAR: "sales", "hotline_acd_entered": f"{now - 120:.3f}"},
        "in-ivr": {},  # an inbound caller still in the menus: not in a line, left alone
        "agent-leg": {QUEUE_VAR: "sales"},  # an outbound leg never counts as a caller in line
    })
    switch.directions = {"recorded": "inbound", "unrecorded": "inbound", "in-ivr": "inbound", "agent-leg": "outbound"}
    result = recover(h, switch, [OpenCall("recorded", "sales", now - 30, False)])
    assert [t[0] for t in switch.transfers] == ["unrecorded", "recorded"]  # entry order, from the channel's own time
    assert result.transferred == ["unrecorded", "recorded"]


def test_recovery_keeps_the_agent_of_a_surviving_conversation_on_call(h):
    h.queue()
    h.agent(1)
    now = h.clock.seconds()
    recover(h, FakeSwitch({"talking": {AGENT_VAR: "1"}}), [OpenCall("talking", "sales", now - 50, True, 1)])
    agent = h.acd.board.get(1)
    assert agent.state.value == "on_call" and agent.call_uuid == "talking" and agent.queues == {"sales"}
    waiting, _ = h.call()
    assert not waiting.rings  # not offered a second call


def test_recovery_requeues_open_callbacks_pending_in_place_scheduled_as_due(h):
    h.queue()
    now = h.clock.seconds()
    def request(rid, status, age, **kw):
        return {"id": rid, "number": f"1380000000{rid}", "customer_id": None, "queue_name": "sales",
                "status": status, "attempts": 0, "call_uuid": f"c{rid}", "claimed_by": None,
                "created_at": now - age, "note": "virtual hold: keeps its place in line", **kw}

    callbacks = [
        request(5, "scheduled", 600, attempts=1),
        request(4, "pending", 100, customer_id=9),
        request(6, "pending", 900, claimed_by=3),  # an agent has it
        request(7, "pending", 50, queue_name="nope"),
        request(8, "pending", 60, note="IVR callback menu: afternoon"),  # a person calls it, in its window
        request(9, "pending", 2 * 86400),  # the dialler does not wake a two-day-old request
    ]
    result = recover(h, FakeSwitch({}), [], callbacks)
    assert sorted(result.callbacks) == [4, 5]
    line = sorted(h.acd.callers.values(), key=lambda c: (-c.priority, c.seq))
    assert [c.callback.request_id for c in line] == [5, 4]  # the retry is due: it goes first
    four = next(c for c in line if c.callback.request_id == 4)
    assert four.entered_at == pytest.approx(now - 100) and four.customer_id == 9
    assert recover(h, FakeSwitch({}), [], callbacks).callbacks == []  # already followed: not twice


def test_planned_stop_lets_callers_go_without_an_outcome_or_a_cdr_end(h):
    h.queue()
    h.agent(1)
    talking, talk_results = h.call()
    talking.ring.answer()
    waiting, wait_results = h.call()
    ringing_agent = h.agent(2)
    assert waiting.rings and waiting.ring.extension == ringing_agent.extension  # its agent's phone rings
    released, sent = h.acd.resumer.release_all()
    assert sorted(released) == sorted([talking.uuid, waiting.uuid])
    assert sent.called and not h.acd.callers
    assert getattr(waiting, "let_go_calls", 0) == 1  # music stopped, ring cancelled: the dialplan takes over
    assert getattr(talking, "let_go_calls", 0) == 0  # a conversation is left alone
    assert not talk_results and not wait_results  # no outcome: the next engine finishes these calls
    assert all(e.kind != "ended" for e in h.acd.cdr.events)
    waiting.hang_up()  # the socket closes: nothing more happens here
    assert not wait_results and all(e.kind != "ended" for e in h.acd.cdr.events)


def declining(leg: ScriptedLeg) -> ScriptedLeg:
    """A caller who hears the callback offer and keeps waiting."""
    leg.offers = []

    def offer_callback(files, key, timeout):
        leg.offers.append(files)
        return defer.succeed(False)

    leg.offer_callback = offer_callback
    return leg


def test_a_caller_offered_a_callback_before_the_restart_is_not_offered_it_again():
    from acd_helpers import Harness

    h = Harness()
    h.queue(callback_after=0.0)  # nobody staffed: every wait is too long
    first = declining(ScriptedLeg())
    h.acd.enqueue(first, "sales")
    assert len(first.offers) == 1
    assert QueuePlace.from_variables(first.places[-1]).callback_offered  # written on the channel with the place
    back = declining(ScriptedLeg())
    place = QueuePlace("sales", h.clock.seconds() - 60, callback_offered=True)
    h.acd.resumer.resume(back, place)
    assert back.offers == [] and h.acd.callers[back.uuid].callback_offered
