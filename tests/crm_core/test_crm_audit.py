"""The admin audit log lives in crm_core: written with the change it describes, readable by model and key."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.enums import AuditAction
from crm_core.models import AuditEntry
from crm_core.services import record_audit


def test_audit_entry_records_who_when_what_and_from_where(db_session):
    entry = record_audit(db_session, AuditAction.UPDATE, "products", 42, {"price": ["99.00", "89.00"]},
                         user_id=7, username="yangmin", remote_addr="2001:db8:85a3::8a2e:370:7334")
    db_session.flush()
    db_session.expire_all()
    row = db_session.scalars(select(AuditEntry).where(AuditEntry.model == "products", AuditEntry.pk == "42")).one()
    assert row.id == entry.id and row.at is not None and row.at.tzinfo is not None
    assert (row.user_id, row.username, row.action) == (7, "yangmin", "update")
    assert row.changes == {"price": ["99.00", "89.00"]}
    assert row.remote_addr == "2001:db8:85a3::8a2e:370:7334"  # IPv6 fits


def test_audit_entry_without_a_user_or_changes_stores_nulls(db_session):
    entry = record_audit(db_session, "login", "admin_users")
    db_session.flush()
    assert (entry.user_id, entry.username, entry.pk, entry.changes, entry.remote_addr) == (None,) * 5


def test_audit_entry_rolls_back_with_the_change(db_session):
    savepoint = db_session.begin_nested()
    record_audit(db_session, AuditAction.DELETE, "customers", 1)
    db_session.flush()
    savepoint.rollback()
    assert db_session.scalars(select(AuditEntry).where(AuditEntry.model == "customers")).all() == []
