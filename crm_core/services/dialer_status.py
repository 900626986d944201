"""The dialers' live figures stored for other processes: written by the engine, read by the CLI and admin UI.

An engine's dialer writes each campaign's live figures (``Dialer.status``)
every few seconds with :func:`write_dialer_status`; :func:`live_status`
reads them back, marking a row ``stale`` when its engine has not refreshed it
for ``stale_after`` seconds (the engine stopped or lost the database), and
:func:`campaign_report` puts the database figures of a campaign and the live
ones together -- what ``hotline campaign status`` prints.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crm_core.models import Campaign, DialerStatus
from crm_core.services.campaign_figures import campaign_summary
from crm_core.services.campaigns import get_campaign
from crm_core.types import utcnow

#: A row older than this many seconds is an engine that is no longer running (it writes every few seconds).
STALE_AFTER_SECONDS = 15.0


def _plain(value: Any) -> Any:
    """JSON-safe figures (the status document holds numbers, text and None; anything else becomes text)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def write_dialer_status(session: Session, engine_id: str, figures: Iterable[Mapping[str, Any]], *,
                        at: dt.datetime | None = None) -> int:
    """Store one engine's figures, one document per campaign (``campaign_id`` in each); rows of this engine for
    campaigns it no longer works on are removed. Returns the rows written."""
    now = at or utcnow()
    engine_id = engine_id[:40]
    docs = {int(doc["campaign_id"]): {k: _plain(v) for k, v in doc.items() if k != "campaign_id"}
            for doc in figures}
    known = set(session.scalars(select(Campaign.id).where(Campaign.id.in_(docs)))) if docs else set()
    rows = {row.campaign_id: row for row in session.scalars(
        select(DialerStatus).where(DialerStatus.engine_id == engine_id))}
    for campaign_id, row in rows.items():
        if campaign_id not in docs:
            session.delete(row)
    written = 0
    for campaign_id, doc in docs.items():
        if campaign_id not in known:  # deleted meanwhile
            continue
        row = rows.get(campaign_id)
        if row is None:
            row = DialerStatus(campaign_id=campaign_id, engine_id=engine_id)
            session.add(row)
        row.updated_at, row.figures = now, doc
        written += 1
    session.flush()
    return written


def clear_dialer_status(session: Session, engine_id: str) -> None:
    """An engine stopping says so at once (instead of letting its rows go stale)."""
    session.execute(delete(DialerStatus).where(DialerStatus.engine_id == engine_id[:40]))


def live_status(session: Session, campaign_id: int, *, now: dt.datetime | None = None,
                stale_after: float = STALE_AFTER_SECONDS) -> list[dict[str, Any]]:
    """Every engine's live figures of a campaign, each with ``age_seconds`` and ``stale``."""
    now = now or utcnow()
    out = []
    for row in session.scalars(select(DialerStatus).where(DialerStatus.campaign_id == campaign_id)
                               .order_by(DialerStatus.engine_id)):
        age = max(0.0, (now - row.updated_at).total_seconds())
        out.append({**row.as_dict(), "age_seconds": round(age, 1), "stale": age > stale_after})
    return out


def campaign_report(session: Session, campaign: int | str, *, now: dt.datetime | None = None,
                    stale_after: float = STALE_AFTER_SECONDS) -> dict[str, Any]:
    """A campaign's figures from the database plus the live figures of the engines dialling it."""
    row = get_campaign(session, campaign)
    summary = campaign_summary(session, row.id)
    contacts = summary["contacts"]
    total = sum(contacts.values())
    engines = live_status(session, row.id, now=now, stale_after=stale_after)
    return {
        **summary,
        "contacts_total": total,
        "contacts_pending": contacts.get("pending", 0),
        "contacts_dialing": contacts.get("dialing", 0),
        "contacts_done": contacts.get("done", 0),
        "contacts_failed": contacts.get("failed", 0),
        "contacts_skipped": contacts.get("skipped", 0),
        "engines": engines,
        "engine_running": any(not e["stale"] for e in engines),
    }
