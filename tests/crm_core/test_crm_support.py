"""After-sales: complaints with voicemail, callback requests, knowledge search with hit counting, interactions."""

from __future__ import annotations

import datetime as dt

import pytest

from crm_core.exceptions import InvalidInput, InvalidPhoneNumber
from crm_core.models import KnowledgeArticle
from crm_core.services import file_complaint, log_interaction, record_voicemail, request_callback, search_knowledge

UTC = dt.timezone.utc


def test_complaint_with_a_voicemail_from_a_known_caller(db_session, make_customer):
    customer = make_customer(phones=["13912341111"])
    voicemail = record_voicemail(db_session, "var/vm/abc.wav", 12.5, caller="013912341111",
                                 customer_id=customer.id, call_uuid="abc-123")
    complaint = file_complaint(db_session, category="logistics", customer_id=customer.id,
                               voicemail_id=voicemail.id, description="parcel late")
    assert voicemail.caller == "+8613912341111"
    assert (complaint.status, complaint.channel, complaint.voicemail.audio_path) == ("open", "ivr", "var/vm/abc.wav")


def test_voicemail_keeps_a_garbled_caller_id_as_given(db_session):
    assert record_voicemail(db_session, "var/vm/x.wav", 3, caller="anonymous").caller == "anonymous"


def test_complaint_category_must_be_known(db_session):
    with pytest.raises(ValueError):
        file_complaint(db_session, category="weather")


def test_callback_request_stores_e164_number_and_window(db_session):
    start = dt.datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    request = request_callback(db_session, "139 1234 2222", window_start=start,
                               window_end=start + dt.timedelta(hours=2), queue_name="sales")
    assert (request.number, request.status, request.attempts) == ("+8613912342222", "pending", 0)
    db_session.expire(request)
    assert request.window_start == start and request.window_start.tzinfo is not None
    with pytest.raises(InvalidInput):
        request_callback(db_session, "13912342222", window_start=start, window_end=start)
    with pytest.raises(InvalidPhoneNumber):
        request_callback(db_session, "12")


def test_knowledge_search_ranks_by_words_matched_and_counts_hits(db_session):
    refund = KnowledgeArticle(question="How do I get a refund?", answer="Refunds take 7 days.", approved=True)
    delivery = KnowledgeArticle(question="When is delivery?", answer="Delivery in 3 days; refund if late.",
                                approved=True)
    draft = KnowledgeArticle(question="Refund policy draft", answer="TBD", approved=False)
    db_session.add_all([refund, delivery, draft])
    db_session.flush()
    found = search_knowledge(db_session, "refund days how")
    assert found == [refund, delivery]
    assert (refund.hit_count, delivery.hit_count, draft.hit_count) == (1, 1, 0)
    search_knowledge(db_session, "delivery", count_hits=True)
    db_session.refresh(delivery)
    assert delivery.hit_count == 2
    assert search_knowledge(db_session, "   ") == []


def test_interaction_log_keeps_summary_and_json_detail(db_session, make_customer):
    customer = make_customer()
    entry = log_interaction(db_session, "ivr", customer_id=customer.id, summary="checked order status",
                            detail={"menu": ["main", "orders"], "order": "1234567897", "语言": "中文"},
                            call_uuid="u-1")
    db_session.expire(entry)
    assert entry.detail == {"menu": ["main", "orders"], "order": "1234567897", "语言": "中文"}
    assert entry.direction == "inbound" and entry.occurred_at.tzinfo is not None
    with pytest.raises(ValueError):
        log_interaction(db_session, "pigeon")
