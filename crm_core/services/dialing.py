"""The dialer's record: claiming due contacts, the attempt of every call, results, recovery after a restart.

``claim_due_contacts`` takes the next due contacts of a running campaign in
one transaction: rows locked with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL
(two engine processes never take the same contact; SQLite serialises
writers), the do-not-call list and blacklist checked *now* (a number added
since the import is skipped with its reason), the dialer's calling-hours
screen applied per contact (a contact outside its hours gets a closed
``blocked_hours`` attempt and its next try at the next allowed moment), and
for each contact to dial an *open* attempt row written with the call's
``origination_uuid`` -- before the switch is asked to dial. The open attempt
is the number's in-flight marker: a partial unique index allows one per
number across campaigns and processes (a clash rolls back only that
contact's savepoint).

``close_attempt`` records the result and moves the contact on: done,
pending again after its disposition's retry spacing, or failed once its
attempts are used up; it completes the campaign when nothing remains.
Resolving the open attempts an engine left behind is in
``crm_core.services.attempt_recovery``; the figures (abandon counts, a
campaign's summary) in ``crm_core.services.campaign_figures``.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_core import campaign_rules as rules
from crm_core.enums import AttemptResult, CampaignStatus, ContactStatus
from crm_core.exceptions import InvalidInput, NotFound
from crm_core.models import (
    Campaign,
    CampaignAnswer,
    CampaignAttempt,
    CampaignContact,
    CampaignQuestion,
)
from crm_core.services.campaign_contacts import SKIP_DO_NOT_CALL, blocked_numbers
from crm_core.services.do_not_call import add_to_do_not_call
from crm_core.services.campaigns import Actor, complete_if_exhausted, get_campaign
from crm_core.types import utcnow

#: How an engine's open attempts are named when it did not say (one engine per box).
DEFAULT_ENGINE_ID = "engine"
DIALER = Actor("dialer")


class UnknownAttempt(NotFound):
    error_id = "unknown-attempt"


@dataclass(frozen=True)
class Question:
    key: str
    prompt: str
    valid_digits: str


@dataclass(frozen=True)
class ScriptResult:
    """What an automated campaign's script made of one answered call (the IVR runs it, the dialer records it).

    ``answers``: survey answers, question key -> keys pressed; ``to_agent``: the
    person asked for an agent (the dialer offers the call to the campaign's
    agents); ``do_not_call``: the person asked not to be called again;
    ``failure``: why the script could not run (a hang-up cause for the attempt,
    which then counts as failed), None when it ran.
    """

    answers: dict[str, str] = field(default_factory=dict)
    to_agent: bool = False
    do_not_call: bool = False
    failure: str | None = None


@dataclass(frozen=True)
class CampaignSettings:
    """What the dialer works from, as one frozen snapshot (reloaded when ``pacing_version`` changes)."""

    id: int
    name: str
    status: str
    mode: str
    pacing_version: int
    dial_ratio: float
    abandon_cap: float  # fraction, 0.03 = 3 %
    calling_hours: tuple[dt.time, dt.time]
    timezone: str
    skip_holidays: bool
    holiday_country: str
    max_attempts: int
    retry: dict[str, rules.RetryRule]
    ring_seconds: int
    caller_id: str | None
    amd_policy: str
    voice_file: str | None
    ivr_script: str | None
    abandon_message: str | None
    blend_rule: str
    queue_id: int | None
    questions: tuple[Question, ...] = ()
    contact_timezones: tuple[str, ...] = ()  # the contacts' own zones besides the campaign's


def campaign_settings(session: Session, campaign_id: int) -> CampaignSettings:
    """The dialer's snapshot of one campaign."""
    c = get_campaign(session, campaign_id)
    questions = tuple(Question(q.key, q.prompt, q.valid_digits) for q in session.scalars(
        select(CampaignQuestion).where(CampaignQuestion.campaign_id == campaign_id)
        .order_by(CampaignQuestion.position)))
    zones = tuple(sorted(z for z in session.scalars(
        select(CampaignContact.timezone).where(CampaignContact.campaign_id == campaign_id,
                                               CampaignContact.timezone.is_not(None)).distinct()) if z))
    return CampaignSettings(
        id=c.id, name=c.name, status=c.status, mode=c.mode, pacing_version=c.pacing_version,
        dial_ratio=float(c.dial_ratio), abandon_cap=float(c.abandon_cap_percent) / 100.0,
        calling_hours=(c.calling_hours_start, c.calling_hours_end), timezone=c.timezone,
        skip_holidays=bool(c.skip_holidays), holiday_country=c.holiday_country, max_attempts=c.max_attempts,
        retry=rules.retry_rules(c.retry_rules, c.retry_minutes), ring_seconds=c.ring_seconds, caller_id=c.caller_id,
        amd_policy=c.amd_policy, voice_file=c.voice_file, ivr_script=c.ivr_script,
        abandon_message=c.abandon_message, blend_rule=c.blend_rule, queue_id=c.queue_id, questions=questions,
        contact_timezones=zones)


