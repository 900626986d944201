"""The look-ups on the hot path (order number, caller phone, product code) are served by indexes."""

from __future__ import annotations

import pytest
from sqlalchemy import text

QUERIES = {
    "order number": ("SELECT id, status FROM orders WHERE number = :v", "1234567897"),
    "customer phone": ("SELECT customer_id FROM customer_phones WHERE e164 = :v", "+8613800000000"),
    "product phone code": ("SELECT id FROM products WHERE phone_code = :v", "1234"),
    "orders by customer": ("SELECT id FROM orders WHERE customer_id = :v ORDER BY created_at DESC LIMIT 3", 1),
}


@pytest.mark.parametrize("lookup", sorted(QUERIES))
def test_lookup_uses_an_index(db_session, backend, lookup):
    sql, value = QUERIES[lookup]
    if backend == "postgresql":
        db_session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(db_session.execute(text("EXPLAIN " + sql), {"v": value}).scalars())
        assert "Index" in plan and "Seq Scan" not in plan, plan
    else:
        rows = db_session.execute(text("EXPLAIN QUERY PLAN " + sql), {"v": value}).all()
        plan = "\n".join(str(row[-1]) for row in rows)
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
