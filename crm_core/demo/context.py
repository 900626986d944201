"""What every demo section shares: the options, the clock the story is told against, id look-ups, progress."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import transaction

DEFAULT_SEED = 20240618


@dataclass(frozen=True)
class DemoOptions:
    """How much demo to load and how: ``scale`` 1.0 is the full shop (336 products, 200 customers)."""

    scale: float = 1.0
    seed: int = DEFAULT_SEED
    now: dt.datetime | None = None
    blacklist_threshold: int = 3
    points_per_yuan: int = 1
    admin_users: bool = True

    def count(self, full: int, minimum: int) -> int:
        """``full`` scaled, never below ``minimum`` (so a tiny demo still shows every case)."""
        return max(minimum, round(full * self.scale))


@dataclass
class DemoContext:
    factory: sessionmaker[Session]
    options: DemoOptions
    now: dt.datetime
    advance: Callable[[int], None] = lambda n: None
    notes: list[str] = field(default_factory=list)

    @property
    def seed(self) -> int:
        return self.options.seed

    def days_ago(self, days: float) -> dt.datetime:
        """The moment ``days`` before the story's now."""
        return self.now - dt.timedelta(days=days)

    def transaction(self):  # type: ignore[no-untyped-def]
        """One committed unit of work."""
        return transaction(self.factory)