def running_campaigns(session: Session) -> list[tuple[int, int, str]]:
    """(id, pacing_version, status) of the campaigns a dialer should work on or watch (running or paused)."""
    return [tuple(row) for row in session.execute(  # type: ignore[misc]
        select(Campaign.id, Campaign.pacing_version, Campaign.status)
        .where(Campaign.status.in_((CampaignStatus.RUNNING.value, CampaignStatus.PAUSED.value)))
        .order_by(Campaign.id)).all()]


# -- claiming ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A due contact as the dialer's compliance screen sees it."""

    contact_id: int
    number: str
    timezone: str
    attempts: int


@dataclass(frozen=True)
class Screen:
    """The screen's verdict: dial now, or not before ``not_before`` (and why)."""

    allowed: bool
    not_before: dt.datetime | None = None
    reason: str = ""


ScreenFn = Callable[[Candidate], Screen]


@dataclass(frozen=True)
class Claim:
    """One contact to dial now, with its open attempt (the ``call_uuid`` is the origination uuid to use)."""

    attempt_id: int
    campaign_id: int
    contact_id: int
    customer_id: int | None
    number: str
    call_uuid: str
    caller_id: str | None
    attempt_no: int
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ClaimBatch:
    status: str
    pacing_version: int
    claims: tuple[Claim, ...] = ()
    blocked: tuple[tuple[int, str, str], ...] = ()  # (contact_id, result, reason)


def _due(campaign_id: int, now: dt.datetime, scan: int) -> Any:
    open_same_number = exists().where(CampaignAttempt.number == CampaignContact.number,
                                      CampaignAttempt.ended_at.is_(None))
    return (select(CampaignContact)
            .where(CampaignContact.campaign_id == campaign_id,
                   CampaignContact.status == ContactStatus.PENDING.value,
                   (CampaignContact.next_attempt_at.is_(None)) | (CampaignContact.next_attempt_at <= now),
                   ~open_same_number)
            .order_by(CampaignContact.next_attempt_at.is_not(None), CampaignContact.next_attempt_at,
                      CampaignContact.id)
            .limit(scan)
            .with_for_update(skip_locked=True, of=CampaignContact))


def claim_due_contacts(session: Session, campaign_id: int, limit: int, *, now: dt.datetime | None = None,
                       engine_id: str = DEFAULT_ENGINE_ID, screen: ScreenFn | None = None,
                       mode: str | None = None) -> ClaimBatch:
    """Claim up to ``limit`` due contacts of a running campaign, each with an open attempt; see the module doc."""
    now = now or utcnow()
    campaign = get_campaign(session, campaign_id)
    if campaign.status != CampaignStatus.RUNNING.value or limit <= 0:
        return ClaimBatch(campaign.status, campaign.pacing_version)
    candidates = list(session.scalars(_due(campaign_id, now, max(limit * 3, limit + 10))))
    blocked = blocked_numbers(session, [c.number for c in candidates], now=now)
    claims: list[Claim] = []
    refused: list[tuple[int, str, str]] = []
    for contact in candidates:
        if len(claims) >= limit:
            break
        reason = blocked.get(contact.number)
        if reason is not None:
            contact.status, contact.skip_reason, contact.last_result = ContactStatus.SKIPPED.value, reason, reason
            _closed_attempt(session, campaign, contact, AttemptResult.BLOCKED_DNC, now, reason, engine_id)
            refused.append((contact.id, AttemptResult.BLOCKED_DNC.value, reason))
            continue
        if contact.attempts >= campaign.max_attempts:
            contact.status, contact.last_result, contact.next_attempt_at = ContactStatus.FAILED.value, \
                "max_attempts", None
            refused.append((contact.id, "failed", "max_attempts"))
            continue
        if screen is not None:
            verdict = screen(Candidate(contact.id, contact.number, contact.timezone or campaign.timezone,
                                       contact.attempts))
            if not verdict.allowed:
                contact.next_attempt_at = verdict.not_before
                _closed_attempt(session, campaign, contact, AttemptResult.BLOCKED_HOURS, now, verdict.reason,
                                engine_id)
                refused.append((contact.id, AttemptResult.BLOCKED_HOURS.value, verdict.reason))
                continue
        claim = _claim_one(session, campaign, contact, now, engine_id, mode or campaign.mode)
        if claim is not None:
            claims.append(claim)
    session.flush()
    return ClaimBatch(campaign.status, campaign.pacing_version, tuple(claims), tuple(refused))


