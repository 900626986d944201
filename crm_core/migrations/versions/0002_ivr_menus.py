"""IVR menus: versioned menu documents (draft -> published -> retired).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ivr_menus",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ivr_menus")),
        sa.UniqueConstraint("name", name=op.f("uq_ivr_menus_name")),
    )
    op.create_table(
        "ivr_menu_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("menu_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="draft", nullable=False),
        sa.Column("document", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                  nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("published_by", sa.String(length=100), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'published', 'retired')",
                           name=op.f("ck_ivr_menu_versions_status_valid")),
        sa.ForeignKeyConstraint(["menu_id"], ["ivr_menus.id"], name=op.f("fk_ivr_menu_versions_menu_id_ivr_menus"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ivr_menu_versions")),
        sa.UniqueConstraint("menu_id", "version", name=op.f("uq_ivr_menu_versions_menu_id_version")),
    )
    op.create_index("uq_ivr_menu_versions_one_published", "ivr_menu_versions", ["menu_id"], unique=True,
                    sqlite_where=sa.text("status = 'published'"), postgresql_where=sa.text("status = 'published'"))
    op.create_index("uq_ivr_menu_versions_one_draft", "ivr_menu_versions", ["menu_id"], unique=True,
                    sqlite_where=sa.text("status = 'draft'"), postgresql_where=sa.text("status = 'draft'"))


def downgrade() -> None:
    op.drop_index("uq_ivr_menu_versions_one_draft", table_name="ivr_menu_versions")
    op.drop_index("uq_ivr_menu_versions_one_published", table_name="ivr_menu_versions")
    op.drop_table("ivr_menu_versions")
    op.drop_table("ivr_menus")
