"""Member points: every change is one ledger row plus one guarded UPDATE of the cached balance.

The UPDATE carries its own condition (``balance + delta >= 0``), so a redeem
larger than the balance is refused even when two calls race, and the cached
balance always equals the sum of the ledger.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from crm_core.enums import PointsKind
from crm_core.exceptions import InsufficientPoints, InvalidQuantity, UnknownCustomer
from crm_core.models import Customer, PointsEntry


_customers = Customer.__table__

#: Change a balance only if it stays >= 0; the new balance comes back (no row: unknown customer or too few points).
CHANGE_BALANCE = (
    update(_customers)
    .where(_customers.c.id == bindparam("p_customer_id"), _customers.c.points_balance + bindparam("p_delta") >= 0)
    .values(points_balance=_customers.c.points_balance + bindparam("p_delta"))
    .returning(_customers.c.points_balance)
)
_entries = PointsEntry.__table__
INSERT_ENTRY = insert(_entries).returning(_entries.c.id)

#: PostgreSQL: the balance UPDATE and its ledger row in one statement (one round trip on the hot path).
_changed = CHANGE_BALANCE.cte("changed")
CHANGE_AND_RECORD = (
    insert(_entries)
    .from_select(
        ["customer_id", "kind", "delta", "balance_after", "reason", "order_id", "created_by"],
        select(
            bindparam("p_customer_id", type_=Integer),
            bindparam("kind", type_=String),
            bindparam("p_delta", type_=Integer),
            _changed.c.points_balance,
            bindparam("reason", type_=String),
            bindparam("order_id", type_=Integer),
            bindparam("created_by", type_=String),
        ).select_from(_changed),
    )
    .returning(_entries.c.id, _entries.c.balance_after)
)


def change_balance(
    session: Session,
    customer_id: int,
    kind: PointsKind,
    delta: int,
    *,
    reason: str | None,
    order_id: int | None = None,
    by: str | None = None,
) -> int:
    """The guarded balance UPDATE plus its ledger row, in Core (the order hot path uses it); the entry's id."""
    if delta == 0:
        raise InvalidQuantity("a points change cannot be zero", customer_id=customer_id)
    params = dict(p_customer_id=customer_id, kind=kind.value, p_delta=delta, reason=reason, order_id=order_id,
                  created_by=by)
    session.flush()
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        row = connection.execute(CHANGE_AND_RECORD, params).first()
        entry_id = row[0] if row is not None else None
    else:
        new_balance = connection.execute(CHANGE_BALANCE, params).scalar()
        entry_id = None
        if new_balance is not None:
            entry_id = connection.execute(INSERT_ENTRY, dict(
                customer_id=customer_id, kind=kind.value, delta=delta, balance_after=new_balance, reason=reason,
                order_id=order_id, created_by=by,
            )).scalar_one()
    loaded = session.identity_map.get(identity_key(Customer, customer_id))
    if loaded is not None:
        session.expire(loaded, ["points_balance", "points_entries"])
    if entry_id is None:
        balance = session.scalar(select(Customer.points_balance).where(Customer.id == customer_id))
        if balance is None:
            raise UnknownCustomer(f"no customer {customer_id}", customer_id=customer_id)
        raise InsufficientPoints(
            f"customer {customer_id} has {balance} points, {-delta} needed",
            customer_id=customer_id,
            balance=balance,
            requested=-delta,
        )
    return int(entry_id)


def _apply(
    session: Session,
    customer_id: int,
    kind: PointsKind,
    delta: int,
    *,
    reason: str | None,
    order_id: int | None = None,
    by: str | None = None,
) -> PointsEntry:
    entry_id = change_balance(session, customer_id, kind, delta, reason=reason, order_id=order_id, by=by)
    entry = session.get(PointsEntry, entry_id)
    assert entry is not None
    return entry


def _positive(points: int) -> int:
    if points <= 0:
        raise InvalidQuantity(f"points must be positive, got {points}", points=points)
    return points


def earn_points(
    session: Session, customer_id: int, points: int, *, reason: str | None = None,
    order_id: int | None = None, by: str | None = None,
) -> PointsEntry:
    """Credit points (a purchase, a promotion)."""
    return _apply(session, customer_id, PointsKind.EARN, _positive(points), reason=reason, order_id=order_id, by=by)


def redeem_points(
    session: Session, customer_id: int, points: int, *, reason: str | None = None,
    order_id: int | None = None, by: str | None = None,
) -> PointsEntry:
    """Spend points; refused with InsufficientPoints when the balance is too small."""
    return _apply(session, customer_id, PointsKind.REDEEM, -_positive(points), reason=reason, order_id=order_id, by=by)


def expire_points(session: Session, customer_id: int, points: int, *, reason: str | None = None) -> PointsEntry:
    """Remove points that ran out; never more than the balance (InsufficientPoints)."""
    return _apply(session, customer_id, PointsKind.EXPIRE, -_positive(points), reason=reason, by="system")


def adjust_points(session: Session, customer_id: int, delta: int, *, reason: str, by: str) -> PointsEntry:
    """A manual correction either way, with who and why; the balance still never goes below zero."""
    return _apply(session, customer_id, PointsKind.ADJUST, delta, reason=reason, by=by)


def points_balance(session: Session, customer_id: int) -> int:
    """The customer's current points."""
    balance = session.scalar(select(Customer.points_balance).where(Customer.id == customer_id))
    if balance is None:
        raise UnknownCustomer(f"no customer {customer_id}", customer_id=customer_id)
    return balance


def recent_points(session: Session, customer_id: int, limit: int = 5) -> list[PointsEntry]:
    """The latest ledger entries, newest first (what the IVR reads after the balance)."""
    stmt = (
        select(PointsEntry)
        .where(PointsEntry.customer_id == customer_id)
        .order_by(PointsEntry.created_at.desc(), PointsEntry.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
