"""The running dialers' live figures, one row per campaign and engine, for the processes that do not dial.

The dialer lives in the engine process; the CLI (``hotline campaign status``)
and the admin UI (a separate WSGI process in production) cannot ask it. The
engine writes each campaign's live figures here every few seconds
(``updated_at`` says when), so anyone with the database reads them, and a
row that stopped being refreshed says the engine is gone. ``figures`` is the
dialer's ``status()`` document (calls in flight, ringing, the last pace
decision, agents free, the abandon rate the pacer holds).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db import Base
from crm_core.types import json_doc


class DialerStatus(Base):
    __tablename__ = "dialer_status"
    __table_args__ = (Index("ix_dialer_status_updated_at", "updated_at"),)

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    engine_id: Mapped[str] = mapped_column(String(40), primary_key=True, doc="the dialer's engine id")
    updated_at: Mapped[dt.datetime] = mapped_column(doc="when the engine last wrote the figures")
    figures: Mapped[json_doc] = mapped_column(doc="the dialer's live status document")

    def as_dict(self) -> dict[str, Any]:
        return {"campaign_id": self.campaign_id, "engine_id": self.engine_id,
                "updated_at": self.updated_at.isoformat(), **dict(self.figures or {})}
