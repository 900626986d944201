"""Agents' SIP phone passwords: one per agent, for the FreeSWITCH directory generated from the database.

A nullable column: agents created before it get a password the first time
``hotline freeswitch directory`` runs (crm_core.services.sip_accounts).

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-06 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("sip_password", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("sip_password")
