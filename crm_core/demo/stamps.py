"""Deterministic randomness and back-dated timestamps for the demo loader.

Every demo entity draws from its own ``Random`` seeded by (seed, kind, index),
so the customer #17 of one run is the customer #17 of every run at any scale
and whatever else changed. Rows are written through the domain services,
which stamp ``now()``; ``stamped`` re-dates everything a block inserts or
updates to the moment the demo story says it happened.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

UTC = dt.timezone.utc
CHINA = dt.timezone(dt.timedelta(hours=8), "CST")

#: Columns that say when a row was created or changed, whatever a model calls them.
_CREATED = ("created_at", "changed_at", "occurred_at", "at", "added_at", "counted_at")


def rng(seed: int, kind: str, index: int | str = 0) -> random.Random:
    """A random generator of its own for one entity (stable across runs, scales and code paths)."""
    digest = hashlib.sha256(f"{seed}:{kind}:{index}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def demo_uuid(seed: int, kind: str, index: int | str) -> str:
    """A call UUID that is the same on every run (the natural key of demo calls)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hotline-demo:{seed}:{kind}:{index}"))


def local(day: dt.datetime, hhmm: str) -> dt.datetime:
    """``day`` (any zone) at the China wall-clock time ``hhmm``, as UTC."""
    hours, minutes = (int(p) for p in hhmm.split(":"))
    china = day.astimezone(CHINA).replace(hour=hours, minute=minutes, second=0, microsecond=0)
    return china.astimezone(UTC)


def _stamp_columns(model: Any) -> list[str]:
    names = [n for n in _CREATED if n in model.__table__.c][:1]
    return names + (["updated_at"] if "updated_at" in model.__table__.c else [])


@contextmanager
def stamped(session: Session, when: dt.datetime, *watch: Any) -> Iterator[None]:
    """Inside the block, new rows are dated ``when`` and updated rows get updated_at ``when``.

    Rows the block adds through the ORM are caught at flush; rows the services
    insert with Core statements are caught by id for each model in ``watch``
    (any row of those tables with an id above the block's starting maximum).
    """

    def before_flush(sess: Session, _context: Any, _instances: Any) -> None:
        for obj in sess.new:
            for name in _CREATED:
                if hasattr(type(obj), name) and getattr(obj, name, None) is None:
                    setattr(obj, name, when)
            if hasattr(type(obj), "updated_at") and getattr(obj, "updated_at", None) is None:
                obj.updated_at = when
        for obj in sess.dirty:
            if hasattr(type(obj), "updated_at"):
                obj.updated_at = when

    def maxima() -> list[int]:
        if not watch:
            return []
        row = session.execute(select(*(select(func.max(m.id)).scalar_subquery() for m in watch))).one()
        return [value or 0 for value in row]

    session.flush()
    before = maxima()
    event.listen(session, "before_flush", before_flush)
    try:
        yield
        session.flush()
    finally:
        event.remove(session, "before_flush", before_flush)
    for model, low, high in zip(watch, before, maxima()):
        if high > low:
            values = {name: when for name in _stamp_columns(model)}
            session.execute(update(model).where(model.id > low).values(values),
                            execution_options={"synchronize_session": False})
