"""Benchmark the outbox on PostgreSQL: messages queued per second, delivered per second, recovery after a restart.

    .venv/bin/python bench/outbox.py [--pg-url URL] [--messages 20000] [--recover 100000] [--quick]

A throw-away database is created beside ``--pg-url`` / ``$HOTLINE_TEST_PG_URL``
(dropped at the end) and migrated with the real migrations.

* enqueue: ``crm_core.services.outbox.enqueue_many`` (recipient checked, the
  ``order_shipped`` template rendered, SMS parts counted, multi-row INSERT
  ... ON CONFLICT DO NOTHING) in batches of 500 -- what a campaign blast does;
  one-message transactions (``enqueue``, what the IVR does per call) are
  timed too;
* delivery: the real dispatcher (claims with FOR UPDATE SKIP LOCKED, outcomes
  group-committed) through the capture gateway on the engine's database
  gateway (``CrmGateway``, 8 threads), until every message is delivered;
* recovery: ``--recover`` messages left ``sending`` by a dispatcher whose
  process is gone (this host, a dead pid), as after a crash; a new dispatcher
  starts: the time to put them back in the queue, the time to the first
  delivery, and the time until all are delivered.

``--quick`` (3,000 messages, 10,000 to recover) finishes in under a minute.
Figures are printed, never asserted; the last line reads
``outbox: enqueued N/s delivered M/s``.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text, update  # noqa: E402

from crm_core import migrate  # noqa: E402
from crm_core.db import make_engine, session_factory, transaction  # noqa: E402
from crm_core.models import OutboxMessage  # noqa: E402
from crm_core.services.message_templates import ensure_default_templates  # noqa: E402
from crm_core.services.outbox import MessageRequest, enqueue, enqueue_many  # noqa: E402
from crm_orders import _create_pg_database, _drop_pg_database  # noqa: E402  (bench/, the script's folder)

DATA = {"customer_name": "李雷", "order_no": "1387820846", "courier": "顺丰速运", "waybill": "SF1234567890"}
BATCH = 500


def _requests(prefix: str, n: int, start: int = 0) -> list[MessageRequest]:
    return [MessageRequest("sms", f"+86139{(start + i) % 10**8:08d}", template="order_shipped", data=DATA,
                           key=f"{prefix}-{start + i}") for i in range(n)]


def bench_enqueue(sessions, n: int) -> float:
    """Messages queued per second with enqueue_many (batches of BATCH)."""
    started = time.perf_counter()
    for start in range(0, n, BATCH):
        with transaction(sessions) as session:
            result = enqueue_many(session, _requests("bench", min(BATCH, n - start), start))
            assert result.created == min(BATCH, n - start), result
    return n / (time.perf_counter() - started)


def bench_single(sessions, n: int) -> float:
    """One message per transaction (the IVR's case)."""
    started = time.perf_counter()
    for i in range(n):
        with transaction(sessions) as session:
            enqueue(session, "sms", f"+86138{i:08d}", template="order_shipped", data=DATA, key=f"single-{i}")
    return n / (time.perf_counter() - started)


def _count(sessions, status: str) -> int:
    with transaction(sessions) as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == status))


async def _deliver(reactor, sessions, expected: int, label: str) -> dict[str, float]:
    """Run a dispatcher with the capture gateway until ``expected`` more messages are delivered."""
    from twisted.internet import task

    from hotline.db_gateway import ThreadPoolGateway
    from messaging.channels.capture import CaptureAdapter
    from messaging.dispatcher import Dispatcher, DispatchPolicy
    from messaging.gateways import CAPTURE_RATE

    gateway = ThreadPoolGateway(sessions, reactor, max_threads=8)
    gateway.start()
    dispatcher = Dispatcher(gateway, clock=reactor, policy=DispatchPolicy(batch=500, poll_interval=0.05))
    dispatcher.add_lane("sms", CaptureAdapter(gateway, reactor), rate=CAPTURE_RATE, burst=CAPTURE_RATE)
    started = time.perf_counter()
    recovered = await dispatcher.start()
    recovered_at = time.perf_counter() - started
    first = None
    while dispatcher.counts["delivered"] < expected:
        if first is None and dispatcher.counts["delivered"]:
            first = time.perf_counter() - started
        await task.deferLater(reactor, 0.02, lambda: None)
        if time.perf_counter() - started > 1800:
            raise RuntimeError(f"{label}: only {dispatcher.counts['delivered']} of {expected} delivered in 30 min")
    await dispatcher.writer.flush()
    elapsed = time.perf_counter() - started
    await dispatcher.stop()
    gateway.stop()
    return {"elapsed": elapsed, "recovered": float(recovered), "recovered_at": recovered_at,
            "first": first if first is not None else elapsed}


