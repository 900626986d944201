"""The outbox service on SQLite and PostgreSQL: queueing (checked, rendered, idempotent), claims, outcomes, recovery."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from crm_core.enums import MessageStatus
from crm_core.exceptions import IllegalTransition, InvalidRecipient, MissingMergeField, UnknownTemplate
from crm_core.models import OutboxMessage
from crm_core.services.inbound import opt_out
from crm_core.services.message_templates import ensure_default_templates
from crm_core.services.outbox import MessageRequest, cancel_message, enqueue, enqueue_many, retry_message
from crm_core.services.outbox_dispatch import (
    Receipt,
    SendOutcome,
    claim_due,
    claimed_workers,
    expire_due,
    record_outcomes,
    record_receipt,
    recover_claims,
)

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def templates(db_session):
    ensure_default_templates(db_session)


def _sms(db_session, key, number="13800138000", **kw):
    return enqueue(db_session, "sms", number, template="order_shipped", key=key, now=NOW,
                   data={"customer_name": "李雷", "order_no": "1234567890", "courier": "顺丰", "waybill": "SF1"}, **kw)


def test_enqueue_renders_normalises_counts_segments_and_is_idempotent(db_session, templates):
    first = _sms(db_session, "k-1")
    assert (first.recipient, first.status, first.segments) == ("+8613800138000", "queued", 1)
    assert first.body == "李雷您好，您的订单1234567890已由顺丰发出，运单号SF1。"
    again = _sms(db_session, "k-1", number="13900139000")  # same key: the first message, nothing new
    assert again.id == first.id and again.recipient == "+8613800138000"
    assert db_session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == "k-1")) == first.id


def test_enqueue_refuses_bad_recipients_and_missing_merge_fields(db_session, templates):
    with pytest.raises(InvalidRecipient) as bad:
        enqueue(db_session, "sms", "12345", body="hi")
    assert bad.value.details["reason"] == "bad-number"
    with pytest.raises(InvalidRecipient) as landline:
        enqueue(db_session, "sms", "02112345678", body="hi")  # Shanghai landline: no SMS
    assert landline.value.details["reason"] == "not-mobile"
    assert enqueue(db_session, "fax", "02112345678", body="page").recipient == "+862112345678"
    with pytest.raises(InvalidRecipient):
        enqueue(db_session, "email", "not an address", subject="x", body="hi")
    with pytest.raises(MissingMergeField) as missing:
        enqueue(db_session, "sms", "13800138000", template="order_shipped", data={"order_no": "1"})
    assert missing.value.details["field"] == "customer_name"
    with pytest.raises(UnknownTemplate):
        enqueue(db_session, "sms", "13800138000", template="no_such", data={})
    assert db_session.scalar(select(OutboxMessage.id).where(OutboxMessage.recipient == "+8612345")) is None


def test_opted_out_recipient_gets_a_cancelled_row_unless_exempt(db_session, templates):
    opt_out(db_session, "sms", "+8613800138001", source="sms TD")
    row = enqueue(db_session, "sms", "13800138001", body="promo", key="promo-1")
    assert row.status == "cancelled" and "opted out of sms" in row.last_error
    exempt = enqueue(db_session, "sms", "13800138001", body="bye", key="bye-1", ignore_opt_out=True)
    assert exempt.status == "queued"


def test_enqueue_many_multi_row_reports_refusals_and_duplicates(db_session, templates):
    requests = [MessageRequest("sms", f"1380013{i:04d}", body=f"hello {i}", key=f"bulk-{i}") for i in range(50)]
    requests.append(MessageRequest("sms", "999", body="x", key="bulk-bad"))
    result = enqueue_many(db_session, requests, now=NOW)
    assert (result.created, result.duplicates) == (50, 0)
    assert [i for i, _ in result.refused] == [50]
    again = enqueue_many(db_session, requests[:10], now=NOW)
    assert (again.created, again.duplicates) == (0, 10)


def test_claim_outcomes_retry_exhaustion_and_receipts(db_session, templates):
    ids = [_sms(db_session, f"c-{i}", max_attempts=2).id for i in range(3)]
    claimed = claim_due(db_session, "sms", 2, worker="host:1", lease_seconds=60, now=NOW)
    assert [m.id for m in claimed] == ids[:2] and all(m.attempts == 1 for m in claimed)
    assert claim_due(db_session, "email", 5, worker="host:1", lease_seconds=60, now=NOW) == []
    record_outcomes(db_session, [
        SendOutcome(ids[0], "sent", provider="http", provider_message_id="p-0"),
        SendOutcome(ids[1], "retry", provider="http", error="503", retry_at=NOW + dt.timedelta(seconds=30))], NOW)
    db_session.expire_all()
    first, second = db_session.get(OutboxMessage, ids[0]), db_session.get(OutboxMessage, ids[1])
    assert (first.status, first.provider_message_id, first.lease_until) == ("sent", "p-0", None)
    assert (second.status, second.last_error) == ("queued", "503")
    # not due yet; then due, claimed (attempt 2 of 2), fails again: failed for good
    assert [m.id for m in claim_due(db_session, "sms", 5, worker="host:1", lease_seconds=60, now=NOW)] == [ids[2]]
    later = NOW + dt.timedelta(seconds=31)
    assert [m.id for m in claim_due(db_session, "sms", 5, worker="host:1", lease_seconds=60, now=later)] == [ids[1]]
    record_outcomes(db_session, [SendOutcome(ids[1], "retry", error="503 again", retry_at=later)], later)
    db_session.expire_all()
    assert db_session.get(OutboxMessage, ids[1]).status == "failed"
    # receipts: match by provider id, repeated reports change nothing, unknown ids are not matched
    assert record_receipt(db_session, Receipt("http", "p-0", "delivered"), later) == ids[0]
    assert record_receipt(db_session, Receipt("http", "p-0", "failed", error="late"), later) == ids[0]
    assert record_receipt(db_session, Receipt("http", "nope", "delivered"), later) is None
    db_session.expire_all()
    assert db_session.get(OutboxMessage, ids[0]).status == "delivered"


def test_recovery_requeues_dead_workers_at_once_and_others_when_the_lease_lapses(db_session, templates):
    ids = [_sms(db_session, f"r-{i}").id for i in range(2)]
    claim_due(db_session, "sms", 1, worker="host:111", lease_seconds=300, now=NOW)
    claim_due(db_session, "sms", 1, worker="other:222", lease_seconds=300, now=NOW)
    assert sorted(claimed_workers(db_session)) == ["host:111", "other:222"]
    assert recover_claims(db_session, dead_workers=["host:111"], now=NOW) == 1
    assert recover_claims(db_session, now=NOW + dt.timedelta(seconds=299)) == 0
    assert recover_claims(db_session, now=NOW + dt.timedelta(seconds=301)) == 1
    db_session.expire_all()
    rows = [db_session.get(OutboxMessage, i) for i in ids]
    assert [r.status for r in rows] == ["queued", "queued"] and all(r.attempts == 1 for r in rows)


def test_expiry_cancel_and_retry(db_session, templates):
    row = _sms(db_session, "e-1", expires_at=NOW + dt.timedelta(hours=1))
    assert claim_due(db_session, "sms", 5, worker="w:1", lease_seconds=5, now=NOW + dt.timedelta(hours=2)) == []
    assert expire_due(db_session, NOW + dt.timedelta(hours=2)) >= 1
    db_session.expire_all()
    assert db_session.get(OutboxMessage, row.id).status == MessageStatus.EXPIRED
    again = retry_message(db_session, row.id, by="admin", now=NOW)
    assert (again.status, again.attempts, again.expires_at) == ("queued", 0, None)
    assert cancel_message(db_session, row.id, by="admin").status == "cancelled"
    with pytest.raises(IllegalTransition):
        cancel_message(db_session, row.id, by="admin")