def _closed_attempt(session: Session, campaign: Campaign, contact: CampaignContact, result: AttemptResult,
                    now: dt.datetime, cause: str, engine_id: str) -> None:
    session.add(CampaignAttempt(campaign_id=campaign.id, contact_id=contact.id, number=contact.number,
                                mode=campaign.mode, pacing_version=campaign.pacing_version,
                                caller_id=campaign.caller_id, claimed_by=engine_id[:40], started_at=now,
                                ended_at=now, result=result.value, hangup_cause=cause[:40] or None))


def _claim_one(session: Session, campaign: Campaign, contact: CampaignContact, now: dt.datetime, engine_id: str,
               mode: str) -> Claim | None:
    call_uuid = str(uuidlib.uuid4())
    try:
        with session.begin_nested():
            attempt = CampaignAttempt(campaign_id=campaign.id, contact_id=contact.id, number=contact.number,
                                      mode=mode, pacing_version=campaign.pacing_version,
                                      caller_id=campaign.caller_id, call_uuid=call_uuid, claimed_by=engine_id[:40],
                                      started_at=now)
            session.add(attempt)
            contact.status = ContactStatus.DIALING.value
            contact.attempts += 1
            contact.last_attempt_at = now
            session.flush()
    except IntegrityError:  # another campaign or process has this number in flight right now
        session.refresh(contact)
        return None
    return Claim(attempt.id, campaign.id, contact.id, contact.customer_id, contact.number, call_uuid,
                 campaign.caller_id, contact.attempts, dict(contact.data or {}))


# -- results -----------------------------------------------------------------------------------------------


def _attempt(session: Session, attempt_id: int) -> CampaignAttempt:
    attempt = session.get(CampaignAttempt, attempt_id, with_for_update=True)
    if attempt is None:
        raise UnknownAttempt(f"no campaign attempt {attempt_id}", attempt_id=attempt_id)
    return attempt


def mark_answered(session: Session, attempt_id: int, *, at: dt.datetime | None = None,
                  amd_result: str | None = None) -> None:
    """The call was answered (first answer time kept); ``amd_result`` once detection decided."""
    attempt = _attempt(session, attempt_id)
    if attempt.answered_at is None:
        attempt.answered_at = at or utcnow()
    if amd_result:
        attempt.amd_result = amd_result[:20]
    session.flush()


def mark_connected(session: Session, attempt_id: int, *, agent_id: int | None, wait_seconds: float,
                   at: dt.datetime | None = None) -> None:
    """An agent took the answered call after ``wait_seconds``."""
    attempt = _attempt(session, attempt_id)
    attempt.connected_at = at or utcnow()
    attempt.agent_id = agent_id
    attempt.wait_to_agent_seconds = max(0.0, float(wait_seconds))
    session.flush()


@dataclass(frozen=True)
class Closed:
    """What closing an attempt did to its contact (and whether the campaign is now complete)."""

    attempt_id: int
    result: str
    contact_status: str
    next_attempt_at: dt.datetime | None
    campaign_completed: bool = False
    already_closed: bool = False


