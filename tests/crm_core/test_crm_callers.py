"""The caller look-up a call starts with: one statement, the same answers as asking for each part."""

from __future__ import annotations

import pytest
from sqlalchemy import event

import factories
from crm_core.exceptions import InvalidPhoneNumber
from crm_core.models import Address, BlacklistMark, CustomerTag
from crm_core.services.callers import caller_record
from crm_core.services.customers import active_marks, find_customer_by_phone
from crm_core.types import utcnow


def test_the_callers_record_in_one_statement(db_session):
    customer = factories.make_customer(db_session, name="王芳", phones=["13900000021"])
    db_session.add_all([
        Address(customer_id=customer.id, recipient="王芳", city="上海", line1="南京路1号"),
        Address(customer_id=customer.id, recipient="王芳", province="广东", city="广州", line1="天河路2号",
                postcode="510000", is_default=True),
        CustomerTag(customer_id=customer.id, tag="vip"),
        BlacklistMark(customer_id=customer.id, marked_by="t", reason="abuse"),
        BlacklistMark(customer_id=customer.id, marked_by="t", reason="old", revoked_at=utcnow()),
    ])
    db_session.flush()
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    connection = db_session.connection()
    event.listen(connection, "before_cursor_execute", seen)
    try:
        record = caller_record(db_session, "+86 139-0000-0021")
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    assert len(statements) == 1
    default = db_session.get(Address, record.address_id)
    assert record.address_id == default.id and default.is_default and record.address == default.one_line()
    assert record.address == "广东 广州 天河路2号 510000"
    assert (record.customer_id, record.name, record.tagged) == (customer.id, "王芳", True)
    assert record.active_marks == active_marks(db_session, customer.id) == 1  # the revoked one does not count
    assert record.customer_id == find_customer_by_phone(db_session, "13900000021").id


def test_an_unknown_or_bare_caller(db_session):
    bare = factories.make_customer(db_session, name="李雷", phones=["13900000022"])
    record = caller_record(db_session, "13900000022")
    assert (record.customer_id, record.tagged, record.active_marks, record.address_id, record.address) == (
        bare.id, False, 0, None, None)
    assert caller_record(db_session, "13900000023") is None
    with pytest.raises(InvalidPhoneNumber):
        caller_record(db_session, "not a number")