def _strand(sessions, n: int) -> None:
    """``n`` messages left 'sending' by a dispatcher of this host whose process is gone."""
    dead = f"{socket.gethostname()}:999999999"
    for start in range(0, n, BATCH):
        with transaction(sessions) as session:
            enqueue_many(session, _requests("stranded", min(BATCH, n - start), start))
    with transaction(sessions) as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.status == "queued").values(
            status="sending", attempts=1, claimed_by=dead, lease_until=func.now() + text("interval '1 hour'")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", default=os.environ.get("HOTLINE_TEST_PG_URL"),
                        help="a PostgreSQL URL whose role may CREATE DATABASE (default $HOTLINE_TEST_PG_URL)")
    parser.add_argument("--messages", type=int, default=20_000, help="messages to queue and deliver")
    parser.add_argument("--single", type=int, default=1_000, help="one-message transactions to time")
    parser.add_argument("--recover", type=int, default=100_000, help="stranded messages to recover")
    parser.add_argument("--quick", action="store_true", help="3,000 messages, 10,000 to recover (under a minute)")
    args = parser.parse_args()
    if args.quick:
        args.messages, args.single, args.recover = 3_000, 300, 10_000
    if not args.pg_url:
        print("bench/outbox.py needs PostgreSQL: --pg-url or HOTLINE_TEST_PG_URL", file=sys.stderr)
        return 2
    import logging

    logging.basicConfig(level=logging.WARNING)
    url, name = _create_pg_database(args.pg_url)
    try:
        migrate.upgrade(url)
        engine = make_engine(url, pool_size=10)
        sessions = session_factory(engine)
        with transaction(sessions) as session:
            ensure_default_templates(session)
        load = os.getloadavg()[0]
        single = bench_single(sessions, args.single)
        enqueued = bench_enqueue(sessions, args.messages)
        print(f"enqueue: {args.messages} messages in batches of {BATCH}: {enqueued:,.0f}/s "
              f"(one transaction per message: {single:,.0f}/s; load {load:.1f})", flush=True)

        from twisted.internet import defer, task

        async def run(reactor):
            delivery = await _deliver(reactor, sessions, args.messages + args.single, "delivery")
            rate = (args.messages + args.single) / delivery["elapsed"]
            print(f"delivery: {args.messages + args.single} messages through the capture gateway in "
                  f"{delivery['elapsed']:.1f}s: {rate:,.0f}/s", flush=True)
            _strand(sessions, args.recover)
            recovery = await _deliver(reactor, sessions, args.recover, "recovery")
            assert _count(sessions, "delivered") == args.messages + args.single + args.recover
            print(f"recovery: {int(recovery['recovered'])} stranded 'sending' messages queued again in "
                  f"{recovery['recovered_at']:.2f}s, first delivery after {recovery['first']:.2f}s, all delivered "
                  f"after {recovery['elapsed']:.1f}s ({args.recover / recovery['elapsed']:,.0f}/s)", flush=True)
            print(f"outbox: enqueued {enqueued:.0f}/s delivered {rate:.0f}/s", flush=True)

        task.react(lambda reactor: defer.ensureDeferred(run(reactor)))
    finally:
        try:
            engine.dispose()  # type: ignore[possibly-undefined]
        except NameError:
            pass
        _drop_pg_database(args.pg_url, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