def close_attempt(session: Session, attempt_id: int, result: str, *, at: dt.datetime | None = None,
                  hangup_cause: str | None = None, talk_seconds: float | None = None,
                  agent_id: int | None = None, wait_to_agent: float | None = None, amd_result: str | None = None,
                  message_left: bool = False, answers: Mapping[str, str] | None = None,
                  do_not_call: bool = False) -> Closed:
    """Record an attempt's result and move its contact on (idempotent: a closed attempt stays as it is).

    ``do_not_call``: the person asked not to be called again during the call: the number goes on the
    do-not-call list and the contact is skipped with reason ``do_not_call``, in the same transaction.
    """
    try:
        outcome = AttemptResult(result)
    except ValueError:
        raise InvalidInput(f"unknown attempt result {result!r}", result=result) from None
    if outcome in (AttemptResult.BLOCKED_DNC, AttemptResult.BLOCKED_HOURS):
        raise InvalidInput("blocked attempts are recorded when contacts are claimed", result=result)
    if outcome is AttemptResult.SKIPPED:
        raise InvalidInput("skipped attempts are recorded by skip_attempt, with the agent's reason", result=result)
    now = at or utcnow()
    attempt = _attempt(session, attempt_id)
    contact = session.get(CampaignContact, attempt.contact_id, with_for_update=True)
    assert contact is not None  # the foreign key cascades
    if attempt.ended_at is not None:
        return Closed(attempt.id, attempt.result or "", contact.status, contact.next_attempt_at, already_closed=True)
    attempt.ended_at, attempt.result = now, outcome.value
    attempt.hangup_cause = (hangup_cause or None) and hangup_cause[:40]
    attempt.talk_seconds = None if talk_seconds is None else max(0.0, float(talk_seconds))
    if agent_id is not None:
        attempt.agent_id = agent_id
    if wait_to_agent is not None:
        attempt.wait_to_agent_seconds = max(0.0, float(wait_to_agent))
    if amd_result:
        attempt.amd_result = amd_result[:20]
    attempt.message_left = bool(message_left)
    if answers:
        _store_answers(session, attempt, answers, now)
    campaign = get_campaign(session, attempt.campaign_id)
    contact.last_result = outcome.value
    contact.last_attempt_at = attempt.started_at
    if do_not_call:
        add_to_do_not_call(session, attempt.number, source="campaign",
                           reason=f"pressed the do-not-call key in campaign {campaign.name}", at=now)
        contact.status, contact.next_attempt_at = ContactStatus.SKIPPED.value, None
        contact.skip_reason = SKIP_DO_NOT_CALL
    elif outcome == AttemptResult.ANSWERED or (outcome == AttemptResult.MACHINE and message_left):
        contact.status, contact.next_attempt_at = ContactStatus.DONE.value, None
    else:
        rule = rules.retry_rules(campaign.retry_rules, campaign.retry_minutes)[outcome.value]
        same = session.scalar(select(func.count()).where(CampaignAttempt.contact_id == contact.id,
                                                         CampaignAttempt.result == outcome.value)) or 0
        contact.status, contact.next_attempt_at = rules.retry_decision(
            outcome.value, same_result_count=same, attempts=contact.attempts, max_attempts=campaign.max_attempts,
            rule=rule, at=now)
    session.flush()
    completed = complete_if_exhausted(session, campaign.id, actor=DIALER)
    return Closed(attempt.id, outcome.value, contact.status, contact.next_attempt_at, completed)


def release_unsent(session: Session, attempt_id: int, *, at: dt.datetime | None = None, cause: str = "NOT_SENT",
                   blocked_until: dt.datetime | None = None) -> Closed:
    """An attempt whose originate was never sent: the try is not counted and the contact is due again.

    Either the switch was not reachable (result ``failed``, due again in a minute), or the calling
    window closed between the claim and the originate (``blocked_until``: result ``blocked_hours``,
    due again when the window opens).
    """
    attempt = _attempt(session, attempt_id)
    contact = session.get(CampaignContact, attempt.contact_id, with_for_update=True)
    assert contact is not None
    if attempt.ended_at is not None:
        return Closed(attempt.id, attempt.result or "", contact.status, contact.next_attempt_at, already_closed=True)
    now = at or utcnow()
    result = AttemptResult.BLOCKED_HOURS if blocked_until is not None else AttemptResult.FAILED
    attempt.ended_at, attempt.result, attempt.hangup_cause = now, result.value, cause[:40]
    contact.attempts = max(0, contact.attempts - 1)
    contact.status = ContactStatus.PENDING.value
    contact.next_attempt_at = blocked_until or now + dt.timedelta(minutes=1)
    session.flush()
    return Closed(attempt.id, result.value, contact.status, contact.next_attempt_at)


