"""After-sales service actions: complaints, callback requests, voicemails, knowledge search, interaction log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from crm_core.enums import CallbackStatus, Channel, ComplaintCategory, Direction
from crm_core.exceptions import InvalidInput
from crm_core.models import CallbackRequest, Complaint, Interaction, KnowledgeArticle, Voicemail
from crm_core.phones import DEFAULT_REGION, to_e164, try_e164


def file_complaint(
    session: Session,
    *,
    category: str,
    channel: str = Channel.IVR,
    customer_id: int | None = None,
    order_id: int | None = None,
    description: str | None = None,
    voicemail_id: int | None = None,
) -> Complaint:
    """Open a complaint (category product_quality / service / logistics / other)."""
    ComplaintCategory(category)  # ValueError early, before the CHECK constraint would
    complaint = Complaint(
        category=str(category), channel=str(channel), customer_id=customer_id, order_id=order_id,
        description=description, voicemail_id=voicemail_id,
    )
    session.add(complaint)
    session.flush()
    return complaint


def request_callback(
    session: Session,
    number: str,
    *,
    customer_id: int | None = None,
    window_start: dt.datetime | None = None,
    window_end: dt.datetime | None = None,
    queue_name: str | None = None,
    call_uuid: str | None = None,
    note: str | None = None,
    region: str = DEFAULT_REGION,
) -> CallbackRequest:
    """Record that a caller wants to be called back on ``number``, preferably inside a window."""
    if window_start and window_end and window_end <= window_start:
        raise InvalidInput("the callback window must end after it starts")
    request = CallbackRequest(
        number=to_e164(number, region), customer_id=customer_id, window_start=window_start,
        window_end=window_end, queue_name=queue_name, call_uuid=call_uuid, note=note,
        status=CallbackStatus.PENDING.value,
    )
    session.add(request)
    session.flush()
    return request


def record_voicemail(
    session: Session,
    audio_path: str,
    duration_seconds: float,
    *,
    caller: str | None = None,
    customer_id: int | None = None,
    call_uuid: str | None = None,
    mailbox: str = "complaints",
    region: str = DEFAULT_REGION,
) -> Voicemail:
    """Store where a caller's recording lies (the caller ID in E.164 when it parses)."""
    if duration_seconds < 0:
        raise InvalidInput("a voicemail cannot last less than zero seconds")
    voicemail = Voicemail(
        audio_path=audio_path, duration_seconds=duration_seconds, caller=try_e164(caller, region) or caller,
        customer_id=customer_id, call_uuid=call_uuid, mailbox=mailbox,
    )
    session.add(voicemail)
    session.flush()
    return voicemail


def search_knowledge(
    session: Session, text: str, *, limit: int = 5, approved_only: bool = True, count_hits: bool = True
) -> list[KnowledgeArticle]:
    """Articles matching most of the words in ``text``, most used first; returned ones get a hit counted."""
    words = [w.lower() for w in text.split() if w.strip()]
    if not words:
        return []
    haystack = func.lower(
        func.coalesce(KnowledgeArticle.question, "") + " " + func.coalesce(KnowledgeArticle.answer, "")
        + " " + func.coalesce(KnowledgeArticle.keywords, "")
    )
    matches = [haystack.like(f"%{word}%") for word in words]
    score = sum((case((m, 1), else_=0) for m in matches[1:]), case((matches[0], 1), else_=0))
    stmt = select(KnowledgeArticle).where(or_(*matches))
    if approved_only:
        stmt = stmt.where(KnowledgeArticle.approved.is_(True))
    stmt = stmt.order_by(score.desc(), KnowledgeArticle.hit_count.desc(), KnowledgeArticle.id).limit(limit)
    articles = list(session.scalars(stmt))
    if articles and count_hits:
        session.execute(
            update(KnowledgeArticle)
            .where(KnowledgeArticle.id.in_([a.id for a in articles]))
            .values(hit_count=KnowledgeArticle.hit_count + 1),
            execution_options={"synchronize_session": "fetch"},
        )
    return articles


def log_interaction(
    session: Session,
    channel: str,
    *,
    customer_id: int | None = None,
    direction: str = Direction.INBOUND,
    address: str | None = None,
    summary: str | None = None,
    detail: dict[str, Any] | None = None,
    call_uuid: str | None = None,
    agent_id: int | None = None,
) -> Interaction:
    """Add one touch (call, IVR, IM, e-mail, SMS, fax) to the customer's timeline."""
    interaction = Interaction(
        channel=str(Channel(channel)), direction=str(Direction(direction)), customer_id=customer_id,
        address=address, summary=summary, detail=detail, call_uuid=call_uuid, agent_id=agent_id,
    )
    session.add(interaction)
    session.flush()
    return interaction
