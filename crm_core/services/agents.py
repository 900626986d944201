"""The agents' record: every state change in ``agent_state_log``, queue membership in ``agent_queues``, and the
read-back a restarted ACD rebuilds from.

States are crm_core's :class:`~crm_core.enums.AgentState` values, ``not_ready``
included (its reason code in ``reason``). Which queues an agent is logged in
to is the ``logged_in`` flag of its ``agent_queues`` rows (membership and
penalty stay when it logs out). Occupancy reports read the state log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.enums import AgentState
from crm_core.exceptions import InvalidInput
from crm_core.models import Agent, AgentQueue, AgentStateChange, Queue


@dataclass(frozen=True)
class AgentStateRow:
    """An agent's latest logged state and the queues it is logged in to."""

    agent_id: int
    state: AgentState
    reason: str | None
    call_uuid: str | None
    at: dt.datetime
    queues: tuple[str, ...]


@dataclass(frozen=True)
class AgentDirectoryEntry:
    """An active agent as routing needs it."""

    id: int
    extension: str
    name: str
    skills: dict[str, int]


def log_agent_state(session: Session, agent_id: int, state: str, *, reason: str | None = None,
                    call_uuid: str | None = None, at: dt.datetime | None = None) -> AgentStateChange:
    """Append one state change to the agent's log (``at`` defaults to the database's now)."""
    try:
        value = AgentState(state).value
    except ValueError:
        raise InvalidInput(f"unknown agent state {state!r}", state=state) from None
    row = AgentStateChange(agent_id=agent_id, state=value, reason=(reason or None) and reason[:255],
                           call_uuid=call_uuid)
    if at is not None:
        row.at = at
    session.add(row)
    session.flush()
    return row


def set_logged_in_queues(session: Session, agent_id: int, queues: Iterable[str]) -> tuple[str, ...]:
    """Log the agent in to exactly ``queues`` (by name) and out of its other memberships; the names stored.

    A membership is created on first login (penalty 0) and kept when the agent
    logs out. Names of queues that do not exist (any more) are skipped.
    """
    wanted = set(queues)
    ids = dict(session.execute(select(Queue.name, Queue.id).where(Queue.name.in_(wanted))).all()) if wanted else {}
    existing = {m.queue_id: m for m in session.scalars(select(AgentQueue).where(AgentQueue.agent_id == agent_id))}
    for queue_id, membership in existing.items():
        membership.logged_in = queue_id in ids.values()
    for name, queue_id in ids.items():
        if queue_id not in existing:
            session.add(AgentQueue(agent_id=agent_id, queue_id=queue_id, penalty=0, logged_in=True))
    session.flush()
    return tuple(sorted(ids))


def logged_in_queues(session: Session) -> dict[int, tuple[str, ...]]:
    """agent id -> names of the queues it is logged in to."""
    out: dict[int, list[str]] = {}
    for agent_id, name in session.execute(
            select(AgentQueue.agent_id, Queue.name).join(Queue, Queue.id == AgentQueue.queue_id)
            .where(AgentQueue.logged_in.is_(True)).order_by(AgentQueue.agent_id, Queue.name)):
        out.setdefault(agent_id, []).append(name)
    return {agent_id: tuple(names) for agent_id, names in out.items()}


def last_agent_states(session: Session) -> list[AgentStateRow]:
    """Each agent's latest logged change with its logged-in queues (what a restarted ACD starts from)."""
    latest = (select(AgentStateChange.agent_id, func.max(AgentStateChange.id).label("id"))
              .group_by(AgentStateChange.agent_id).subquery())
    rows = session.scalars(select(AgentStateChange).join(latest, AgentStateChange.id == latest.c.id)
                           .order_by(AgentStateChange.agent_id)).all()
    queues = logged_in_queues(session)
    return [AgentStateRow(row.agent_id, AgentState(row.state), row.reason, row.call_uuid, row.at,
                          queues.get(row.agent_id, ())) for row in rows]


def active_agents(session: Session) -> list[AgentDirectoryEntry]:
    """Active agents with their skill levels, by id."""
    return [AgentDirectoryEntry(a.id, a.extension, a.name, {s.skill.name: s.level for s in a.skills})
            for a in session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.id))]
