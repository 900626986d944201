"""Contact center and audit: not_ready agent state, agent-queue membership, CDR routing and legs,
the admin audit log, English product text, complaint/callback life cycles, revocable blacklist marks.

Every change is additive (new tables, new nullable columns, wider CHECKs and
types), so code written against 0002 keeps working. SQLite runs in batch mode:
only ``agent_state_log``, ``callback_requests`` (a CHECK, a type or a foreign
key changes) and an adopted ``admin_audit_log`` are rebuilt; nothing references them. ``admin_audit_log`` may already
exist (the admin app created it before this revision): it is then adopted.

Downgrade never rebuilds a table that others reference (SQLite drops plain
columns in place, which needs SQLite 3.35+). It keeps the data the old schema can hold: ``not_ready`` rows become
``break`` with the reason ``not_ready:<code>`` (what acd/store.py wrote before
0003), ``in_progress`` callbacks become ``scheduled``, English descriptions
are appended to the description on a new line (the pre-0003 convention).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
OLD_AGENT_STATES = ("logged_out", "available", "ringing", "on_call", "wrap_up", "break")
NEW_AGENT_STATES = ("logged_out", "available", "ringing", "on_call", "wrap_up", "not_ready", "break")
OLD_CALLBACK_STATUSES = ("pending", "scheduled", "done", "failed", "cancelled")
NEW_CALLBACK_STATUSES = (*OLD_CALLBACK_STATUSES, "in_progress")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _replace_check(table: str, name: str, condition: str) -> None:
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(op.f(name), type_="check")
        batch.create_check_constraint(op.f(name), condition)


def _drop_columns(table: str, *columns: str) -> None:
    """Drop plain columns; SQLite (>= 3.35) drops them in place, never rebuilding a table others reference."""
    if op.get_bind().dialect.name == "sqlite":
        for column in columns:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        return
    with op.batch_alter_table(table) as batch:
        for column in columns:
            batch.drop_column(column)


def upgrade() -> None:
    # 1. agent states: not_ready (with its reason code in ``reason``)
    _replace_check("agent_state_log", "ck_agent_state_log_state_valid", _in("state", NEW_AGENT_STATES))

    # 2. agent <-> queue membership
    op.create_table(
        "agent_queues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("penalty", sa.Integer(), server_default="0", nullable=False),
        sa.Column("logged_in", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("penalty >= 0", name=op.f("ck_agent_queues_penalty_not_negative")),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_agent_queues_agent_id_agents"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["queue_id"], ["queues.id"], name=op.f("fk_agent_queues_queue_id_queues"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_queues")),
        sa.UniqueConstraint("agent_id", "queue_id", name=op.f("uq_agent_queues_agent_id_queue_id")),
    )
    op.create_index(op.f("ix_agent_queues_queue_id"), "agent_queues", ["queue_id"], unique=False)

    # 3. CDR: routing decisions, per-leg records
    with op.batch_alter_table("call_detail_records") as batch:
        batch.add_column(sa.Column("routing", JSON, nullable=True))
        batch.add_column(sa.Column("leg", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("parent_uuid", sa.String(length=40), nullable=True))
    op.create_index(op.f("ix_call_detail_records_parent_uuid"), "call_detail_records", ["parent_uuid"],
                    unique=False)

    # 4. admin audit log (adopted when the admin app already created it)
    _create_or_adopt_audit_log()

    # 5. English product text
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("name_en", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("description_en", sa.Text(), nullable=True))

    # 6. complaint, callback and blacklist life cycles
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("resolved_by", sa.String(length=40), nullable=True))
    with op.batch_alter_table("callback_requests") as batch:
        batch.add_column(sa.Column("agent_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_callback_requests_agent_id_agents"), "agents", ["agent_id"], ["id"],
                                 ondelete="SET NULL")
        batch.alter_column("note", existing_type=sa.String(length=255), type_=sa.Text(), existing_nullable=True)
        batch.drop_constraint(op.f("ck_callback_requests_status_valid"), type_="check")
        batch.create_check_constraint(op.f("ck_callback_requests_status_valid"),
                                      _in("status", NEW_CALLBACK_STATUSES))
    with op.batch_alter_table("blacklist_marks") as batch:
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("revoked_by", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("revoke_reason", sa.String(length=255), nullable=True))


def _create_or_adopt_audit_log() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("admin_audit_log"):
        op.create_table(
            "admin_audit_log",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=True),
            sa.Column("username", sa.String(length=40), nullable=True),
            sa.Column("action", sa.String(length=40), nullable=False),
            sa.Column("model", sa.String(length=100), nullable=False),
            sa.Column("pk", sa.String(length=40), nullable=True),
            sa.Column("changes", JSON, nullable=True),
            sa.Column("remote_addr", sa.String(length=45), nullable=True),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_audit_log")),
        )
    else:
        # Created by admin/audit.py's ensure_table (same columns, remote_addr 20 wide): widen for IPv6.
        columns = {c["name"] for c in inspector.get_columns("admin_audit_log")}
        with op.batch_alter_table("admin_audit_log") as batch:
            if "remote_addr" in columns:
                batch.alter_column("remote_addr", existing_type=sa.String(length=20), type_=sa.String(length=45),
                                   existing_nullable=True)
            else:
                batch.add_column(sa.Column("remote_addr", sa.String(length=45), nullable=True))
    indexes = {ix["name"] for ix in sa.inspect(op.get_bind()).get_indexes("admin_audit_log")}
    if "ix_admin_audit_log_at" not in indexes:
        op.create_index(op.f("ix_admin_audit_log_at"), "admin_audit_log", ["at"], unique=False)
    if "ix_admin_audit_log_model_pk" not in indexes:
        op.create_index(op.f("ix_admin_audit_log_model_pk"), "admin_audit_log", ["model", "pk"], unique=False)


def downgrade() -> None:
    _drop_columns("blacklist_marks", "revoke_reason", "revoked_by", "revoked_at")

    op.execute("UPDATE callback_requests SET status = 'scheduled' WHERE status = 'in_progress'")
    op.execute("UPDATE callback_requests SET note = substr(note, 1, 255) WHERE length(note) > 255")
    with op.batch_alter_table("callback_requests") as batch:
        batch.drop_constraint(op.f("ck_callback_requests_status_valid"), type_="check")
        batch.create_check_constraint(op.f("ck_callback_requests_status_valid"),
                                      _in("status", OLD_CALLBACK_STATUSES))
        batch.alter_column("note", existing_type=sa.Text(), type_=sa.String(length=255), existing_nullable=True)
        batch.drop_constraint(op.f("fk_callback_requests_agent_id_agents"), type_="foreignkey")
        batch.drop_column("agent_id")
    _drop_columns("complaints", "resolved_by")

    op.execute(
        sa.text(
            "UPDATE products SET description = CASE WHEN description IS NULL OR description = '' "
            "THEN description_en ELSE description || :nl || description_en END "
            "WHERE description_en IS NOT NULL AND description_en <> ''"
        ).bindparams(nl="\n")
    )
    _drop_columns("products", "description_en", "name_en")

    op.drop_index(op.f("ix_admin_audit_log_model_pk"), table_name="admin_audit_log")
    op.drop_index(op.f("ix_admin_audit_log_at"), table_name="admin_audit_log")
    op.drop_table("admin_audit_log")

    op.drop_index(op.f("ix_call_detail_records_parent_uuid"), table_name="call_detail_records")
    _drop_columns("call_detail_records", "parent_uuid", "leg", "routing")

    op.drop_index(op.f("ix_agent_queues_queue_id"), table_name="agent_queues")
    op.drop_table("agent_queues")

    op.execute(
        "UPDATE agent_state_log SET state = 'break', "
        "reason = substr('not_ready:' || coalesce(reason, ''), 1, 255) WHERE state = 'not_ready'"
    )
    _replace_check("agent_state_log", "ck_agent_state_log_state_valid", _in("state", OLD_AGENT_STATES))
