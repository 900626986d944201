"""The outbox: queue a message (checked, rendered, idempotent) and see it through its life.

Queueing checks the recipient for the channel, renders the template with the
merge data (a missing field refuses the message), counts SMS parts and looks
up opt-outs; the row's ``idempotency_key`` is unique, so asking twice yields
the one message (``INSERT ... ON CONFLICT DO NOTHING``). A message to an
opted-out recipient is kept as ``cancelled`` with the reason, so nothing
asked for disappears without a trace.

The dispatcher side (claims, outcomes, receipts, recovery) is in
``crm_core.services.outbox_dispatch``. Both run inside the caller's
transaction: an order and its confirmation commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crm_core.enums import MessageStatus, NotifyChannel
from crm_core.exceptions import CrmError, IllegalTransition, InvalidInput, UnknownMessage
from crm_core.models import MessageOptOut, MessageTemplate, OutboxMessage
from crm_core.phones import DEFAULT_REGION
from crm_core.services.message_templates import Rendered, find_template, paragraphs_html, render
from crm_core.services.recipients import normalise_recipient
from crm_core.services.sms_segments import sms_segments
from crm_core.types import utcnow

#: Longest idempotency key (the column's size).
MAX_KEY = 120
#: Longest text an SMS may be (the longest concatenation phones reassemble: 10 parts).
MAX_SMS_SEGMENTS = 10


@dataclass
class MessageRequest:
    """One message to queue: a template and merge data, or ready text (agent desk, free text)."""

    channel: str
    recipient: str
    template: str | None = None
    data: Mapping[str, Any] | None = None
    language: str = "zh"
    subject: str | None = None
    body: str | None = None
    body_html: str | None = None
    key: str | None = None
    customer_id: int | None = None
    order_id: int | None = None
    complaint_id: int | None = None
    campaign_id: int | None = None
    call_uuid: str | None = None
    created_by: str | None = None
    max_attempts: int | None = None
    expires_at: dt.datetime | None = None
    ignore_opt_out: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EnqueueResult:
    """What ``enqueue_many`` did: rows created, keys already queued before, requests refused."""

    created: int
    duplicates: int
    refused: list[tuple[int, str]]  # (index in the request list, reason)


def new_key(prefix: str = "msg") -> str:
    """A fresh idempotency key, for messages no caller would ever ask for twice."""
    return f"{prefix}-{uuid.uuid4().hex}"


def _check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY:
        raise InvalidInput(f"idempotency key must be 1..{MAX_KEY} characters", key=key[:MAX_KEY])
    return key


def _rendered(session: Session, request: MessageRequest,
              cache: dict[tuple[str, str, str], MessageTemplate]) -> Rendered:
    if request.template is None:
        if not (request.body or "").strip():
            raise InvalidInput("a message needs a template or a text", channel=request.channel)
        html = request.body_html
        if html is None and request.channel == NotifyChannel.EMAIL:
            html = paragraphs_html(request.body or "")
        return Rendered(request.subject, request.body or "", html)
    wanted = (request.template, str(request.channel), request.language)
    template = cache.get(wanted)
    if template is None:
        template = cache[wanted] = find_template(session, *wanted)
    return render(template, request.data or {})


def _opted_out(session: Session, channel: str, addresses: Iterable[str]) -> dict[str, MessageOptOut]:
    wanted = sorted(set(addresses))
    if not wanted:
        return {}
    rows = session.scalars(select(MessageOptOut).where(MessageOptOut.channel == channel,
                                                       MessageOptOut.address.in_(wanted)))
    return {row.address: row for row in rows}


def _row_values(session: Session, request: MessageRequest, cache: dict, region: str,
                now: dt.datetime) -> dict[str, Any]:
    channel = NotifyChannel(request.channel).value
    recipient = normalise_recipient(channel, request.recipient, region)
    rendered = _rendered(session, request, cache)
    segments = sms_segments(rendered.body) if channel == NotifyChannel.SMS else None
    if segments is not None and segments > MAX_SMS_SEGMENTS:
        raise InvalidInput(f"the text takes {segments} SMS parts; at most {MAX_SMS_SEGMENTS}", segments=segments)
    values: dict[str, Any] = dict(
        channel=channel, recipient=recipient, template=request.template, language=request.language,
        merge_data=dict(request.data) if request.data else None, subject=rendered.subject, body=rendered.body,
        body_html=rendered.body_html, idempotency_key=_check_key(request.key or new_key(channel)),
        status=MessageStatus.QUEUED.value, next_attempt_at=now, expires_at=request.expires_at, segments=segments,
        customer_id=request.customer_id, order_id=request.order_id, complaint_id=request.complaint_id,
        campaign_id=request.campaign_id, call_uuid=request.call_uuid, created_by=request.created_by)
    if request.max_attempts is not None:
        if request.max_attempts < 1:
            raise InvalidInput("max_attempts must be at least 1")
        values["max_attempts"] = request.max_attempts
    return values


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert rows, skipping keys already queued; the number inserted."""
    if not rows:
        return 0
    table = OutboxMessage.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # every row the same keys; executemany with RETURNING runs as batched multi-row INSERTs ("insertmanyvalues")
    # from one cached compiled statement (a literal multi-row VALUES would be compiled anew every time)
    # columns no row sets are left to their server defaults: fewer parameters to send and parse
    keys = sorted({k for row in rows for k, v in row.items() if v is not None})
    rows = [{k: row.get(k) for k in keys} for row in rows]
    stmt = insert(table).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(table.c.id)
    return len(session.execute(stmt, rows).all())


