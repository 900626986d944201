"""After-sales service actions: complaints, callback requests, voicemails, knowledge search, interaction log.

Complaints and callback requests move only along their life cycles
(``COMPLAINT_TRANSITIONS``, ``CALLBACK_TRANSITIONS``); anything else is an
``IllegalTransition``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from crm_core.enums import (
    CALLBACK_TRANSITIONS,
    COMPLAINT_TRANSITIONS,
    CallbackStatus,
    Channel,
    ComplaintCategory,
    ComplaintStatus,
    Direction,
)
from crm_core.exceptions import CallbackTaken, IllegalTransition, InvalidInput, UnknownCallback, UnknownComplaint
from crm_core.models import CallbackRequest, Complaint, Interaction, KnowledgeArticle, Voicemail
from crm_core.phones import DEFAULT_REGION, to_e164, try_e164
from crm_core.types import utcnow


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


def change_complaint_status(
    session: Session,
    complaint_id: int,
    status: str,
    *,
    by: str,
    resolution: str | None = None,
    at: dt.datetime | None = None,
) -> Complaint:
    """Move a complaint one allowed step (open -> in_progress -> resolved -> closed, resolved -> reopened).

    Taking it in hand assigns it to ``by`` when nobody has it; resolving needs a resolution text.
    """
    target = ComplaintStatus(status)
    complaint = session.get(Complaint, complaint_id, with_for_update=True)
    if complaint is None:
        raise UnknownComplaint(f"no complaint {complaint_id}", complaint_id=complaint_id)
    current = ComplaintStatus(complaint.status)
    if (current, target) not in COMPLAINT_TRANSITIONS:
        raise IllegalTransition(
            f"complaint {complaint_id} cannot go from {current} to {target}",
            complaint_id=complaint_id, from_status=current.value, to_status=target.value,
        )
    if target == ComplaintStatus.RESOLVED:
        if not (resolution or "").strip():
            raise InvalidInput("resolving a complaint needs a resolution", complaint_id=complaint_id)
        complaint.resolution = resolution.strip()  # type: ignore[union-attr]
        complaint.resolved_at = at or utcnow()
        complaint.resolved_by = by[:40]
    elif target == ComplaintStatus.IN_PROGRESS and current == ComplaintStatus.RESOLVED:
        complaint.resolved_at = complaint.resolved_by = None  # reopened
    if complaint.assigned_to is None and target != ComplaintStatus.CLOSED:
        complaint.assigned_to = by[:40]
    complaint.status = target.value
    session.flush()
    return complaint


def resolve_complaint(
    session: Session, complaint_id: int, resolution: str, by: str, *, at: dt.datetime | None = None
) -> Complaint:
    """Resolve an open or in-progress complaint with what was done, by whom (IllegalTransition otherwise)."""
    return change_complaint_status(session, complaint_id, ComplaintStatus.RESOLVED, by=by, resolution=resolution,
                                   at=at)


def _callback_status(status: str) -> CallbackStatus:
    try:
        return CallbackStatus(status)
    except ValueError:
        try:
            return CallbackStatus[str(status).upper()]  # the aliases: requested, completed
        except KeyError:
            raise InvalidInput(f"unknown callback status {status!r}", status=status) from None


def update_callback(
    session: Session,
    callback_id: int,
    status: str,
    note: str | None = None,
    by: str | None = None,
    *,
    agent_id: int | None = None,
    window_start: dt.datetime | None = None,
    window_end: dt.datetime | None = None,
    call_uuid: str | None = None,
) -> CallbackRequest:
    """Move a callback request one allowed step; each move to in_progress counts an attempt.

    requested (pending) -> scheduled -> in_progress -> completed (done) | failed | cancelled;
    in_progress -> scheduled is a retry. The note gets one line per step (status, who, note).
    """
    target = _callback_status(status)
    request = session.get(CallbackRequest, callback_id, with_for_update=True)
    if request is None:
        raise UnknownCallback(f"no callback request {callback_id}", callback_id=callback_id)
    current = CallbackStatus(request.status)
    if (current, target) not in CALLBACK_TRANSITIONS:
        raise IllegalTransition(
            f"callback request {callback_id} cannot go from {current} to {target}",
            callback_id=callback_id, from_status=current.value, to_status=target.value,
        )
    start = window_start or request.window_start
    end = window_end or request.window_end
    if start and end and end <= start:
        raise InvalidInput("the callback window must end after it starts", callback_id=callback_id)
    request.window_start, request.window_end = start, end
    if target == CallbackStatus.IN_PROGRESS:
        request.attempts += 1
    if agent_id is not None:
        request.agent_id = agent_id
    if call_uuid is not None:
        request.call_uuid = call_uuid
    line = target.value + (f" by {by}" if by else "") + (f": {note}" if note else "")
    request.note = f"{request.note}\n{line}" if request.note else line
    request.status = target.value
    session.flush()
    return request


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
    keep_unparsed: bool = False,
) -> CallbackRequest:
    """Record that a caller wants to be called back on ``number``, preferably inside a window.

    The number is stored in E.164; with ``keep_unparsed`` a caller ID that is not a
    phone number of ``region`` (an extension, a short code) is kept as dialled
    instead of refused, so the caller's request is not lost.
    """
    if window_start and window_end and window_end <= window_start:
        raise InvalidInput("the callback window must end after it starts")
    try:
        stored = to_e164(number, region)
    except InvalidInput:
        digits = "".join(ch for ch in str(number) if ch.isdigit() or ch == "+")[:20]
        if not keep_unparsed or not digits:
            raise
        stored = digits
    request = CallbackRequest(
        number=stored, customer_id=customer_id, window_start=window_start,
        window_end=window_end, queue_name=queue_name, call_uuid=call_uuid, note=note,
        status=CallbackStatus.PENDING.value,
    )
    session.add(request)
    session.flush()
    return request


#: Callback statuses still waiting for someone to call.
OPEN_CALLBACK_STATUSES = (CallbackStatus.PENDING, CallbackStatus.SCHEDULED)


def open_callbacks(session: Session, queue: str | None = None) -> list[CallbackRequest]:
    """Pending and scheduled callback requests (of one queue), oldest first."""
    query = select(CallbackRequest).where(CallbackRequest.status.in_([s.value for s in OPEN_CALLBACK_STATUSES]))
    if queue is not None:
        query = query.where(CallbackRequest.queue_name == queue)
    return list(session.scalars(query.order_by(CallbackRequest.created_at, CallbackRequest.id)))


def _held_by_other(request: CallbackRequest, agent_id: int) -> None:
    if request.agent_id is not None and request.agent_id != agent_id:
        raise CallbackTaken(f"callback request {request.id} is held by agent {request.agent_id}",
                            callback_id=request.id, agent_id=request.agent_id)


def claim_callback(session: Session, callback_id: int, agent_id: int) -> CallbackRequest:
    """An agent takes an open request to call by hand (``agent_id`` set, status scheduled).

    IllegalTransition when it is no longer open, CallbackTaken when another agent holds it.
    """
    request = session.get(CallbackRequest, callback_id, with_for_update=True)
    if request is None:
        raise UnknownCallback(f"no callback request {callback_id}", callback_id=callback_id)
    _held_by_other(request, agent_id)
    return update_callback(session, callback_id, CallbackStatus.SCHEDULED, "claimed", by=f"agent {agent_id}",
                           agent_id=agent_id)


def record_callback_attempt(
    session: Session, callback_id: int, *, call_uuid: str, result: str, cause: str = "", final: bool = False,
    by: str | None = None,
) -> CallbackRequest:
    """One dial attempt, through the life cycle: in_progress (counts it), then done when ``result`` is
    ``answered``, else failed when ``final`` or scheduled for a retry."""
    request = session.get(CallbackRequest, callback_id, with_for_update=True)
    if request is None:
        raise UnknownCallback(f"no callback request {callback_id}", callback_id=callback_id)
    if request.status != CallbackStatus.IN_PROGRESS.value:
        update_callback(session, callback_id, CallbackStatus.IN_PROGRESS, f"attempt {request.attempts + 1}", by=by,
                        call_uuid=call_uuid)
    outcome = CallbackStatus.DONE if result == "answered" else (
        CallbackStatus.FAILED if final else CallbackStatus.SCHEDULED)
    return update_callback(session, callback_id, outcome, f"{result} {cause}".strip(), by=by, call_uuid=call_uuid)


def complete_callback(session: Session, callback_id: int, agent_id: int, success: bool,
                      note: str | None = None) -> CallbackRequest:
    """The agent who called a request by hand closes it: done, or failed (CallbackTaken if another holds it)."""
    request = session.get(CallbackRequest, callback_id, with_for_update=True)
    if request is None:
        raise UnknownCallback(f"no callback request {callback_id}", callback_id=callback_id)
    _held_by_other(request, agent_id)
    by = f"agent {agent_id}"
    if request.status != CallbackStatus.IN_PROGRESS.value:
        update_callback(session, callback_id, CallbackStatus.IN_PROGRESS, "called by hand", by=by, agent_id=agent_id)
    return update_callback(session, callback_id, CallbackStatus.DONE if success else CallbackStatus.FAILED, note,
                           by=by, agent_id=agent_id)


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
    interaction = _interaction(channel, customer_id=customer_id, direction=direction, address=address,
                               summary=summary, detail=detail, call_uuid=call_uuid, agent_id=agent_id)
    session.add(interaction)
    session.flush()
    return interaction


def log_interactions(session: Session, channel: str, rows: Iterable[Mapping[str, Any]]) -> list[Interaction]:
    """Several touches in one flush; each row takes ``log_interaction``'s keyword arguments.

    One flush is one multi-row INSERT on PostgreSQL: the IVR writes its steps
    in batches, and a flush per row was most of the database work of a call.
    The rows keep their order (ids ascend with it).
    """
    interactions = [_interaction(channel, **row) for row in rows]
    session.add_all(interactions)
    session.flush()
    return interactions


def _interaction(channel: str, *, customer_id: int | None = None, direction: str = Direction.INBOUND,
                 address: str | None = None, summary: str | None = None, detail: dict[str, Any] | None = None,
                 call_uuid: str | None = None, agent_id: int | None = None) -> Interaction:
    return Interaction(
        channel=str(Channel(channel)), direction=str(Direction(direction)), customer_id=customer_id,
        address=address, summary=summary, detail=detail, call_uuid=call_uuid, agent_id=agent_id,
    )
