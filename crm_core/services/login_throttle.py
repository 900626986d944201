"""Throttling of failed log-ins: per account name and per client address, lock-outs that grow, audited.

Each failure counts against two keys, ``user:<name as typed>`` and
``addr:<client address>`` (an unknown name counts exactly like a known one,
so lock-outs reveal nothing about which names exist). Once a key has had
``max_failures`` failures in a row (``max_failures_per_address`` for an
address, which a whole office may share), every further failure locks it for
``lockout_seconds``, doubling each time up to ``lockout_max_seconds``. A key
forgets its failures ``memory_seconds`` after the last one; a successful
log-in clears the account's key (never the address's, or one valid account
would reset an attacker's address). Callers refuse a locked key at once with
the time left, without checking the password: a refusal costs no hashing and
holds no thread.

Counting is one upsert per key (``INSERT ... ON CONFLICT DO UPDATE ...
RETURNING``), so concurrent failures are never lost on either backend.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crm_core.models import LoginThrottle
from crm_core.services.audit import record_audit

#: Longest account name or address kept in a key.
KEY_PART_MAX = 90


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures are free and how long the lock-outs after them last."""

    max_failures: int = 5
    max_failures_per_address: int = 20
    lockout_seconds: int = 30
    lockout_max_seconds: int = 900
    memory_seconds: int = 3600

    def lock_for(self, failures: int, free: int) -> int:
        """Seconds to lock a key that has just reached ``failures`` (0 while still within ``free``)."""
        if failures < free:
            return 0
        return min(self.lockout_max_seconds, self.lockout_seconds * 2 ** min(failures - free, 30))


def user_key(username: str) -> str:
    """The throttle key of an account name (as typed, trimmed)."""
    return "user:" + username.strip()[:KEY_PART_MAX]


def address_key(address: str | None) -> str:
    """The throttle key of a client address."""
    return "addr:" + (address or "unknown")[:KEY_PART_MAX]


def seconds_locked(session: Session, keys: list[str], now: dt.datetime) -> int:
    """Whole seconds until every key in ``keys`` is free again (0: none is locked)."""
    latest = session.scalar(select(LoginThrottle.locked_until).where(
        LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now).order_by(LoginThrottle.locked_until.desc())
        .limit(1))
    return 0 if latest is None else max(1, math.ceil((latest - now).total_seconds()))


def _count_failure(session: Session, key: str, now: dt.datetime, policy: ThrottlePolicy) -> int:
    """Add one failure to ``key`` (starting again after ``memory_seconds`` of quiet); the new count."""
    table = LoginThrottle.__table__
    forgotten = table.c.last_failed_at < now - dt.timedelta(seconds=policy.memory_seconds)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    statement = insert.values(key=key, failures=1, last_failed_at=now, locked_until=None).on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"failures": case((forgotten, 1), else_=table.c.failures + 1), "last_failed_at": now,
              "locked_until": case((forgotten, None), else_=table.c.locked_until)},
    ).returning(table.c.failures)
    return int(session.execute(statement).scalar_one())


def record_failure(session: Session, policy: ThrottlePolicy, username: str, address: str | None,
                   now: dt.datetime, *, user_id: int | None = None) -> int:
    """Count a failed log-in against the name and the address, audit it; seconds now locked (0: not locked)."""
    locked = 0
    counts = {}
    for key, free in ((user_key(username), policy.max_failures),
                      (address_key(address), policy.max_failures_per_address)):
        counts[key] = failures = _count_failure(session, key, now, policy)
        seconds = policy.lock_for(failures, free)
        if seconds:
            session.execute(update(LoginThrottle).where(LoginThrottle.key == key)
                            .values(locked_until=now + dt.timedelta(seconds=seconds)))
            locked = max(locked, seconds)
    session.execute(delete(LoginThrottle).where(
        LoginThrottle.last_failed_at < now - dt.timedelta(seconds=policy.memory_seconds),
        (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < now)))
    details: dict[str, object] = {"failures": counts[user_key(username)], "address_failures": counts[
        address_key(address)]}
    if locked:
        details["locked_seconds"] = locked
    record_audit(session, "login-failed", "admin_users", user_id, details, user_id=None,
                 username=username.strip()[:40] or None, remote_addr=address)
    return locked


def clear_account(session: Session, username: str) -> None:
    """Forget an account's failures after a successful log-in (the address keeps its count)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == user_key(username)))
