"""Group commit: every writer of a window gets all its items as one list, in queue order, whatever other writers
queued in between, and each waiter gets its own item's result."""

from __future__ import annotations

import pytest_twisted
from sqlalchemy.orm import sessionmaker
from twisted.internet import defer, reactor

from hotline.db_gateway import ThreadPoolGateway, batch_groups


def test_a_batch_is_grouped_per_writer_in_first_appearance_order():
    def a(session, items):
        return items

    def b(session, items):
        return items

    batch = [(a, 1, None), (b, 2, None), (a, 3, None), (b, 4, None), (a, 5, None)]
    assert batch_groups(batch) == [(a, [0, 2, 4]), (b, [1, 3])]


@pytest_twisted.ensureDeferred
async def test_interleaved_writers_share_one_transaction_one_call_each_and_answer_the_right_waiter(engine):
    calls: list[tuple[str, list]] = []

    def steps(session, items):
        calls.append(("steps", list(items)))
        return [f"step {i}" for i in items]

    def rows(session, items):
        calls.append(("rows", list(items)))
        return [f"row {i}" for i in items]

    gateway = ThreadPoolGateway(sessionmaker(bind=engine), reactor, max_threads=2, batch_window=0.05)
    try:
        waiters = [gateway.write_batched(steps if i % 2 else rows, i) for i in range(6)]
        results = await defer.gatherResults(waiters)
    finally:
        gateway.stop()
    assert calls == [("rows", [0, 2, 4]), ("steps", [1, 3, 5])]  # one call per writer, items in queue order
    assert results == ["row 0", "step 1", "row 2", "step 3", "row 4", "step 5"]
