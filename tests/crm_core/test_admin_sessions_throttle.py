"""crm_core's side of admin security: session generations and failed-log-in counting, on both backends."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import select

from crm_core.db import transaction
from crm_core.models import AdminUser, AuditEntry, LoginThrottle
from crm_core.services.admin_sessions import end_sessions, session_is_current
from crm_core.services.login_throttle import (
    ThrottlePolicy,
    address_key,
    clear_account,
    record_failure,
    seconds_locked,
    user_key,
)
import factories

UTC = dt.timezone.utc
T0 = dt.datetime(2031, 5, 1, 8, 0, tzinfo=UTC)


def _user(session, **kw) -> AdminUser:  # type: ignore[no-untyped-def]
    user = AdminUser(username=f"cs{factories.next_serial()}", role="agent", password_hash="h1", **kw)
    session.add(user)
    session.flush()
    return user


def test_password_role_and_active_changes_end_sessions_other_edits_do_not(db_session) -> None:
    user = _user(db_session)
    assert user.session_version == 0
    user.last_login_at = T0
    db_session.flush()
    assert user.session_version == 0
    for change in ({"password_hash": "h2"}, {"role": "supervisor"}, {"active": False}):
        before = user.session_version
        for key, value in change.items():
            setattr(user, key, value)
        db_session.flush()
        assert user.session_version == before + 1, change


def test_end_sessions_and_the_current_check(db_session) -> None:
    user = _user(db_session)
    assert session_is_current(db_session, user.id, 0)
    end_sessions(db_session, user.id)
    db_session.expire_all()
    assert not session_is_current(db_session, user.id, 0) and session_is_current(db_session, user.id, 1)
    user.active = False
    db_session.flush()
    assert not session_is_current(db_session, user.id, user.session_version)
    assert not session_is_current(db_session, 10**9, 0)


def test_lockouts_grow_from_the_free_count_to_the_maximum() -> None:
    policy = ThrottlePolicy(max_failures=3, lockout_seconds=10, lockout_max_seconds=100)
    assert [policy.lock_for(n, 3) for n in range(1, 9)] == [0, 0, 10, 20, 40, 80, 100, 100]
    assert policy.lock_for(10**6, 3) == 100


def test_failures_count_per_name_and_address_lock_and_are_forgotten(db_session) -> None:
    policy = ThrottlePolicy(max_failures=2, max_failures_per_address=3, lockout_seconds=10, memory_seconds=600)
    name, addr = f"n{factories.next_serial()}", f"192.0.2.{factories.next_serial() % 250}"
    keys = [user_key(name), address_key(addr)]
    assert record_failure(db_session, policy, name, addr, T0) == 0
    assert seconds_locked(db_session, keys, T0) == 0
    assert record_failure(db_session, policy, name, addr, T0) == 10
    assert seconds_locked(db_session, keys, T0 + dt.timedelta(seconds=4)) == 6
    assert seconds_locked(db_session, keys, T0 + dt.timedelta(seconds=10)) == 0
    later = T0 + dt.timedelta(seconds=601)  # quiet for longer than the memory: counting starts again
    assert record_failure(db_session, policy, name, addr, later) == 0
    assert db_session.get(LoginThrottle, user_key(name)).failures == 1
    clear_account(db_session, name)
    assert db_session.get(LoginThrottle, user_key(name)) is None
    assert db_session.get(LoginThrottle, address_key(addr)) is not None, "success never clears the address"
    audited = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "login-failed",
                                                          AuditEntry.username == name)).all()
    assert len(audited) == 3 and audited[1].changes["locked_seconds"] == 10


def test_stale_rows_are_purged(db_session) -> None:
    policy = ThrottlePolicy(memory_seconds=60)
    old = f"old{factories.next_serial()}"
    record_failure(db_session, policy, old, "198.51.100.1", T0)
    record_failure(db_session, policy, f"new{factories.next_serial()}", "198.51.100.2", T0 + dt.timedelta(hours=1))
    assert db_session.get(LoginThrottle, user_key(old)) is None


def test_concurrent_failures_are_all_counted(engine) -> None:
    from crm_core.db import session_factory

    factory = session_factory(engine)
    name = f"race{factories.next_serial()}"
    policy = ThrottlePolicy(max_failures=1000, max_failures_per_address=1000)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def fail() -> None:
        try:
            start.wait()
            with transaction(factory) as session:
                record_failure(session, policy, name, "203.0.113.9", T0)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=fail) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert errors == []
    with transaction(factory) as session:
        assert session.get(LoginThrottle, user_key(name)).failures == 8
        session.query(LoginThrottle).filter(LoginThrottle.key.in_([user_key(name), address_key("203.0.113.9")])
                                            ).delete()
        session.query(AuditEntry).filter(AuditEntry.username == name).delete()
