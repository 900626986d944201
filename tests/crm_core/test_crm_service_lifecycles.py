"""Complaints and callback requests move only along their life cycles; blacklist marks can be revoked."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from crm_core.enums import CallbackStatus
from crm_core.exceptions import IllegalTransition, InvalidInput, NotFound, UnknownCallback, UnknownComplaint, \
    UnknownCustomer
from crm_core.models import BlacklistMark, Customer
from crm_core.services import (
    active_marks,
    change_complaint_status,
    file_complaint,
    is_blacklisted,
    mark_blacklist,
    request_callback,
    resolve_complaint,
    unmark_blacklist,
    update_callback,
)

UTC = dt.timezone.utc


# -- complaints -------------------------------------------------------------------------------------

def test_resolve_open_complaint_records_resolution_who_and_when(db_session):
    complaint = file_complaint(db_session, category="logistics", description="parcel late")
    at = dt.datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    resolve_complaint(db_session, complaint.id, "  re-sent by express  ", "yangmin", at=at)
    db_session.expire_all()
    assert (complaint.status, complaint.resolution, complaint.resolved_by) == ("resolved", "re-sent by express",
                                                                                "yangmin")
    assert complaint.resolved_at == at and complaint.assigned_to == "yangmin"


def test_complaint_goes_in_progress_resolved_closed_and_can_be_reopened_before_closing(db_session):
    complaint = file_complaint(db_session, category="service")
    change_complaint_status(db_session, complaint.id, "in_progress", by="liqiang")
    resolve_complaint(db_session, complaint.id, "apologised", "zhoutao")
    assert complaint.assigned_to == "liqiang"  # kept: who took it in hand
    change_complaint_status(db_session, complaint.id, "in_progress", by="zhoutao")  # the fix did not hold
    assert complaint.resolved_at is None and complaint.resolved_by is None
    resolve_complaint(db_session, complaint.id, "refunded", "zhoutao")
    change_complaint_status(db_session, complaint.id, "closed", by="zhoutao")
    assert (complaint.status, complaint.resolution) == ("closed", "refunded")


@pytest.mark.parametrize("path, illegal", [
    ((), "closed"),
    (("resolved",), "resolved"),
    (("resolved", "closed"), "in_progress"),
    (("resolved", "closed"), "resolved"),
])
def test_complaint_illegal_moves_are_refused_and_change_nothing(db_session, path, illegal):
    complaint = file_complaint(db_session, category="other")
    for status in path:
        change_complaint_status(db_session, complaint.id, status, by="x", resolution="done")
    before = complaint.status
    with pytest.raises(IllegalTransition) as caught:
        change_complaint_status(db_session, complaint.id, illegal, by="x", resolution="again")
    assert caught.value.details["from_status"] == before and complaint.status == before


def test_resolving_needs_a_resolution_and_a_known_complaint(db_session):
    complaint = file_complaint(db_session, category="other")
    with pytest.raises(InvalidInput):
        resolve_complaint(db_session, complaint.id, "  ", "x")
    assert complaint.status == "open"
    with pytest.raises(UnknownComplaint):
        resolve_complaint(db_session, 999_999, "fixed", "x")


# -- callbacks --------------------------------------------------------------------------------------

def test_callback_requested_scheduled_in_progress_completed_counts_one_attempt(db_session, make_agent):
    agent = make_agent()
    request = request_callback(db_session, "13912343333", note="wants a call about order")
    assert request.status == CallbackStatus.REQUESTED == "pending"
    start = dt.datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    update_callback(db_session, request.id, "scheduled", "tomorrow 10:00", "yangmin", window_start=start,
                    window_end=start + dt.timedelta(hours=2))
    update_callback(db_session, request.id, "in_progress", None, "liqiang", agent_id=agent.id, call_uuid="cb-1")
    update_callback(db_session, request.id, "completed", "reached", "liqiang")
    db_session.expire_all()
    assert (request.status, request.attempts, request.agent_id, request.call_uuid) == ("done", 1, agent.id, "cb-1")
    assert request.window_start == start
    assert request.note.splitlines() == ["wants a call about order", "scheduled by yangmin: tomorrow 10:00",
                                         "in_progress by liqiang", "done by liqiang: reached"]


def test_callback_retries_count_each_attempt_then_fail(db_session):
    request = request_callback(db_session, "13912344444")
    update_callback(db_session, request.id, "scheduled", by="system")
    for _ in range(2):
        update_callback(db_session, request.id, "in_progress", by="agent")
        update_callback(db_session, request.id, "scheduled", "no answer", "agent")
    update_callback(db_session, request.id, "in_progress", by="agent")
    update_callback(db_session, request.id, "failed", "no answer 3x", "agent")
    assert (request.status, request.attempts) == ("failed", 3)


@pytest.mark.parametrize("path, illegal", [
    ((), "done"),
    ((), "failed"),
    (("scheduled",), "done"),
    (("cancelled",), "scheduled"),
    (("in_progress", "done"), "in_progress"),
    (("in_progress", "failed"), "cancelled"),
])
def test_callback_illegal_moves_are_refused(db_session, path, illegal):
    request = request_callback(db_session, "13912345555")
    for status in path:
        update_callback(db_session, request.id, status)
    attempts = request.attempts
    with pytest.raises(IllegalTransition):
        update_callback(db_session, request.id, illegal)
    assert request.attempts == attempts


def test_callback_update_refuses_unknown_request_unknown_status_and_a_backwards_window(db_session):
    request = request_callback(db_session, "13912346666")
    with pytest.raises(UnknownCallback):
        update_callback(db_session, 999_999, "scheduled")
    with pytest.raises(InvalidInput):
        update_callback(db_session, request.id, "teleported")
    start = dt.datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        update_callback(db_session, request.id, "scheduled", window_start=start, window_end=start)
    assert request.status == "pending"


# -- blacklist ----------------------------------------------------------------------------------------

def test_unmark_all_revokes_marks_keeps_them_on_record_and_lifts_the_blacklist(db_session, make_customer):
    customer = make_customer(phones=["13912347777"])
    for n in range(3):
        mark_blacklist(db_session, customer.id, marked_by=f"agent{n}", reason="prank calls")
    assert is_blacklisted(db_session, "13912347777")
    assert unmark_blacklist(db_session, customer.id, by="supervisor", reason="appeal accepted") is False
    assert not is_blacklisted(db_session, "13912347777") and active_marks(db_session, customer.id) == 0
    marks = db_session.scalars(select(BlacklistMark).where(BlacklistMark.customer_id == customer.id)).all()
    assert len(marks) == 3 and all(m.revoked_by == "supervisor" and m.revoked_at for m in marks)
    # new marks count from zero again
    assert mark_blacklist(db_session, customer.id, marked_by="agent9", reason="again") is False


def test_unmark_one_mark_keeps_the_blacklist_while_enough_marks_remain(db_session, make_customer):
    customer = make_customer()
    for n in range(4):
        mark_blacklist(db_session, customer.id, marked_by=f"agent{n}", reason="abuse")
    first = db_session.scalars(select(BlacklistMark.id).where(BlacklistMark.customer_id == customer.id)).first()
    assert unmark_blacklist(db_session, customer.id, by="sup", reason="mistake", mark_id=first) is True
    assert unmark_blacklist(db_session, customer.id, by="sup", reason="mistake", mark_id=first + 1) is False
    assert db_session.get(Customer, customer.id).is_blacklisted is False
    with pytest.raises(NotFound):
        unmark_blacklist(db_session, customer.id, by="sup", reason="twice", mark_id=first)
    with pytest.raises(UnknownCustomer):
        unmark_blacklist(db_session, 999_999, by="sup", reason="x")
