"""Failed admin log-ins counted per account name and per client address, for throttling.

One row per key (``user:<name>`` or ``addr:<ip>``): how many failures in a
row, when the last one was, and until when further attempts are refused. It
lives in the database, not in process memory, so every process serving the
admin UI (the engine, a WSGI server's workers) shares it and a restart does
not reset it. Rows are small and bounded by the names and addresses tried.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db import Base


class LoginThrottle(Base):
    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(100), primary_key=True, doc="user:<name> or addr:<ip>")
    failures: Mapped[int] = mapped_column(server_default="0", default=0)
    last_failed_at: Mapped[dt.datetime] = mapped_column(index=True)
    locked_until: Mapped[dt.datetime | None]
