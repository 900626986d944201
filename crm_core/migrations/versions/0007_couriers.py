"""Couriers: the delivery companies orders ship with, edited in the admin UI.

Orders keep the courier's name in ``orders.courier`` (unchanged), so this is
a new table only.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 17:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "couriers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("code", sa.String(20), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("tracking_url", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_couriers"),
        sa.UniqueConstraint("name", name="uq_couriers_name"),
        sa.UniqueConstraint("code", name="uq_couriers_code"),
    )


def downgrade() -> None:
    op.drop_table("couriers")
