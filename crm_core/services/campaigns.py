"""The campaign life cycle and settings: the one road the admin UI, the CLI and the dialer take.

Statuses move only along ``CAMPAIGN_TRANSITIONS`` (draft -> scheduled ->
running <-> paused -> completed | stopped); anything else is an
``IllegalTransition``. Starting checks that the campaign can dial (caller ID,
a script or voice file where one is needed, contacts or a segment) and
evaluates its saved segment into contacts. Settings edits are validated
against ``crm_core.campaign_rules``; edits of what the dialer uses (pacing,
compliance, script) are allowed on a running campaign and bump
``pacing_version`` so a running dialer reloads them. Every transition and
edit writes an audit entry in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core import campaign_rules as rules
from crm_core.enums import (
    CAMPAIGN_TRANSITIONS,
    AmdPolicy,
    BlendRule,
    CampaignMode,
    CampaignStatus,
    ContactStatus,
)
from crm_core.exceptions import IllegalTransition, InvalidInput, NotFound
from crm_core.models import Campaign, CampaignContact, CampaignQuestion, CustomerSegment
from crm_core.models.ivr_menus import IvrMenu, IvrMenuVersion
from crm_core.phones import DEFAULT_REGION, to_e164
from crm_core.services.audit import record_audit
from crm_core.types import utcnow

#: Fields the dialer works from: editable while running, and each edit bumps ``pacing_version``.
PACING_FIELDS = frozenset({
    "mode", "dial_ratio", "abandon_cap_percent", "calling_hours_start", "calling_hours_end", "timezone",
    "skip_holidays", "holiday_country", "max_attempts", "retry_minutes", "retry_rules", "ring_seconds",
    "caller_id", "amd_policy", "voice_file", "ivr_script", "abandon_message", "blend_rule", "queue_id",
})
#: Fields only a campaign that has not started may change.
SETUP_FIELDS = frozenset({"name", "starts_at", "ends_at", "segment_id"})
EDITABLE_FIELDS = PACING_FIELDS | SETUP_FIELDS
FINAL_STATUSES = frozenset({CampaignStatus.COMPLETED, CampaignStatus.STOPPED})


class UnknownCampaign(NotFound):
    error_id = "unknown-campaign"


@dataclass(frozen=True)
class Actor:
    """Who acts, for the audit log (a person in the UI or CLI, or a process such as the dialer)."""

    name: str
    user_id: int | None = None
    remote_addr: str | None = None


@dataclass(frozen=True)
class StatusChange:
    campaign_id: int
    from_status: str
    to_status: str
    contacts_added: dict[str, int] = field(default_factory=dict)


def get_campaign(session: Session, campaign: int | str, *, lock: bool = False) -> Campaign:
    """A campaign by id or by name (UnknownCampaign otherwise); ``lock`` takes its row lock."""
    stmt = select(Campaign).where(Campaign.id == campaign if isinstance(campaign, int) else Campaign.name == campaign)
    if lock:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).first()
    if row is None:
        raise UnknownCampaign(f"no campaign {campaign!r}", campaign=str(campaign))
    return row


def _audit(session: Session, actor: Actor, action: str, campaign_id: int, changes: dict[str, Any]) -> None:
    record_audit(session, action, Campaign.__tablename__, campaign_id, changes, user_id=actor.user_id,
                 username=actor.name, remote_addr=actor.remote_addr)


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _clean(name: str, value: Any, region: str) -> Any:
    """One setting checked and normalised (InvalidInput names the field)."""
    if name == "name":
        text = str(value or "").strip()
        if not text or len(text) > 100:
            raise InvalidInput("a campaign needs a name of 1-100 characters", field="name")
        return text
    if name == "mode":
        try:
            return CampaignMode(value).value
        except ValueError:
            raise InvalidInput(f"unknown mode {value!r}", field="mode") from None
    if name == "amd_policy":
        try:
            return AmdPolicy(value).value
        except ValueError:
            raise InvalidInput(f"unknown answering-machine policy {value!r}", field="amd_policy") from None
    if name == "blend_rule":
        try:
            return BlendRule(value).value
        except ValueError:
            raise InvalidInput(f"unknown blend rule {value!r}", field="blend_rule") from None
    if name == "dial_ratio":
        return rules.validate_ratio(value)
    if name == "abandon_cap_percent":
        return rules.validate_percent(value, "abandon_cap_percent")
    if name in ("calling_hours_start", "calling_hours_end"):
        if isinstance(value, str):
            try:
                value = dt.time.fromisoformat(value)
            except ValueError:
                raise InvalidInput(f"{name} must be a time like 09:00", field=name) from None
        if not isinstance(value, dt.time):
            raise InvalidInput(f"{name} must be a time", field=name)
        return value.replace(tzinfo=None, microsecond=0)
    if name == "timezone":
        rules.validate_timezone(value)
        return str(value)
    if name == "skip_holidays":
        return bool(value)
    if name == "holiday_country":
        text = str(value or "").strip().upper()
        import holidays

        if text not in holidays.list_supported_countries():
            raise InvalidInput(f"no public-holiday calendar for {value!r}", field="holiday_country")
        return text
    if name in ("max_attempts", "retry_minutes"):
        low, high = (1, rules.MAX_ATTEMPTS_LIMIT) if name == "max_attempts" else (0, rules.MAX_RETRY_MINUTES)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(f"{name} must be a whole number {low}-{high}", field=name)
        return value
    if name == "retry_rules":
        return rules.validate_retry_rules(value) or None
    if name == "ring_seconds":
        return rules.validate_ring_seconds(value)
    if name == "caller_id":
        return to_e164(value, region) if value else None
    if name in ("voice_file", "abandon_message", "ivr_script"):
        text = str(value).strip() if value is not None else ""
        limit = 40 if name == "ivr_script" else 255
        if any(c in text for c in "\r\n{}'\"") or len(text) > limit:
            raise InvalidInput(f"{name} must be one path or name of at most {limit} characters", field=name)
        return text or None
    if name in ("starts_at", "ends_at"):
        if value is not None and (not isinstance(value, dt.datetime) or value.tzinfo is None):
            raise InvalidInput(f"{name} must be a time with a time zone", field=name)
        return value
    if name in ("queue_id", "segment_id"):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidInput(f"{name} must be an id", field=name)
        return value
    raise InvalidInput(f"{name} is not a campaign setting", field=name)


def _check_script(session: Session, campaign: Campaign) -> None:
    """An IVR script must be an IVR menu whose purpose is ``campaign`` (inbound menus answer the hotline)."""
    if not campaign.ivr_script:
        return
    purpose = session.scalar(select(IvrMenu.purpose).where(IvrMenu.name == campaign.ivr_script))
    if purpose is None:
        raise InvalidInput(f"there is no IVR menu named {campaign.ivr_script!r} to use as the script",
                           field="ivr_script")
    if purpose != "campaign":
        raise InvalidInput(f"IVR menu {campaign.ivr_script!r} answers inbound calls: a campaign's script must be a "
                           "menu whose purpose is campaign", field="ivr_script")


def _check_whole(campaign: Campaign) -> None:
    """Rules across fields, checked after every change."""
    rules.validate_calling_hours(campaign.calling_hours_start, campaign.calling_hours_end)
    if campaign.starts_at and campaign.ends_at and campaign.ends_at <= campaign.starts_at:
        raise InvalidInput("a campaign must end after it starts", field="ends_at")
    if campaign.segment_id is not None and campaign.segment is None:
        raise InvalidInput(f"no segment {campaign.segment_id}", field="segment_id")


def create_campaign(session: Session, name: str, *, actor: Actor, region: str = DEFAULT_REGION,
                    **settings: Any) -> Campaign:
    """A new draft campaign with validated settings (audited)."""
    unknown = set(settings) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput(f"not campaign settings: {', '.join(sorted(unknown))}")
    campaign = Campaign(name=_clean("name", name, region), status=CampaignStatus.DRAFT.value,
                        created_by=actor.name[:40])
    campaign.calling_hours_start = dt.time(9, 0)
    campaign.calling_hours_end = dt.time(21, 0)
    for key, value in settings.items():
        setattr(campaign, key, _clean(key, value, region))
    _check_script(session, campaign)
    session.add(campaign)
    if campaign.segment_id is not None:
        campaign.segment = session.get(CustomerSegment, campaign.segment_id)
    _check_whole(campaign)
    session.flush()
    _audit(session, actor, "create", campaign.id,
           {"name": campaign.name, **{k: _plain(getattr(campaign, k)) for k in sorted(settings)}})
    return campaign


def update_campaign(session: Session, campaign_id: int, changes: Mapping[str, Any], *, actor: Actor,
                    region: str = DEFAULT_REGION) -> Campaign:
    """Change settings; pacing edits are allowed live and bump ``pacing_version``. Returns the campaign."""
    campaign = get_campaign(session, campaign_id, lock=True)
    status = CampaignStatus(campaign.status)
    if status in FINAL_STATUSES:
        raise InvalidInput(f"campaign {campaign.name} is {status.value}: it can no longer be changed",
                           campaign_id=campaign_id)
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput(f"not campaign settings: {', '.join(sorted(unknown))}")
    started = status in (CampaignStatus.RUNNING, CampaignStatus.PAUSED)
    diff: dict[str, list[Any]] = {}
    for key, raw in changes.items():
        value = _clean(key, raw, region)
        old = getattr(campaign, key)
        if old == value or _plain(old) == _plain(value):
            continue
        if started and key in SETUP_FIELDS:
            raise InvalidInput(f"{key} cannot change once the campaign has started", field=key)
        setattr(campaign, key, value)
        diff[key] = [_plain(old), _plain(value)]
    if not diff:
        return campaign
    if "segment_id" in diff:
        campaign.segment = session.get(CustomerSegment, campaign.segment_id) if campaign.segment_id else None
    if "ivr_script" in diff:
        _check_script(session, campaign)
    _check_whole(campaign)
    if status == CampaignStatus.RUNNING:
        _check_dialable(session, campaign)
    if PACING_FIELDS & set(diff):
        campaign.pacing_version += 1
        diff["pacing_version"] = [campaign.pacing_version - 1, campaign.pacing_version]
    session.flush()
    _audit(session, actor, "update", campaign.id, diff)
    return campaign


def _check_dialable(session: Session, campaign: Campaign) -> None:
    """What a running campaign needs to place a single call; InvalidInput says what is missing."""
    if not campaign.caller_id:
        raise InvalidInput("a campaign needs its caller ID before it can run", field="caller_id")
    if campaign.mode == CampaignMode.IVR and not (campaign.ivr_script or campaign.voice_file):
        raise InvalidInput("an automated campaign needs an IVR script or a voice file", field="ivr_script")
    if campaign.mode == CampaignMode.IVR and campaign.ivr_script:
        _check_script(session, campaign)
        published = session.scalar(select(IvrMenuVersion.id).join(IvrMenu).where(
            IvrMenu.name == campaign.ivr_script, IvrMenuVersion.status == "published"))
        if published is None:
            raise InvalidInput(f"IVR script {campaign.ivr_script!r} has no published version yet: publish it first",
                               field="ivr_script")
    if campaign.amd_policy == AmdPolicy.LEAVE_MESSAGE and not campaign.voice_file:
        raise InvalidInput("leaving a message on machines needs a voice file", field="voice_file")


def change_campaign_status(session: Session, campaign_id: int | str, status: str, *, actor: Actor,
                           reason: str | None = None, at: dt.datetime | None = None) -> StatusChange:
    """Move a campaign one allowed step (starting evaluates its segment into contacts); audited."""
    try:
        target = CampaignStatus(status)
    except ValueError:
        raise InvalidInput(f"unknown campaign status {status!r}", status=status) from None
    campaign = get_campaign(session, campaign_id, lock=True)
    current = CampaignStatus(campaign.status)
    if (current, target) not in CAMPAIGN_TRANSITIONS:
        raise IllegalTransition(f"campaign {campaign.name} cannot go from {current} to {target}",
                                campaign_id=campaign.id, from_status=current.value, to_status=target.value)
    now = at or utcnow()
    added: dict[str, int] = {}
    if target == CampaignStatus.SCHEDULED:
        if campaign.starts_at is None or campaign.starts_at <= now:
            raise InvalidInput("scheduling needs a start time in the future", field="starts_at")
        _check_dialable(session, campaign)
    if target == CampaignStatus.RUNNING:
        _check_dialable(session, campaign)
        if campaign.ends_at is not None and campaign.ends_at <= now:
            raise InvalidInput("the campaign's end time has passed", field="ends_at")
        if current in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED) and campaign.segment_id is not None:
            from crm_core.services.segments import load_segment_contacts

            added = load_segment_contacts(session, campaign, now=now).counts()
        if not _has_contacts(session, campaign.id):
            raise InvalidInput("the campaign has no contacts to call", campaign_id=campaign.id)
    if target == CampaignStatus.COMPLETED and remaining_contacts(session, campaign.id):
        raise InvalidInput("contacts remain to be called: stop the campaign instead", campaign_id=campaign.id)
    campaign.status = target.value
    campaign.status_changed_at = now
    session.flush()
    details: dict[str, Any] = {"from": current.value, "to": target.value}
    if reason:
        details["reason"] = reason[:200]
    if added:
        details["contacts_added"] = added
    _audit(session, actor, "campaign-status", campaign.id, details)
    return StatusChange(campaign.id, current.value, target.value, added)


def _has_contacts(session: Session, campaign_id: int) -> bool:
    return session.scalar(select(CampaignContact.id).where(CampaignContact.campaign_id == campaign_id).limit(1)) \
        is not None


def remaining_contacts(session: Session, campaign_id: int) -> int:
    """Contacts still to be called or in flight (pending or dialing)."""
    return session.scalar(select(func.count()).where(
        CampaignContact.campaign_id == campaign_id,
        CampaignContact.status.in_((ContactStatus.PENDING.value, ContactStatus.DIALING.value)))) or 0


def complete_if_exhausted(session: Session, campaign_id: int, *, actor: Actor) -> bool:
    """Mark a running or paused campaign completed once nothing remains to call; True if it was."""
    campaign = get_campaign(session, campaign_id, lock=True)
    if campaign.status not in (CampaignStatus.RUNNING.value, CampaignStatus.PAUSED.value):
        return False
    if remaining_contacts(session, campaign_id):
        return False
    change_campaign_status(session, campaign_id, CampaignStatus.COMPLETED, actor=actor,
                           reason="every contact done, failed or skipped")
    return True


def start_due_campaigns(session: Session, *, actor: Actor, now: dt.datetime | None = None) -> list[int]:
    """Start scheduled campaigns whose start time has come; the ids started (failures are audited, not raised)."""
    now = now or utcnow()
    started = []
    due = session.scalars(select(Campaign.id).where(Campaign.status == CampaignStatus.SCHEDULED.value,
                                                    Campaign.starts_at <= now).order_by(Campaign.id)).all()
    for campaign_id in due:
        try:
            with session.begin_nested():
                change_campaign_status(session, campaign_id, CampaignStatus.RUNNING, actor=actor, at=now,
                                       reason="scheduled start")
            started.append(campaign_id)
        except (InvalidInput, IllegalTransition) as exc:
            _audit(session, actor, "campaign-start-failed", campaign_id, {"error": exc.message[:200]})
    return started


def set_questions(session: Session, campaign_id: int, questions: list[Mapping[str, Any]], *,
                  actor: Actor) -> list[CampaignQuestion]:
    """Replace a campaign's survey questions (key, prompt, valid_digits) in order; answered ones must stay."""
    campaign = get_campaign(session, campaign_id, lock=True)
    if CampaignStatus(campaign.status) in FINAL_STATUSES:
        raise InvalidInput(f"campaign {campaign.name} is {campaign.status}: it can no longer be changed")
    existing = {q.key: q for q in session.scalars(select(CampaignQuestion)
                                                  .where(CampaignQuestion.campaign_id == campaign_id))}
    keys = []
    for spec in questions:
        key = str(spec.get("key", "")).strip()
        prompt = str(spec.get("prompt", "")).strip()
        digits = str(spec.get("valid_digits", "12345")).strip()
        if not key or len(key) > 40 or not prompt:
            raise InvalidInput("each question needs a key (at most 40 characters) and a prompt", field="questions")
        if not digits or len(digits) > 20 or any(d not in "0123456789*#" for d in digits):
            raise InvalidInput(f"question {key}: valid digits are keys 0-9 * #", field="questions")
        keys.append((key, prompt, digits))
    if len({k for k, _p, _d in keys}) != len(keys):
        raise InvalidInput("question keys must be unique", field="questions")
    from crm_core.models import CampaignAnswer

    answered = set(session.scalars(select(CampaignQuestion.key).join(
        CampaignAnswer, CampaignAnswer.question_id == CampaignQuestion.id).where(
        CampaignQuestion.campaign_id == campaign_id)))
    dropped = set(existing) - {k for k, _p, _d in keys}
    if dropped & answered:
        raise InvalidInput(f"questions with answers cannot be removed: {', '.join(sorted(dropped & answered))}",
                           field="questions")
    for key in dropped:
        session.delete(existing.pop(key))
    session.flush()
    for row in existing.values():  # positions are unique: move the kept ones out of the way first
        row.position += 1000
    session.flush()
    out = []
    for position, (key, prompt, digits) in enumerate(keys, start=1):
        row = existing.get(key) or CampaignQuestion(campaign_id=campaign_id, key=key)
        row.position, row.prompt, row.valid_digits = position, prompt, digits
        session.add(row)
        out.append(row)
    campaign.pacing_version += 1
    session.flush()
    _audit(session, actor, "campaign-questions", campaign_id,
           {"questions": [k for k, _p, _d in keys], "pacing_version": campaign.pacing_version})
    return out