def enqueue(session: Session, channel: str, recipient: str, *, region: str = DEFAULT_REGION,
            now: dt.datetime | None = None, **fields: Any) -> OutboxMessage:
    """Queue one message (see MessageRequest for ``fields``); the row, or the one queued before with its key.

    Refusals: InvalidRecipient, UnknownTemplate, MissingMergeField, InvalidInput. An opted-out
    recipient gives a ``cancelled`` row saying so (unless ``ignore_opt_out``).
    """
    request = MessageRequest(channel=str(channel), recipient=recipient, **fields)
    if request.key is not None:
        existing = message_by_key(session, request.key)
        if existing is not None:
            return existing
    now = now or utcnow()
    values = _row_values(session, request, {}, region, now)
    if not request.ignore_opt_out:
        out = _opted_out(session, values["channel"], [values["recipient"]]).get(values["recipient"])
        if out is not None:
            values.update(status=MessageStatus.CANCELLED.value,
                          last_error=f"recipient opted out of {values['channel']} ({out.source or 'opt-out'})")
    session.flush()
    _insert_ignoring_duplicates(session, [values])
    row = message_by_key(session, values["idempotency_key"])
    assert row is not None
    return row


def enqueue_many(session: Session, requests: Sequence[MessageRequest], *, region: str = DEFAULT_REGION,
                 now: dt.datetime | None = None, chunk: int = 500) -> EnqueueResult:
    """Queue many messages (campaign blasts, benchmarks) in multi-row INSERTs; refused ones are reported."""
    now = now or utcnow()
    cache: dict[tuple[str, str, str], MessageTemplate] = {}
    refused: list[tuple[int, str]] = []
    prepared: list[dict[str, Any]] = []
    for index, request in enumerate(requests):
        try:
            values = _row_values(session, request, cache, region, now)
        except CrmError as exc:  # recipient, template, merge data, key: one bad request never stops the rest
            refused.append((index, exc.message))
            continue
        values["_ignore"] = request.ignore_opt_out
        prepared.append(values)
    created = 0
    for start in range(0, len(prepared), chunk):
        part = prepared[start:start + chunk]
        by_channel: dict[str, list[str]] = {}
        for row in part:
            by_channel.setdefault(row["channel"], []).append(row["recipient"])
        outs = {channel: _opted_out(session, channel, addresses) for channel, addresses in by_channel.items()}
        for row in part:
            ignore = row.pop("_ignore", False)
            out = outs[row["channel"]].get(row["recipient"])
            if out is not None and not ignore:
                row.update(status=MessageStatus.CANCELLED.value,
                           last_error=f"recipient opted out of {row['channel']} ({out.source or 'opt-out'})")
        created += _insert_ignoring_duplicates(session, part)
    return EnqueueResult(created, len(prepared) - created, refused)


def message_by_key(session: Session, key: str) -> OutboxMessage | None:
    """The message queued with ``key``, if any."""
    return session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).first()


def get_message(session: Session, message_id: int, *, for_update: bool = False) -> OutboxMessage:
    """One outbox message; UnknownMessage when there is none."""
    stmt = select(OutboxMessage).where(OutboxMessage.id == message_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).first()
    if row is None:
        raise UnknownMessage(f"no outbox message {message_id}", id=message_id)
    return row


def cancel_message(session: Session, message_id: int, *, by: str) -> OutboxMessage:
    """Cancel a queued message (one being sent cannot be called back); IllegalTransition otherwise."""
    row = get_message(session, message_id, for_update=True)
    if row.status != MessageStatus.QUEUED:
        raise IllegalTransition(f"message {row.id} is {row.status}: only a queued message can be cancelled",
                                id=row.id, status=row.status)
    row.status = MessageStatus.CANCELLED.value
    row.last_error = f"cancelled by {by}"
    session.flush()
    return row


def retry_message(session: Session, message_id: int, *, by: str, now: dt.datetime | None = None) -> OutboxMessage:
    """Queue a failed, expired or cancelled message again, with a fresh set of attempts."""
    row = get_message(session, message_id, for_update=True)
    if row.status not in (MessageStatus.FAILED, MessageStatus.EXPIRED, MessageStatus.CANCELLED):
        raise IllegalTransition(f"message {row.id} is {row.status}: only failed, expired or cancelled messages "
                                "can be retried", id=row.id, status=row.status)
    row.status = MessageStatus.QUEUED.value
    row.attempts = 0
    row.next_attempt_at = now or utcnow()
    row.expires_at = None
    row.lease_until = row.claimed_by = None
    row.last_error = f"retried by {by}" + (f" after: {row.last_error}" if row.last_error else "")
    session.flush()
    return row


def list_messages(session: Session, *, channel: str | None = None, status: str | None = None,
                  customer_id: int | None = None, limit: int = 100) -> list[OutboxMessage]:
    """Newest messages first, optionally of one channel, status or customer."""
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if channel:
        stmt = stmt.where(OutboxMessage.channel == channel)
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    if customer_id is not None:
        stmt = stmt.where(OutboxMessage.customer_id == customer_id)
    return list(session.scalars(stmt))


def count_by_status(session: Session) -> dict[tuple[str, str], int]:
    """(channel, status) -> number of messages: the outbox at a glance."""
    rows = session.execute(select(OutboxMessage.channel, OutboxMessage.status, func.count())
                           .group_by(OutboxMessage.channel, OutboxMessage.status))
    return {(channel, status): n for channel, status, n in rows}


def set_attachment(session: Session, message_id: int, path: str) -> None:
    """Remember the rendered document of a message (the fax TIFF) so a retry sends the same pages."""
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(attachment_path=path))
