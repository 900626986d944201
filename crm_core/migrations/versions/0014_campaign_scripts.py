"""Campaign scripts: what an IVR menu is for (``inbound`` or ``campaign``), kept on the menu row.

The menu document carries its purpose; the IVR's menu store copies it to
``ivr_menus.purpose`` when a menu is created and when a version is published,
so the campaign service can refuse an inbound menu as a campaign's script
(and the other way round) without reading IVR documents. Every menu before
this revision was an inbound one.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ivr_menus") as batch:
        batch.add_column(sa.Column("purpose", sa.String(20), nullable=False, server_default="inbound"))


def downgrade() -> None:
    with op.batch_alter_table("ivr_menus") as batch:
        batch.drop_column("purpose")
