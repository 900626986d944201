"""The running dialers' live figures per campaign and engine (``dialer_status``).

The engine writes its dialer's figures every few seconds; the CLI and the
admin UI, which run in other processes, read them from here.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "dialer_status",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("engine_id", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("figures", JSON, nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_dialer_status_campaign_id_campaigns"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "engine_id", name=op.f("pk_dialer_status")),
    )
    op.create_index("ix_dialer_status_updated_at", "dialer_status", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_dialer_status_updated_at", table_name="dialer_status")
    op.drop_table("dialer_status")
