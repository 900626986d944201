"""CrmGateway.log_interaction on the DB gateway's group commit: steps of several calls within the batch window
share one transaction, in order."""

from __future__ import annotations

import pytest_twisted
from sqlalchemy import select
from twisted.internet import defer, reactor

from crm_core.db import transaction
from crm_core.models import Interaction
from hotline.db_gateway import ThreadPoolGateway
from ivr.crm_gateway import CrmGateway


class CountingDb(ThreadPoolGateway):
    """Counts the transactions the gateway runs."""

    transactions = 0

    def run(self, work, *args, **kwargs):
        self.transactions += 1
        return super().run(work, *args, **kwargs)


def CountingGateway(factory, reactor, max_threads: int, log_batch_window: float) -> CrmGateway:
    """A CrmGateway whose DB gateway counts transactions (``gateway.db.transactions``)."""
    return CrmGateway(CountingDb(factory, reactor, max_threads=max_threads, batch_window=log_batch_window))


def step(gateway: CrmGateway, call_uuid: str, summary: str) -> defer.Deferred:
    return gateway.log_interaction(call_uuid=call_uuid, customer_id=None, address="13800138000", summary=summary,
                                   detail={"event": summary})


@pytest_twisted.ensureDeferred
async def test_steps_within_the_window_share_one_transaction_and_keep_their_order(crm_db):
    gateway = CountingGateway(crm_db, reactor, max_threads=2, log_batch_window=0.05)
    try:
        first = [step(gateway, "call-a", "start"), step(gateway, "call-b", "start")]
        ids = await defer.gatherResults(first + [step(gateway, "call-a", "option")])
        assert gateway.db.transactions == 1 and ids == sorted(ids)
        later = await step(gateway, "call-b", "hangup")  # after the batch: a batch of its own
        assert gateway.db.transactions == 2 and later > max(ids)
        with transaction(crm_db) as session:
            rows = [(r.call_uuid, r.summary) for r in session.scalars(select(Interaction).order_by(Interaction.id))]
        assert rows == [("call-a", "start"), ("call-b", "start"), ("call-a", "option"), ("call-b", "hangup")]
    finally:
        gateway.stop()


@pytest_twisted.ensureDeferred
async def test_a_bad_row_in_a_batch_fails_alone(crm_db):
    gateway = CountingGateway(crm_db, reactor, max_threads=2, log_batch_window=0.05)
    try:
        good = step(gateway, "call-a", "start")
        bad = gateway.log_interaction(call_uuid="call-b", customer_id=10**9, address=None, summary="start",
                                      detail={})  # no such customer: the foreign key refuses it
        results = await defer.DeferredList([good, bad], consumeErrors=True)
        assert results[0][0] and not results[1][0]
        with transaction(crm_db) as session:
            assert [r.call_uuid for r in session.scalars(select(Interaction))] == ["call-a"]
    finally:
        gateway.stop()


@pytest_twisted.ensureDeferred
async def test_stop_writes_the_rows_still_waiting_out_the_window(crm_db):
    gateway = CountingGateway(crm_db, reactor, max_threads=2, log_batch_window=30.0)
    gateway.db.start()
    waiting = step(gateway, "call-a", "hangup")
    gateway.stop()  # the pool finishes its queue before it stops
    assert gateway.db.transactions == 1
    assert await waiting > 0
    with transaction(crm_db) as session:
        assert [r.summary for r in session.scalars(select(Interaction))] == ["hangup"]
