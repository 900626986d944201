"""The ACD's ports on crm_core: each adapter turns an ACD call into a crm_core service run through the DB gateway.

Nothing here writes SQL: the agent state log and queue membership are
``crm_core.services.agents``, callback requests ``crm_core.services.support``
(the one callback life cycle, the claimant in ``agent_id``), queue and agent
configuration ``crm_core.services.queues`` / ``agents``, previous-agent history
and restart recovery ``crm_core.services.calls``. (The call records themselves
are the call recorder's: the ACD reports to it, see :mod:`acd.records`.) Every adapter takes a
:class:`crm_core.gateway.DbGateway` (the engine's ``ThreadPoolGateway``, or an
``InlineGateway`` in tests), so the ACD's database work runs off the reactor.
The ACD converts between its clock seconds and the record's aware datetimes
here (:func:`ts`, :func:`epoch`).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Iterable

from sqlalchemy.orm import Session
from twisted.internet import defer

from acd.agents import AgentState, StateChange
from acd.callbacks import VIRTUAL_HOLD_NOTE
from acd.exceptions import CallbackUnavailable
from acd.queues import Overflow, QueueConfig
from crm_core.exceptions import CallbackTaken, IllegalTransition, UnknownCallback
from crm_core.gateway import DbGateway
from crm_core.services import agents as agent_record
from crm_core.services import calls as call_record
from crm_core.services import queues as queue_record
from crm_core.services import support

log = logging.getLogger(__name__)
UTC = dt.timezone.utc


def ts(seconds: float) -> dt.datetime:
    """Clock seconds (epoch) as an aware UTC datetime."""
    return dt.datetime.fromtimestamp(seconds, UTC)


def epoch(moment: dt.datetime) -> float:
    """Seconds since the epoch of a stored time (SQLite gives them back naive: they are UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


# -- agent state log and queue membership ---------------------------------------------------------

class DbStateLog:
    """A :class:`acd.agents.StateLog`: each change in ``agent_state_log``, queue changes in ``agent_queues``."""

    def __init__(self, gateway: DbGateway) -> None:
        self.gateway = gateway
        self._queues: dict[int, tuple[str, ...]] = {}  # what membership was last written, per agent

    def record(self, change: StateChange) -> Any:
        queues = tuple(sorted(change.queues))
        membership = queues if self._queues.get(change.agent_id) != queues else None
        self._queues[change.agent_id] = queues
        return self.gateway.run(write_state_change, change, membership)


def write_state_change(session: Session, change: StateChange, membership: tuple[str, ...] | None) -> None:
    """One state change, and the agent's logged-in queues when they changed."""
    agent_record.log_agent_state(session, change.agent_id, change.state.value, reason=change.reason,
                                 call_uuid=change.call_uuid, at=ts(change.at))
    if membership is not None:
        agent_record.set_logged_in_queues(session, change.agent_id, membership)


def last_states(session: Session) -> list[StateChange]:
    """Each agent's latest logged change with its logged-in queues (restart recovery)."""
    return [StateChange(row.agent_id, AgentState(row.state.value), row.reason, row.call_uuid, epoch(row.at),
                        row.queues) for row in agent_record.last_agent_states(session)]


# -- history and restart recovery ----------------------------------------------------------------------

class DbHistory:
    """The agent who last answered this customer (or this number) since a time, from the CDRs."""

    def __init__(self, gateway: DbGateway) -> None:
        self.gateway = gateway

    def previous_agent(self, customer_id: int | None, ani: str, since: float) -> defer.Deferred:
        return self.gateway.run(call_record.previous_agent, customer_id, ani, ts(since))

    def remember(self, *args: Any) -> None:
        """Nothing to do: the CDR written for the call is the memory."""


def open_queue_calls(session: Session, since: dt.datetime) -> list[Any]:
    """Inbound calls the ACD had when the engine stopped: rows queued since ``since`` and never ended."""
    from acd.resume import OpenCall

    return [OpenCall(row.uuid, row.queue, epoch(row.entered_at), row.answered, row.agent_id)
            for row in call_record.unfinished_calls(session, since)
            if row.queued and row.direction == "inbound"]


# -- configuration ---------------------------------------------------------------------------------------

def load_queue_configs(session: Session, **defaults: Any) -> list[QueueConfig]:
    """Active queues as :class:`QueueConfig` (overflow_target: a queue name, ``voicemail`` or ``callback``)."""
    configs = []
    for q in queue_record.active_queues(session):
        target = q.overflow_target
        overflow = None
        if target:
            overflow = Overflow(target) if target in ("voicemail", "callback") else Overflow("queue", target)
        configs.append(QueueConfig(
            name=q.name, strategy=q.strategy, wrapup_seconds=q.wrapup_seconds, sl_seconds=q.sl_target_seconds,
            sl_percent=q.sl_target_percent, max_wait=q.max_wait_seconds, max_length=q.max_length,
            overflow=overflow, required_skills=dict(q.required_skills), db_id=q.id, **defaults))
    return configs


def load_agents(session: Session) -> list[tuple[int, str, str, dict[str, int]]]:
    """Active agents as (id, extension, name, {skill: level})."""
    return [(a.id, a.extension, a.name, a.skills) for a in agent_record.active_agents(session)]


def configure(acd: Any, queues: Iterable[QueueConfig], agents: Iterable[tuple[int, str, str, dict[str, int]]]) -> None:
    """Load queues and agents into an ACD (startup and reload; nobody is logged out, no caller dropped)."""
    for config in queues:
        acd.configure_queue(config)
    for agent_id, extension, name, skills in agents:
        acd.add_agent(agent_id, extension, name, skills)


# -- callback requests (virtual hold and the agents' manual list) ----------------------------------------

def callback_view(row: Any) -> dict[str, Any]:
    """A callback request as the ACD and the desk see it (``claimed_by``: the agent holding it)."""
    return {"id": row.id, "number": row.number, "customer_id": row.customer_id, "queue_name": row.queue_name,
            "status": row.status, "attempts": row.attempts, "call_uuid": row.call_uuid,
            "claimed_by": row.agent_id, "note": row.note,
            "created_at": row.created_at.isoformat() if row.created_at else None}


def _unavailable(request_id: int, call: Any) -> Any:
    """Run ``call()``; crm_core's refusals become the ACD's CallbackUnavailable (``acd-callback-unavailable``)."""
    try:
        return call()
    except (UnknownCallback, IllegalTransition, CallbackTaken) as exc:
        raise CallbackUnavailable(f"callback {request_id}: {exc.message}", request_id=request_id,
                                  reason=exc.error_id) from exc


def create_callback(session: Session, *, number: str, customer_id: int | None, queue: str, call_uuid: str,
                    region: str = "CN") -> int:
    """A virtual-hold request (an odd caller id is kept as dialled: the caller still deserves the call)."""
    return support.request_callback(session, number, customer_id=customer_id, queue_name=queue, call_uuid=call_uuid,
                                    note=VIRTUAL_HOLD_NOTE + ": keeps its place in line", region=region,
                                    keep_unparsed=True).id


def open_callbacks(session: Session, queue: str | None = None) -> list[dict[str, Any]]:
    """Pending and scheduled callback requests (views), oldest first."""
    return [callback_view(r) for r in support.open_callbacks(session, queue)]


class DbCallbacks:
    """A :class:`acd.callbacks.CallbackStore` on crm_core's callback services (through the gateway)."""

    def __init__(self, gateway: DbGateway, region: str = "CN") -> None:
        self.gateway = gateway
        self.region = region

    def create(self, **kw: Any) -> defer.Deferred:
        return self.gateway.run(lambda s: create_callback(s, region=self.region, **kw))

    def attempt(self, request_id: int, **kw: Any) -> defer.Deferred:
        return self.gateway.run(lambda s: callback_view(_unavailable(
            request_id, lambda: support.record_callback_attempt(s, request_id, **kw))))

    def pending(self, queue: str | None = None) -> defer.Deferred:
        return self.gateway.run(open_callbacks, queue)

    def claim(self, request_id: int, agent_id: int) -> defer.Deferred:
        return self.gateway.run(lambda s: callback_view(_unavailable(
            request_id, lambda: support.claim_callback(s, request_id, agent_id))))

    def complete(self, request_id: int, agent_id: int, success: bool, note: str | None = None) -> defer.Deferred:
        return self.gateway.run(lambda s: callback_view(_unavailable(
            request_id, lambda: support.complete_callback(s, request_id, agent_id, success, note))))
