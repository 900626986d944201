"""The ACD's record in crm_core: agent state log, CDRs, previous-agent history, configuration, recovery.

Every database call runs off the reactor: :class:`ThreadPoolGateway` runs
``fn(session)`` in one transaction on a bounded thread pool
(``deferToThreadPool``). :class:`SessionGateway` runs it inline on a given
session (tests inside a rolled-back transaction, and command-line tools).

crm_core's ``agent_state_log.state`` CHECK has no ``not_ready`` yet; until it
has, not-ready is stored as ``break`` with the reason ``not_ready:<code>``
and read back as not_ready (see :func:`to_db_state` / :func:`from_db_state`).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Callable, Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker
from twisted.internet import defer, threads
from twisted.python.threadpool import ThreadPool

from acd.agents import AgentState, StateChange
from acd.callbacks import VIRTUAL_HOLD_NOTE
from acd.exceptions import CallbackUnavailable
from acd.queues import Overflow, QueueConfig
from acd.records import CdrEvent
from crm_core import enums
from crm_core.db import transaction
from crm_core.models import Agent as AgentRow
from crm_core.models import AgentStateChange, CallbackRequest, CallDetailRecord, Queue

log = logging.getLogger(__name__)
UTC = dt.timezone.utc
_NOT_READY_PREFIX = "not_ready:"
_DB_HAS_NOT_READY = "NOT_READY" in enums.AgentState.__members__


def ts(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, UTC)


def epoch(moment: dt.datetime) -> float:
    """Seconds since the epoch of a stored time (SQLite gives them back naive: they are UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def to_db_state(state: AgentState, reason: str | None) -> tuple[str, str | None]:
    if state is AgentState.NOT_READY and not _DB_HAS_NOT_READY:
        return AgentState.BREAK.value, _NOT_READY_PREFIX + (reason or "")
    return state.value, reason


def from_db_state(state: str, reason: str | None) -> tuple[AgentState, str | None]:
    if state == AgentState.BREAK.value and reason and reason.startswith(_NOT_READY_PREFIX):
        return AgentState.NOT_READY, reason[len(_NOT_READY_PREFIX):] or None
    return AgentState(state), reason


class ThreadPoolGateway:
    """Runs ``fn(session)`` in a transaction on ``pool`` (bounded); Deferred of its result."""

    def __init__(self, reactor: Any, pool: ThreadPool, sessions: sessionmaker[Session]) -> None:
        self.reactor, self.pool, self.sessions = reactor, pool, sessions

    def run(self, fn: Callable[[Session], Any]) -> defer.Deferred:
        def work() -> Any:
            with transaction(self.sessions) as session:
                return fn(session)

        return threads.deferToThreadPool(self.reactor, self.pool, work)


class SessionGateway:
    """Runs ``fn(session)`` at once on one session (flushes); for tests and tools, never on the live reactor."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def run(self, fn: Callable[[Session], Any]) -> defer.Deferred:
        try:
            result = fn(self.session)
            self.session.flush()
            return defer.succeed(result)
        except Exception:
            return defer.fail()


# -- agent state log -------------------------------------------------------------

def _queues_reason(change: StateChange, reason: str | None) -> str | None:
    tail = "queues=" + ",".join(change.queues)
    return f"{reason} |{tail}" if reason else f"|{tail}"


def _split_reason(text: str | None) -> tuple[str | None, tuple[str, ...]]:
    if not text or "|queues=" not in text:
        return text, ()
    reason, _, queues = text.rpartition("|queues=")
    reason = reason.rstrip(" ") or None
    return reason, tuple(q for q in queues.split(",") if q)


class DbStateLog:
    """A :class:`acd.agents.StateLog` writing crm_core's ``agent_state_log`` (queue membership in the reason)."""

    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway

    def record(self, change: StateChange) -> defer.Deferred:
        state, reason = to_db_state(change.state, change.reason)
        row = AgentStateChange(agent_id=change.agent_id, state=state, reason=_queues_reason(change, reason),
                               call_uuid=change.call_uuid, at=ts(change.at))
        return self.gateway.run(lambda session: session.add(row))


def last_states(session: Session) -> list[StateChange]:
    """Each agent's latest logged change (restart recovery)."""
    latest = (select(AgentStateChange.agent_id, func.max(AgentStateChange.id).label("id"))
              .group_by(AgentStateChange.agent_id).subquery())
    rows = session.scalars(select(AgentStateChange).join(latest, AgentStateChange.id == latest.c.id)).all()
    out = []
    for row in rows:
        text, queues = _split_reason(row.reason)
        state, reason = from_db_state(row.state, text)
        out.append(StateChange(row.agent_id, state, reason, row.call_uuid, epoch(row.at), queues))
    return out


# -- CDRs -------------------------------------------------------------------------------

class DbCdr:
    """A :class:`acd.records.CdrSink` keeping one ``call_detail_records`` row per caller uuid (upsert)."""

    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway

    def write(self, event: CdrEvent) -> defer.Deferred:
        return self.gateway.run(lambda session: apply_cdr_event(session, event))


def apply_cdr_event(session: Session, event: CdrEvent) -> CallDetailRecord:
    """Create or update the CDR of ``event.call_uuid`` (the IVR may have created it already)."""
    cdr = session.scalar(select(CallDetailRecord).where(CallDetailRecord.uuid == event.call_uuid))
    f = event.fields
    if cdr is None:
        cdr = CallDetailRecord(uuid=event.call_uuid, entered_at=ts(f.get("entered_at", event.at)),
                               direction=f.get("direction") or enums.Direction.INBOUND.value)
        session.add(cdr)
    if event.kind == "queued":
        cdr.queued_at = ts(event.at)
        cdr.queue_id = f.get("queue_id") if f.get("queue_id") is not None else cdr.queue_id
        for key in ("ani", "dnis", "customer_id", "ivr_path"):
            if f.get(key) not in (None, "") and getattr(cdr, key) in (None, ""):
                setattr(cdr, key, f[key])
        for key in ("leg", "parent_uuid"):  # a transferred caller's next segment (acd/transfer.py)
            if f.get(key) and hasattr(cdr, key):
                setattr(cdr, key, str(f[key]))
    elif event.kind == "answered":
        cdr.agent_id, cdr.answered_at = f.get("agent_id"), ts(event.at)
    elif event.kind == "ended":
        cdr.ended_at = ts(event.at)
        cdr.disposition = (f.get("disposition") or None) and str(f["disposition"])[:40]
        cdr.hangup_cause = (f.get("hangup_cause") or None) and str(f["hangup_cause"])[:40]
        if f.get("agent_id") is not None:
            cdr.agent_id = f["agent_id"]
    elif event.kind == "wrapup_ended":
        cdr.wrapup_ended_at = ts(event.at)
    session.flush()
    return cdr


def open_queue_calls(session: Session, since: dt.datetime) -> list[Any]:
    """Calls the ACD had when the engine stopped: CDR rows queued since ``since`` and never ended."""
    from acd.resume import OpenCall

    rows = session.execute(
        select(CallDetailRecord.uuid, Queue.name, CallDetailRecord.entered_at, CallDetailRecord.answered_at,
               CallDetailRecord.agent_id)
        .outerjoin(Queue, Queue.id == CallDetailRecord.queue_id)
        .where(CallDetailRecord.ended_at.is_(None), CallDetailRecord.queued_at.is_not(None),
               CallDetailRecord.entered_at >= since,
               CallDetailRecord.direction == enums.Direction.INBOUND.value)
        .order_by(CallDetailRecord.entered_at)).all()
    return [OpenCall(uuid, queue, epoch(entered), answered is not None, agent_id)
            for uuid, queue, entered, answered, agent_id in rows]


class DbHistory:
    """The agent who last answered this customer (or this number) since a time, from the CDRs."""

    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway

    def previous_agent(self, customer_id: int | None, ani: str, since: float) -> defer.Deferred:
        return self.gateway.run(lambda session: previous_agent(session, customer_id, ani, ts(since)))

    def remember(self, *args: Any) -> None:
        """Nothing to do: the CDR written for the call is the memory."""


def previous_agent(session: Session, customer_id: int | None, ani: str, since: dt.datetime) -> int | None:
    """Agent id of the latest answered CDR of the customer (else of the number) after ``since``."""
    who = []
    if customer_id is not None:
        who.append(CallDetailRecord.customer_id == customer_id)
    if ani:
        who.append(CallDetailRecord.ani == ani)
    if not who:
        return None
    query = (select(CallDetailRecord.agent_id)
             .where(or_(*who), CallDetailRecord.agent_id.is_not(None), CallDetailRecord.answered_at.is_not(None),
                    CallDetailRecord.answered_at >= since)
             .order_by(CallDetailRecord.answered_at.desc()).limit(1))
    return session.scalar(query)


# -- configuration ---------------------------------------------------------------------------

def load_queue_configs(session: Session, **defaults: Any) -> list[QueueConfig]:
    """Active queues as :class:`QueueConfig` (overflow_target: a queue name, ``voicemail`` or ``callback``)."""
    configs = []
    for q in session.scalars(select(Queue).where(Queue.active.is_(True)).order_by(Queue.id)):
        target = q.overflow_target
        overflow = None
        if target:
            overflow = Overflow(target) if target in ("voicemail", "callback") else Overflow("queue", target)
        configs.append(QueueConfig(
            name=q.name, strategy=q.strategy, wrapup_seconds=q.wrapup_seconds, sl_seconds=q.sl_target_seconds,
            sl_percent=float(q.sl_target_percent), max_wait=q.max_wait_seconds, max_length=q.max_length,
            overflow=overflow, required_skills={qs.skill.name: qs.min_level for qs in q.required_skills},
            db_id=q.id, **defaults))
    return configs


def load_agents(session: Session) -> list[tuple[int, str, str, dict[str, int]]]:
    """Active agents as (id, extension, name, {skill: level})."""
    return [(a.id, a.extension, a.name, {s.skill.name: s.level for s in a.skills})
            for a in session.scalars(select(AgentRow).where(AgentRow.active.is_(True)).order_by(AgentRow.id))]


def configure(acd: Any, queues: Iterable[QueueConfig], agents: Iterable[tuple[int, str, str, dict[str, int]]]) -> None:
    """Load queues and agents into an ACD (startup and reload; nobody is logged out, no caller dropped)."""
    for config in queues:
        acd.configure_queue(config)
    for agent_id, extension, name, skills in agents:
        acd.add_agent(agent_id, extension, name, skills)


# -- callback requests (virtual hold and the agents' manual list) ----------------------------------

_CLAIM = "claimed_by="


def _note_add(row: CallbackRequest, line: str) -> None:
    row.note = f"{row.note}\n{line}" if row.note else line


def claimed_by(row: CallbackRequest) -> int | None:
    """The agent who claimed a request (kept in the note until crm_core has a column)."""
    for line in (row.note or "").splitlines()[::-1]:
        if line.startswith(_CLAIM):
            value = line[len(_CLAIM):]
            return int(value) if value.isdigit() else None
    return None


def callback_view(row: CallbackRequest) -> dict[str, Any]:
    return {"id": row.id, "number": row.number, "customer_id": row.customer_id, "queue_name": row.queue_name,
            "status": row.status, "attempts": row.attempts, "call_uuid": row.call_uuid,
            "claimed_by": claimed_by(row), "note": row.note,
            "created_at": row.created_at.isoformat() if row.created_at else None}


def create_callback(session: Session, *, number: str, customer_id: int | None, queue: str, call_uuid: str) -> int:
    """Commit a callback request through crm_core's service (a number that is not E.164-able is kept as dialled)."""
    from crm_core.services.support import request_callback

    try:
        row = request_callback(session, number, customer_id=customer_id, queue_name=queue, call_uuid=call_uuid,
                               note=VIRTUAL_HOLD_NOTE + ": keeps its place in line")
    except Exception:  # noqa: BLE001 -- an odd caller id still deserves its callback
        row = CallbackRequest(number=number[:20], customer_id=customer_id, queue_name=queue, call_uuid=call_uuid,
                              status=enums.CallbackStatus.PENDING.value, note=VIRTUAL_HOLD_NOTE)
        session.add(row)
        session.flush()
    return row.id


def record_attempt(session: Session, request_id: int, *, call_uuid: str, result: str, cause: str,
                   final: bool) -> dict[str, Any]:
    """Count one dial attempt on the request (its CDR is written by the ACD) and set the status."""
    row = session.get(CallbackRequest, request_id)
    if row is None:
        raise CallbackUnavailable(f"no callback request {request_id}", request_id=request_id)
    row.attempts = (row.attempts or 0) + 1
    row.call_uuid = call_uuid
    if result == "answered":
        row.status = enums.CallbackStatus.DONE.value
    else:
        row.status = (enums.CallbackStatus.FAILED if final else enums.CallbackStatus.SCHEDULED).value
    _note_add(row, f"attempt {row.attempts}: {result} {cause}".strip())
    session.flush()
    return callback_view(row)


def open_callbacks(session: Session, queue: str | None = None) -> list[dict[str, Any]]:
    """Pending and scheduled callback requests, oldest first."""
    query = select(CallbackRequest).where(CallbackRequest.status.in_(
        [enums.CallbackStatus.PENDING.value, enums.CallbackStatus.SCHEDULED.value]))
    if queue is not None:
        query = query.where(CallbackRequest.queue_name == queue)
    return [callback_view(r) for r in session.scalars(query.order_by(CallbackRequest.created_at,
                                                                     CallbackRequest.id))]


def claim_callback(session: Session, request_id: int, agent_id: int) -> dict[str, Any]:
    """An agent takes an open request; CallbackUnavailable if it is closed or another agent has it."""
    row = session.get(CallbackRequest, request_id, with_for_update=True)
    if row is None or row.status not in (enums.CallbackStatus.PENDING.value, enums.CallbackStatus.SCHEDULED.value):
        raise CallbackUnavailable(f"callback {request_id} is not open", request_id=request_id)
    holder = claimed_by(row)
    if holder is not None and holder != agent_id:
        raise CallbackUnavailable(f"callback {request_id} is claimed by agent {holder}", request_id=request_id)
    row.status = enums.CallbackStatus.SCHEDULED.value
    _note_add(row, f"{_CLAIM}{agent_id}")
    session.flush()
    return callback_view(row)


def complete_callback(session: Session, request_id: int, agent_id: int, success: bool,
                      note: str | None = None) -> dict[str, Any]:
    """The claiming agent closes the request: done, or failed."""
    row = session.get(CallbackRequest, request_id, with_for_update=True)
    if row is None:
        raise CallbackUnavailable(f"no callback request {request_id}", request_id=request_id)
    holder = claimed_by(row)
    if holder is not None and holder != agent_id:
        raise CallbackUnavailable(f"callback {request_id} is claimed by agent {holder}", request_id=request_id)
    row.status = (enums.CallbackStatus.DONE if success else enums.CallbackStatus.FAILED).value
    _note_add(row, f"completed by {agent_id}: {'done' if success else 'failed'}" + (f" - {note}" if note else ""))
    session.flush()
    return callback_view(row)


class DbCallbacks:
    """A :class:`acd.callbacks.CallbackStore` on crm_core's ``callback_requests`` (through the gateway's pool)."""

    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway

    def create(self, **kw: Any) -> defer.Deferred:
        return self.gateway.run(lambda s: create_callback(s, **kw))

    def attempt(self, request_id: int, **kw: Any) -> defer.Deferred:
        return self.gateway.run(lambda s: record_attempt(s, request_id, **kw))

    def pending(self, queue: str | None = None) -> defer.Deferred:
        return self.gateway.run(lambda s: open_callbacks(s, queue))

    def claim(self, request_id: int, agent_id: int) -> defer.Deferred:
        return self.gateway.run(lambda s: claim_callback(s, request_id, agent_id))

    def complete(self, request_id: int, agent_id: int, success: bool, note: str | None = None) -> defer.Deferred:
        return self.gateway.run(lambda s: complete_callback(s, request_id, agent_id, success, note))
