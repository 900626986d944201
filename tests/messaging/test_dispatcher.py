"""The dispatcher with the capture gateway on a real database: claims, batches, rate limits, retries, recovery."""

from __future__ import annotations

import pytest_twisted
from sqlalchemy import func, select
from twisted.internet import defer, reactor

from crm_core.models import CapturedMessage
from crm_core.services.outbox import MessageRequest, enqueue, enqueue_many
from messaging.channels.base import SendResult, TransientSendError
from messaging.channels.capture import CaptureAdapter
from messaging.dispatcher import Dispatcher, DispatchPolicy

from messaging_rig import wait_for


def _queue(db, n, channel="sms"):
    return db.do(lambda s: enqueue_many(s, [MessageRequest(channel, f"1390013{i:04d}", body=f"msg {i}",
                                                           key=f"d-{i}") for i in range(n)]))


@pytest_twisted.ensureDeferred
async def test_capture_gateway_delivers_everything_once_on_both_backends(outbox_db):
    _queue(outbox_db, 450)
    dispatcher = Dispatcher(outbox_db.gateway, clock=reactor, policy=DispatchPolicy(batch=100, poll_interval=0.05))
    dispatcher.add_lane("sms", CaptureAdapter(outbox_db.gateway, reactor), rate=10_000)
    await dispatcher.start()
    await wait_for(lambda: dispatcher.counts["delivered"] >= 450, what="450 deliveries")
    await dispatcher.stop()
    rows = outbox_db.messages()
    assert {r.status for r in rows} == {"delivered"} and all(r.attempts == 1 for r in rows)
    assert outbox_db.do(lambda s: s.scalar(select(func.count()).select_from(CapturedMessage))) == 450
    assert all(r.provider == "capture" and r.provider_message_id.startswith("cap-") for r in rows)


class Flaky:
    """An adapter that fails transiently ``fails`` times per message, then delivers."""

    kind, max_in_flight, lease_seconds = "flaky", 10, 60.0

    def __init__(self, fails):
        self.fails, self.calls = fails, []

    def start(self, listener):
        pass

    def stop(self):
        pass

    def send(self, message):
        self.calls.append((message.id, message.attempts))
        if message.attempts <= self.fails:
            return defer.fail(TransientSendError("gateway unreachable: connection refused"))
        return defer.succeed(SendResult("sent", f"p-{message.id}"))


@pytest_twisted.ensureDeferred
async def test_transient_failures_back_off_then_give_up_after_max_attempts(sqlite_outbox_db):
    db = sqlite_outbox_db
    ok = db.do(lambda s: enqueue(s, "sms", "13800138000", body="a", key="ok", max_attempts=3).id)
    doomed = db.do(lambda s: enqueue(s, "sms", "13800138001", body="b", key="doomed", max_attempts=2).id)
    adapter = Flaky(fails=2)
    dispatcher = Dispatcher(db.gateway, clock=reactor, policy=DispatchPolicy(poll_interval=0.02, retry_base=0.05,
                                                                             retry_max=0.1))
    dispatcher.add_lane("sms", adapter, rate=1000)
    await dispatcher.start()
    await wait_for(lambda: db.message(ok).status == "sent" and db.message(doomed).status == "failed", what="outcomes")
    await dispatcher.stop()
    assert [a for i, a in adapter.calls if i == ok] == [1, 2, 3]
    assert [a for i, a in adapter.calls if i == doomed] == [1, 2]
    failed = db.message(doomed)
    assert failed.last_error == "attempt 2/2: gateway unreachable: connection refused"
    assert db.message(ok).provider_message_id == f"p-{ok}"


@pytest_twisted.ensureDeferred
async def test_rate_limit_paces_a_channel(sqlite_outbox_db):
    db = sqlite_outbox_db
    _queue(db, 12)
    dispatcher = Dispatcher(db.gateway, clock=reactor, policy=DispatchPolicy(poll_interval=0.02))
    dispatcher.add_lane("sms", CaptureAdapter(db.gateway, reactor), rate=20, burst=2)
    start = reactor.seconds()
    await dispatcher.start()
    await wait_for(lambda: dispatcher.counts["delivered"] >= 12, what="12 deliveries")
    elapsed = reactor.seconds() - start
    await dispatcher.stop()
    assert elapsed >= (12 - 2) / 20 * 0.9  # burst 2, then 20/s
