"""Virtual hold with task.Clock: offer, keep the place, customer no-answer retried by policy, manual list."""

from __future__ import annotations

from twisted.internet import defer

from acd.callbacks import CallbackPolicy, CustomerFailed, MemoryCallbackStore
from acd.exceptions import CallbackUnavailable
from acd_helpers import Harness


class FakeDialer:
    """Answers dial() with a scripted failure cause or a live ScriptedLeg-backed call (here: failures only)."""

    def __init__(self, causes):
        self.causes = list(causes)
        self.dialled: list[tuple[str, str]] = []

    def dial(self, number, leg_uuid, variables):
        self.dialled.append((number, leg_uuid))
        return defer.fail(CustomerFailed(self.causes.pop(0)))


def accepting(leg):
    leg.offers = []

    def offer_callback(files, key, timeout):
        leg.offers.append((files, key))
        return defer.succeed(True)

    leg.offer_callback = offer_callback
    return leg


def test_callback_accepted_keeps_place_then_customer_no_answer_is_retried_by_policy_and_every_attempt_recorded():
    store = MemoryCallbackStore()
    h = Harness(callback_store=store, callback_policy=CallbackPolicy(max_attempts=2, retry_spacing=60))
    h.queue(callback_after=30.0)
    first, _ = h.call()  # nobody staffed: expected wait unknown -> no offer to a plain leg
    from acd_helpers import ScriptedLeg

    leg = accepting(ScriptedLeg())
    outcomes = []
    h.acd.enqueue(leg, "sales").addCallback(outcomes.append)
    assert outcomes[0].kind == "callback" and leg.offers[0][1] == "1"
    cq = h.acd.queues["sales"]
    line = list(cq)
    assert line[0].uuid == first.uuid and line[1].callback is not None  # second in line, as the caller was
    assert store.rows[1]["status"] == "pending" and store.rows[1]["call_uuid"] == leg.uuid
    h.acd.callbacks.dialer = FakeDialer(["NO_ANSWER", "USER_BUSY"])
    first.hang_up()
    h.agent(1)
    assert h.state(1) == "available"  # the customer failed, not the agent
    assert store.rows[1]["attempts"] == 1 and store.rows[1]["status"] == "scheduled"
    assert not [c for c in cq if c.callback is not None]
    h.clock.advance(60)  # the retry comes due: priority callback-due, the agent is reserved again, busy
    assert store.rows[1]["attempts"] == 2 and store.rows[1]["status"] == "failed"
    assert [r for r, _c in store.rows[1]["log"]] == ["customer_no_answer", "customer_busy"]
    assert len(h.acd.callbacks.dialer.dialled) == 2 and h.state(1) == "available"


def test_callback_manual_list_claim_and_complete():
    store = MemoryCallbackStore()
    h = Harness(callback_store=store)
    store.create(number="13800000001", customer_id=None, queue="sales", call_uuid="x")
    listed = []
    h.acd.callbacks.list().addCallback(listed.append)
    assert [r["id"] for r in listed[0]] == [1]
    h.acd.callbacks.claim(1, agent_id=7)
    failure = []
    h.acd.callbacks.claim(1, agent_id=8).addErrback(failure.append)
    assert failure and failure[0].check(CallbackUnavailable)
    h.acd.callbacks.complete(1, 7, True)
    assert store.rows[1]["status"] == "done"
