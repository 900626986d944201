"""Resolving the attempts an engine left open when it stopped: no attempt lost, no number dialled twice.

At start the dialer lists the switch's live channels and calls
``recover_open_attempts``: an open attempt whose channel is still up is
kept (the dialer watches it to its hang-up); the others are closed from
what is known -- answered (the engine saw the answer, or the call's CDR,
same uuid, shows one) or ``failed`` with cause ``LOST_ON_RESTART`` -- and
their contacts move on by the usual retry rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.enums import AttemptResult
from crm_core.models import CallDetailRecord, CampaignAttempt
from crm_core.services.dialing import Closed, close_attempt, mark_answered
from crm_core.types import utcnow

#: Open attempts of *another* engine older than this are resolved by whoever recovers (that engine is gone).
STALE_ATTEMPT_AGE = dt.timedelta(hours=6)
LOST_ON_RESTART = "LOST_ON_RESTART"


@dataclass(frozen=True)
class OpenAttempt:
    attempt_id: int
    campaign_id: int
    contact_id: int
    number: str
    call_uuid: str | None
    answered: bool


@dataclass
class Recovery:
    kept: list[OpenAttempt] = field(default_factory=list)  # their channels still live: watch them
    closed: list[Closed] = field(default_factory=list)


def open_attempts(session: Session, engine_id: str, *, now: dt.datetime | None = None) -> list[OpenAttempt]:
    """Open attempts this engine claimed, and those of any engine that are older than STALE_ATTEMPT_AGE."""
    now = now or utcnow()
    rows = session.scalars(select(CampaignAttempt).where(
        CampaignAttempt.ended_at.is_(None),
        (CampaignAttempt.claimed_by == engine_id[:40]) | (CampaignAttempt.started_at < now - STALE_ATTEMPT_AGE))
        .order_by(CampaignAttempt.id))
    return [OpenAttempt(a.id, a.campaign_id, a.contact_id, a.number, a.call_uuid, a.answered_at is not None)
            for a in rows]


def recover_open_attempts(session: Session, engine_id: str, live: Mapping[str, bool], *,
                          now: dt.datetime | None = None) -> Recovery:
    """Resolve left-behind attempts: ``live`` maps the switch's live channel uuids to "answered"."""
    now = now or utcnow()
    report = Recovery()
    for item in open_attempts(session, engine_id, now=now):
        if item.call_uuid and item.call_uuid in live:
            if live[item.call_uuid] and not item.answered:
                mark_answered(session, item.attempt_id, at=now)
            report.kept.append(OpenAttempt(item.attempt_id, item.campaign_id, item.contact_id, item.number,
                                           item.call_uuid, item.answered or live[item.call_uuid]))
            continue
        cdr = session.scalars(select(CallDetailRecord).where(CallDetailRecord.uuid == item.call_uuid)).first() \
            if item.call_uuid else None
        answered_at = cdr.answered_at if cdr is not None else None
        if item.answered or answered_at is not None:
            talk = None
            if cdr is not None and cdr.answered_at and cdr.ended_at:
                talk = (cdr.ended_at - cdr.answered_at).total_seconds()
            report.closed.append(close_attempt(
                session, item.attempt_id, AttemptResult.ANSWERED.value, at=(cdr.ended_at if cdr and cdr.ended_at
                                                                            else now),
                hangup_cause=(cdr.hangup_cause if cdr else None) or LOST_ON_RESTART, talk_seconds=talk,
                agent_id=cdr.agent_id if cdr else None))
        else:
            report.closed.append(close_attempt(session, item.attempt_id, AttemptResult.FAILED.value, at=now,
                                               hangup_cause=LOST_ON_RESTART))
    return report
