"""What the campaign console and its results page show, read from the database only.

The live half (calls ringing now, the pacer's last decision, free agents)
belongs to the running dialer and is merged in by whoever has it (the
engine's campaign publisher, or the console view through the engine
bridge); everything here is answerable by any process with the database,
so the console still shows it when the admin app runs without the engine.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.enums import NOT_DIALLED, AttemptResult, CampaignStatus, ContactStatus
from crm_core.models import Campaign, CampaignAnswer, CampaignAttempt, CampaignContact, CampaignQuestion
from crm_core.services.campaign_figures import campaign_summary
from crm_core.types import utcnow

#: The window the database pace is measured over: attempts started in the last five minutes, per minute.
PACE_WINDOW = dt.timedelta(minutes=5)
#: Campaigns a publisher follows: the ones a dialer works on or watches.
LIVE_STATUSES = (CampaignStatus.RUNNING.value, CampaignStatus.PAUSED.value)


def campaign_progress(session: Session, campaign_id: int, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The console's database figures: dialled, answered, connected, abandoned %, remaining, in flight,
    pace (attempts placed per minute over the last five minutes) and agents talking on campaign calls."""
    now = now or utcnow()
    summary = campaign_summary(session, campaign_id)
    placed = session.scalar(select(func.count()).where(
        CampaignAttempt.campaign_id == campaign_id, CampaignAttempt.started_at >= now - PACE_WINDOW,
        CampaignAttempt.result.is_(None) | CampaignAttempt.result.not_in(sorted(NOT_DIALLED)))) or 0
    talking = session.scalar(select(func.count(func.distinct(CampaignAttempt.agent_id))).where(
        CampaignAttempt.campaign_id == campaign_id, CampaignAttempt.ended_at.is_(None),
        CampaignAttempt.connected_at.is_not(None), CampaignAttempt.agent_id.is_not(None))) or 0
    return {
        "campaign_id": summary["id"], "name": summary["name"], "status": summary["status"],
        "mode": summary["mode"], "dialled": summary["dialled"], "answered": summary["answered"],
        "connected": summary["connected"], "abandoned": summary["results"].get(AttemptResult.ABANDONED.value, 0),
        "abandon_percent": summary["abandon_percent"], "remaining": summary["remaining"],
        "in_flight": summary["in_flight"], "pace_per_minute": round(placed / (PACE_WINDOW.total_seconds() / 60), 1),
        "agents_on_calls": talking, "contacts": summary["contacts"],
    }


def followed_campaigns(session: Session) -> list[int]:
    """Ids of the running and paused campaigns, oldest first."""
    return list(session.scalars(select(Campaign.id).where(Campaign.status.in_(LIVE_STATUSES))
                                .order_by(Campaign.id)))


def campaign_results(session: Session, campaign_id: int) -> dict[str, Any]:
    """The results page: attempts per disposition (every disposition, zeros included), each survey question
    with its prompt and answer distribution, contacts by status and skipped contacts by reason."""
    summary = campaign_summary(session, campaign_id)
    dispositions = {r.value: summary["results"].get(r.value, 0) for r in AttemptResult}
    contacts = {s.value: summary["contacts"].get(s.value, 0) for s in ContactStatus}
    skips: dict[str, int] = {}
    for reason, count in session.execute(
            select(CampaignContact.skip_reason, func.count())
            .where(CampaignContact.campaign_id == campaign_id, CampaignContact.status == ContactStatus.SKIPPED.value)
            .group_by(CampaignContact.skip_reason)).all():
        skips[reason or "unknown"] = skips.get(reason or "unknown", 0) + count
    counts: dict[int, dict[str, int]] = {}
    for question_id, answer, count in session.execute(
            select(CampaignAnswer.question_id, CampaignAnswer.answer, func.count())
            .join(CampaignQuestion, CampaignQuestion.id == CampaignAnswer.question_id)
            .where(CampaignQuestion.campaign_id == campaign_id)
            .group_by(CampaignAnswer.question_id, CampaignAnswer.answer)).all():
        counts.setdefault(question_id, {})[answer] = count
    questions = []
    for q in session.scalars(select(CampaignQuestion).where(CampaignQuestion.campaign_id == campaign_id)
                             .order_by(CampaignQuestion.position)):
        given = counts.get(q.id, {})
        total = sum(given.values())
        keys = list(dict.fromkeys(list(q.valid_digits or "") + sorted(given)))
        questions.append({"key": q.key, "position": q.position, "prompt": q.prompt, "total": total,
                          "answers": [{"answer": k, "count": given.get(k, 0),
                                       "percent": round(100.0 * given.get(k, 0) / total, 1) if total else 0.0}
                                      for k in keys]})
    return {"campaign_id": summary["id"], "name": summary["name"], "status": summary["status"],
            "dispositions": dispositions, "attempts": sum(dispositions.values()), "contacts": contacts,
            "skip_reasons": dict(sorted(skips.items())), "questions": questions}


__all__ = ["LIVE_STATUSES", "PACE_WINDOW", "campaign_progress", "campaign_results", "followed_campaigns"]