def _store_answers(session: Session, attempt: CampaignAttempt, answers: Mapping[str, str], at: dt.datetime) -> None:
    questions = {q.key: q for q in session.scalars(select(CampaignQuestion)
                                                  .where(CampaignQuestion.campaign_id == attempt.campaign_id))}
    have = {a.question_id for a in attempt.answers}
    for key, answer in answers.items():
        question = questions.get(key)
        if question is None:
            raise InvalidInput(f"campaign {attempt.campaign_id} has no question {key!r}", question=key)
        value = str(answer)[:20]
        if not value or any(d not in question.valid_digits for d in value):
            raise InvalidInput(f"{value!r} is not an answer to {key} (keys {question.valid_digits})", question=key)
        if question.id not in have:
            attempt.answers.append(CampaignAnswer(contact_id=attempt.contact_id, question_id=question.id,
                                                  answer=value, answered_at=at))


def record_answer(session: Session, attempt_id: int, question_key: str, answer: str, *,
                  at: dt.datetime | None = None) -> None:
    """Store one survey answer as soon as it is keyed (the call may end before the survey does)."""
    attempt = _attempt(session, attempt_id)
    _store_answers(session, attempt, {question_key: answer}, at or utcnow())
    session.flush()


#: Why a preview agent skips a contact, and what becomes of the contact.
SKIP_REASONS = ("wrong_number", "do_not_call", "later")
#: A contact skipped for "later" is due again after this long (the try is not counted).
SKIP_LATER = dt.timedelta(hours=1)


def skip_attempt(session: Session, attempt_id: int, reason: str, *, at: dt.datetime | None = None,
                 by: str = "agent") -> Closed:
    """A preview agent skipped the claimed contact without dialling: the attempt is closed as ``skipped`` with
    the reason as its cause (not dialled, so figures never count it as a dial).

    ``wrong_number`` skips the contact for good; ``do_not_call`` also puts the number on the do-not-call list
    (the contact is skipped with that reason, as an import does); ``later`` gives the try back and makes the
    contact due again in an hour.
    """
    from crm_core.models import DoNotCall

    if reason not in SKIP_REASONS:
        raise InvalidInput(f"unknown skip reason {reason!r} (one of {', '.join(SKIP_REASONS)})", reason=reason)
    now = at or utcnow()
    attempt = _attempt(session, attempt_id)
    contact = session.get(CampaignContact, attempt.contact_id, with_for_update=True)
    assert contact is not None
    if attempt.ended_at is not None:
        return Closed(attempt.id, attempt.result or "", contact.status, contact.next_attempt_at, already_closed=True)
    attempt.ended_at, attempt.result, attempt.hangup_cause = now, AttemptResult.SKIPPED.value, reason
    if reason == "later":
        contact.attempts = max(0, contact.attempts - 1)
        contact.status, contact.next_attempt_at = ContactStatus.PENDING.value, now + SKIP_LATER
    else:
        contact.status, contact.skip_reason, contact.next_attempt_at = ContactStatus.SKIPPED.value, reason, None
        contact.last_result = reason
        if reason == "do_not_call" and session.get(DoNotCall, contact.number) is None:
            session.add(DoNotCall(number=contact.number, reason="preview agent: asked not to be called",
                                  added_by=by[:40]))
    session.flush()
    completed = complete_if_exhausted(session, attempt.campaign_id, actor=DIALER)
    return Closed(attempt.id, attempt.result, contact.status, contact.next_attempt_at, completed)


def attempt_claim(session: Session, attempt_id: int) -> Claim:
    """An open attempt as the dialer's :class:`Claim` (a preview contact dialled after it was claimed)."""
    attempt = _attempt(session, attempt_id)
    if attempt.ended_at is not None:
        raise InvalidInput(f"attempt {attempt_id} is already closed", attempt_id=attempt_id)
    contact = session.get(CampaignContact, attempt.contact_id)
    assert contact is not None
    return Claim(attempt.id, attempt.campaign_id, contact.id, contact.customer_id, attempt.number,
                 attempt.call_uuid or "", attempt.caller_id, contact.attempts, dict(contact.data or {}))
