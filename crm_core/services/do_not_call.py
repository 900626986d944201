"""The do-not-call list: numbers that asked not to be called (by a key press in a campaign call, an agent, a file).

``add_to_do_not_call`` is the one way a number is put on the list from the
running system, so every road records the same things: the number in E.164,
why, who or what added it (``source``), and an audit entry. It is
idempotent: a number already listed stays listed once (an expired entry is
made permanent again, the first reason kept beside the new one). The claim
screen (``crm_core.services.dialing.claim_due_contacts``) reads the list at
every claim, so a number added here is never dialled again by any campaign.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from crm_core.models import DoNotCall
from crm_core.phones import DEFAULT_REGION, to_e164
from crm_core.services.audit import record_audit
from crm_core.types import utcnow


def add_to_do_not_call(session: Session, number: str, *, reason: str, source: str,
                       region: str = DEFAULT_REGION, at: dt.datetime | None = None) -> DoNotCall:
    """Put ``number`` on the do-not-call list (InvalidPhoneNumber for a number that is not one); returns its row."""
    e164 = to_e164(number, region)
    now = at or utcnow()
    row = session.get(DoNotCall, e164, with_for_update=True)
    if row is not None:
        if row.expires_at is not None and _aware(row.expires_at) <= now:
            row.expires_at = None
            row.reason = f"{reason} (again; before: {row.reason or '-'})"[:255]
            row.added_by = source[:40]
            session.flush()
            record_audit(session, "do-not-call-renewed", DoNotCall.__tablename__, e164,
                         {"reason": reason[:200], "source": source[:40]}, username=source[:40])
        return row
    row = DoNotCall(number=e164, reason=reason[:255], added_by=source[:40], added_at=now)
    session.add(row)
    session.flush()
    record_audit(session, "do-not-call-add", DoNotCall.__tablename__, e164,
                 {"reason": reason[:200], "source": source[:40]}, username=source[:40])
    return row


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite gives stored times back naive: they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
