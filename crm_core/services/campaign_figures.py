"""Campaign figures: the abandon counts the cap is held to, and a campaign's progress and results."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core import campaign_rules as rules
from crm_core.enums import NOT_DIALLED, AttemptResult
from crm_core.models import CampaignAnswer, CampaignAttempt, CampaignContact, CampaignQuestion
from crm_core.services.campaigns import get_campaign
from crm_core.types import utcnow


@dataclass(frozen=True)
class AbandonCounts:
    """Live answered calls (answered + abandoned) and abandoned ones: whole campaign, and rolling 30 days."""

    answered: int
    abandoned: int
    answered_30d: int
    abandoned_30d: int


def abandon_counts(session: Session, campaign_id: int, *, now: dt.datetime | None = None) -> AbandonCounts:
    """The figures the abandonment cap is held to (restored by a dialer after a restart)."""
    now = now or utcnow()
    live = (AttemptResult.ANSWERED.value, AttemptResult.ABANDONED.value)
    base = select(CampaignAttempt.result, func.count()).where(CampaignAttempt.campaign_id == campaign_id,
                                                              CampaignAttempt.result.in_(live))
    whole = dict(session.execute(base.group_by(CampaignAttempt.result)).all())
    recent = dict(session.execute(base.where(CampaignAttempt.ended_at >= now - rules.ABANDON_WINDOW)
                                  .group_by(CampaignAttempt.result)).all())
    return AbandonCounts(sum(whole.values()), whole.get(AttemptResult.ABANDONED.value, 0), sum(recent.values()),
                         recent.get(AttemptResult.ABANDONED.value, 0))


def campaign_summary(session: Session, campaign_id: int) -> dict[str, Any]:
    """Progress and results of a campaign: contacts by status, attempts by result, survey answers per question."""
    campaign = get_campaign(session, campaign_id)
    contacts = dict(session.execute(select(CampaignContact.status, func.count())
                                    .where(CampaignContact.campaign_id == campaign_id)
                                    .group_by(CampaignContact.status)).all())
    results = dict(session.execute(select(CampaignAttempt.result, func.count())
                                   .where(CampaignAttempt.campaign_id == campaign_id,
                                          CampaignAttempt.result.is_not(None))
                                   .group_by(CampaignAttempt.result)).all())
    in_flight = session.scalar(select(func.count()).where(CampaignAttempt.campaign_id == campaign_id,
                                                          CampaignAttempt.ended_at.is_(None))) or 0
    connected = session.scalar(select(func.count()).where(CampaignAttempt.campaign_id == campaign_id,
                                                          CampaignAttempt.connected_at.is_not(None))) or 0
    answers: dict[str, dict[str, int]] = {}
    for key, answer, count in session.execute(
            select(CampaignQuestion.key, CampaignAnswer.answer, func.count())
            .join(CampaignAnswer, CampaignAnswer.question_id == CampaignQuestion.id)
            .where(CampaignQuestion.campaign_id == campaign_id)
            .group_by(CampaignQuestion.key, CampaignAnswer.answer)).all():
        answers.setdefault(key, {})[answer] = count
    live = results.get("answered", 0) + results.get("abandoned", 0)
    dialled = sum(v for k, v in results.items() if k not in NOT_DIALLED) + in_flight
    return {
        "id": campaign.id, "name": campaign.name, "status": campaign.status, "mode": campaign.mode,
        "pacing_version": campaign.pacing_version, "contacts": contacts,
        "remaining": contacts.get("pending", 0) + contacts.get("dialing", 0), "results": results,
        "dialled": dialled, "in_flight": in_flight, "answered": live, "connected": connected,
        "abandon_percent": round(100.0 * results.get("abandoned", 0) / live, 2) if live else 0.0,
        "answers": answers,
    }
