"""Contact center: agents, skills, queues and queue membership, call detail records and the agent state log.

The ACD keeps live state in memory; this is what it rebuilds from after a
restart and what reports and the wallboard read.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, Numeric, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.db import Base, check_in
from crm_core.enums import AgentState, Direction
from crm_core.types import created_at, intpk, json_doc, str20, str40, str100, updated_at


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[intpk]
    login: Mapped[str40] = mapped_column(unique=True)
    name: Mapped[str100]
    extension: Mapped[str20] = mapped_column(unique=True)
    password_hash: Mapped[str]
    active: Mapped[bool] = mapped_column(Boolean, server_default="1")
    created_at: Mapped[created_at]

    skills: Mapped[list[AgentSkill]] = relationship(back_populates="agent", cascade="all, delete-orphan")


class Skill(Base):
    __tablename__ = "skills"

    id: Mapped[intpk]
    name: Mapped[str40] = mapped_column(unique=True)
    description: Mapped[str | None]

    agents: Mapped[list[AgentSkill]] = relationship(back_populates="skill", cascade="all, delete-orphan")


class AgentSkill(Base):
    __tablename__ = "agent_skills"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 10", name="level_1_to_10"),)

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True, index=True)
    level: Mapped[int] = mapped_column(Integer, server_default="5")

    agent: Mapped[Agent] = relationship(back_populates="skills")
    skill: Mapped[Skill] = relationship(back_populates="agents")


class Queue(Base):
    __tablename__ = "queues"
    __table_args__ = (
        CheckConstraint("wrapup_seconds >= 0", name="wrapup_not_negative"),
        CheckConstraint("sl_target_seconds > 0", name="sl_seconds_positive"),
        CheckConstraint("sl_target_percent > 0 AND sl_target_percent <= 100", name="sl_percent_range"),
        CheckConstraint("max_wait_seconds IS NULL OR max_wait_seconds > 0", name="max_wait_positive"),
        CheckConstraint("max_length IS NULL OR max_length > 0", name="max_length_positive"),
    )

    id: Mapped[intpk]
    name: Mapped[str40] = mapped_column(unique=True)
    strategy: Mapped[str40] = mapped_column(server_default="longest-idle-agent")
    wrapup_seconds: Mapped[int] = mapped_column(Integer, server_default="10")
    sl_target_seconds: Mapped[int] = mapped_column(Integer, server_default="20")
    sl_target_percent: Mapped[float] = mapped_column(Numeric(5, 2, asdecimal=False), server_default="80")
    max_wait_seconds: Mapped[int | None] = mapped_column(Integer)
    max_length: Mapped[int | None] = mapped_column(Integer)
    overflow_target: Mapped[str40 | None] = mapped_column(doc="queue name, extension or 'voicemail'")
    active: Mapped[bool] = mapped_column(Boolean, server_default="1")
    created_at: Mapped[created_at]

    required_skills: Mapped[list[QueueSkill]] = relationship(back_populates="queue", cascade="all, delete-orphan")


class QueueSkill(Base):
    """A skill a queue's calls need, at a minimum level."""

    __tablename__ = "queue_skills"
    __table_args__ = (CheckConstraint("min_level BETWEEN 1 AND 10", name="min_level_1_to_10"),)

    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True)
    min_level: Mapped[int] = mapped_column(Integer, server_default="1")

    queue: Mapped[Queue] = relationship(back_populates="required_skills")
    skill: Mapped[Skill] = relationship()


class AgentQueue(Base):
    """An agent's membership of a queue: the penalty routing weighs, and whether the agent is logged in to it."""

    __tablename__ = "agent_queues"
    __table_args__ = (
        UniqueConstraint("agent_id", "queue_id"),
        CheckConstraint("penalty >= 0", name="penalty_not_negative"),
        Index("ix_agent_queues_queue_id", "queue_id"),
    )

    id: Mapped[intpk]
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"))
    penalty: Mapped[int] = mapped_column(Integer, server_default="0", doc="0 is offered first; higher waits longer")
    logged_in: Mapped[bool] = mapped_column(Boolean, server_default="0")
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    agent: Mapped[Agent] = relationship()
    queue: Mapped[Queue] = relationship()


class CallDetailRecord(Base):
    """One call leg as reports see it: who, where it waited, who took it, how it ended."""

    __tablename__ = "call_detail_records"
    __table_args__ = (
        check_in("direction", Direction),
        Index("ix_call_detail_records_entered_at", "entered_at"),
        Index("ix_call_detail_records_agent_id_entered_at", "agent_id", "entered_at"),
        Index("ix_call_detail_records_queue_id_entered_at", "queue_id", "entered_at"),
        Index("ix_call_detail_records_ani", "ani"),
        Index("ix_call_detail_records_parent_uuid", "parent_uuid"),
    )

    id: Mapped[intpk]
    uuid: Mapped[str40] = mapped_column(unique=True)
    ani: Mapped[str40 | None] = mapped_column(doc="caller number as the network gave it")
    dnis: Mapped[str40 | None] = mapped_column(doc="number dialled: which ad or line")
    direction: Mapped[str20] = mapped_column(server_default=Direction.INBOUND.value)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id", ondelete="SET NULL"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    entered_at: Mapped[dt.datetime]
    queued_at: Mapped[dt.datetime | None]
    answered_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    wrapup_ended_at: Mapped[dt.datetime | None]
    disposition: Mapped[str40 | None]
    hangup_cause: Mapped[str40 | None]
    media_source: Mapped[str40 | None]
    ivr_path: Mapped[str | None] = mapped_column(doc="menu nodes visited, e.g. 'main>orders>status'")
    routing: Mapped[json_doc | None] = mapped_column(doc="routing decisions with their reasons (list or document)")
    leg: Mapped[str20 | None] = mapped_column(doc="which leg this row is: caller, agent, transfer, consult...")
    parent_uuid: Mapped[str40 | None] = mapped_column(doc="uuid of the caller's leg this leg belongs to")


class AgentStateChange(Base):
    __tablename__ = "agent_state_log"
    __table_args__ = (
        check_in("state", AgentState),
        Index("ix_agent_state_log_agent_id_at", "agent_id", "at"),
        # agent report (migration 0006): each agent's changes in LEAD order (at, id) with the state, so the
        # window runs on an index-only scan instead of sorting the period's rows
        Index("ix_agent_state_log_agent_id_at_id_state", "agent_id", "at", "id", "state"),
    )

    id: Mapped[intpk]
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    state: Mapped[str20]
    reason: Mapped[str | None]
    call_uuid: Mapped[str40 | None]
    at: Mapped[created_at]
