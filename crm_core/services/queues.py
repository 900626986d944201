"""Agent <-> queue membership: which queues an agent serves, at what penalty, and whether logged in to each.

The ACD keeps live queue state in memory; this is the record it rebuilds from
after a restart and what the admin edits. Queues are named by id or by name.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.exceptions import InvalidInput, UnknownAgent, UnknownQueue
from crm_core.models import Agent, AgentQueue, Queue


def _queue_id(session: Session, queue: int | str) -> int:
    if isinstance(queue, int):
        if session.get(Queue, queue) is None:
            raise UnknownQueue(f"no queue {queue}", queue=queue)
        return queue
    queue_id = session.scalar(select(Queue.id).where(Queue.name == queue))
    if queue_id is None:
        raise UnknownQueue(f"no queue named {queue!r}", queue=queue)
    return queue_id


def _membership(session: Session, agent_id: int, queue_id: int) -> AgentQueue | None:
    return session.scalars(
        select(AgentQueue).where(AgentQueue.agent_id == agent_id, AgentQueue.queue_id == queue_id)
    ).first()


def join_queue(
    session: Session, agent_id: int, queue: int | str, *, penalty: int | None = None, logged_in: bool = True
) -> AgentQueue:
    """Make the agent a member of ``queue`` (logged in unless told otherwise); an existing membership is updated."""
    if session.get(Agent, agent_id) is None:
        raise UnknownAgent(f"no agent {agent_id}", agent_id=agent_id)
    if penalty is not None and (not isinstance(penalty, int) or penalty < 0):
        raise InvalidInput(f"penalty must be a whole number >= 0, got {penalty!r}", penalty=penalty)
    queue_id = _queue_id(session, queue)
    membership = _membership(session, agent_id, queue_id)
    if membership is None:
        membership = AgentQueue(agent_id=agent_id, queue_id=queue_id, penalty=penalty or 0, logged_in=logged_in)
        session.add(membership)
    else:
        membership.logged_in = logged_in
        if penalty is not None:
            membership.penalty = penalty
    session.flush()
    return membership


def leave_queue(session: Session, agent_id: int, queue: int | str, *, remove: bool = False) -> AgentQueue | None:
    """Log the agent out of ``queue`` (membership and penalty kept), or drop the membership with ``remove``.

    Returns the membership (None when removed or when there was none).
    """
    queue_id = _queue_id(session, queue)
    membership = _membership(session, agent_id, queue_id)
    if membership is None:
        return None
    if remove:
        session.delete(membership)
        session.flush()
        return None
    membership.logged_in = False
    session.flush()
    return membership


def memberships(session: Session, agent_id: int, *, logged_in_only: bool = False) -> list[AgentQueue]:
    """The agent's queue memberships, best (lowest penalty) first, then by queue name."""
    stmt = (
        select(AgentQueue)
        .join(Queue, Queue.id == AgentQueue.queue_id)
        .where(AgentQueue.agent_id == agent_id)
        .order_by(AgentQueue.penalty, Queue.name)
    )
    if logged_in_only:
        stmt = stmt.where(AgentQueue.logged_in.is_(True))
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class QueueSettingsRow:
    """An active queue's stored settings, as the ACD loads them."""

    id: int
    name: str
    strategy: str
    wrapup_seconds: int
    sl_target_seconds: int
    sl_target_percent: float
    max_wait_seconds: int | None
    max_length: int | None
    overflow_target: str | None
    required_skills: dict[str, int]


def active_queues(session: Session) -> list[QueueSettingsRow]:
    """Active queues with their required skills (minimum levels), by id."""
    return [QueueSettingsRow(q.id, q.name, q.strategy, q.wrapup_seconds, q.sl_target_seconds,
                             float(q.sl_target_percent), q.max_wait_seconds, q.max_length, q.overflow_target,
                             {qs.skill.name: qs.min_level for qs in q.required_skills})
            for q in session.scalars(select(Queue).where(Queue.active.is_(True)).order_by(Queue.id))]


def queue_members(session: Session, queue: int | str, *, logged_in_only: bool = True) -> list[AgentQueue]:
    """A queue's members (logged-in ones by default), lowest penalty first, then by agent id."""
    queue_id = _queue_id(session, queue)
    stmt = select(AgentQueue).where(AgentQueue.queue_id == queue_id).order_by(AgentQueue.penalty,
                                                                                AgentQueue.agent_id)
    if logged_in_only:
        stmt = stmt.where(AgentQueue.logged_in.is_(True))
    return list(session.scalars(stmt))
