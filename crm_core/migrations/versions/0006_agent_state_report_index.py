"""An index for the agent report: each agent's state changes in the order the report walks them.

The agent report (``admin/reports/agents.py``) takes each state's duration
as ``LEAD(at) OVER (PARTITION BY agent_id ORDER BY at, id)``. With only
``ix_agent_state_log_agent_id_at`` PostgreSQL sorts the period's changes
(tens of thousands a month, spilling to disk at the default ``work_mem``)
before the window; ``(agent_id, at, id, state)`` hands it the rows already in
that order with every column it reads (an index-only scan). Plain key
columns, so it is the same, and covering, on SQLite. Plain ``CREATE INDEX``
(on a large PostgreSQL install, create it ``CONCURRENTLY`` by hand first;
this revision then only records it).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_agent_state_log_agent_id_at_id_state"


def upgrade() -> None:
    op.create_index(NAME, "agent_state_log", ["agent_id", "at", "id", "state"], if_not_exists=True)


def downgrade() -> None:
    op.drop_index(NAME, table_name="agent_state_log", if_exists=True)
