"""IVR menu documents as plain JSON on PostgreSQL, so node order survives.

JSONB stores objects with its own key order; a menu's node order is part of
what the admin wrote (the editor tree, the exported YAML). Plain ``json``
keeps the text as written. SQLite stores JSON as text already: nothing to do.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE ivr_menu_versions ALTER COLUMN document TYPE json USING document::json")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE ivr_menu_versions ALTER COLUMN document TYPE jsonb USING document::jsonb")
