"""Outbound campaigns: the full life cycle, pacing and compliance settings, segments, attempts, surveys.

* ``campaigns``: statuses draft/scheduled/running/paused/completed/stopped
  (``finished`` becomes ``completed``), the ``ratio`` mode, and the pacing /
  compliance columns (dial ratio, per-disposition retry rules, time zone,
  holidays, ring time, answering-machine policy, voice file, identification
  message, blend rule, segment, pacing version, status change time).
* ``campaign_contacts``: the contact's own time zone and why it is skipped
  (filled from ``last_result`` for contacts skipped before this revision).
* new tables ``customer_segments``, ``campaign_attempts`` (with the partial
  unique index that lets one number have one open attempt at a time),
  ``campaign_questions`` and ``campaign_answers``.

``campaigns`` is referenced by contacts and CDRs, so on SQLite it is never
rebuilt (dropping the old table would cascade-delete every contact): new
columns are added in place with their own named constraints, and the two
CHECKs that change (mode, status) are rewritten in the stored table
definition, SQLite's documented procedure for constraint-only changes.
Downgrade keeps what the old schema can hold: scheduled -> draft,
completed/stopped -> finished, ratio -> progressive.

Revision ID: 0012
Revises: 0007
Create Date: 2026-11-25 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from crm_core.migrations.checks import in_list as _in
from crm_core.migrations.checks import replace_checks as _replace_checks
from crm_core.migrations.checks import sqlite_rewrite as _sqlite_rewrite

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
OLD_STATUSES = ("draft", "running", "paused", "finished")
NEW_STATUSES = ("draft", "scheduled", "running", "paused", "completed", "stopped")
OLD_MODES = ("preview", "progressive", "predictive", "ivr")
NEW_MODES = ("preview", "progressive", "ratio", "predictive", "ivr")
RESULTS = ("answered", "no_answer", "busy", "failed", "machine", "abandoned", "blocked_dnc", "blocked_hours")
AMD_POLICIES = ("off", "hangup", "leave_message", "live")
BLEND_RULES = ("dedicated", "service_level", "no_inbound_waiting")


def _campaign_columns(dialect: str) -> list[tuple[str, str]]:
    """(name, column definition) of the new ``campaigns`` columns, constraints named as the models name them."""
    json_type = "JSONB" if dialect == "postgresql" else "JSON"
    stamp = "TIMESTAMP WITH TIME ZONE" if dialect == "postgresql" else "DATETIME"
    return [
        ("dial_ratio", "NUMERIC(4, 2) DEFAULT '2' NOT NULL CONSTRAINT ck_campaigns_dial_ratio_range "
                       "CHECK (dial_ratio >= 1 AND dial_ratio <= 10)"),
        ("retry_rules", json_type),
        ("timezone", "VARCHAR(40) DEFAULT 'Asia/Shanghai' NOT NULL"),
        ("skip_holidays", "BOOLEAN DEFAULT '0' NOT NULL"),
        ("holiday_country", "VARCHAR(20) DEFAULT 'CN' NOT NULL"),
        ("ring_seconds", "INTEGER DEFAULT '30' NOT NULL CONSTRAINT ck_campaigns_ring_seconds_range "
                         "CHECK (ring_seconds >= 15 AND ring_seconds <= 120)"),
        ("amd_policy", f"VARCHAR(20) DEFAULT 'off' NOT NULL CONSTRAINT ck_campaigns_amd_policy_valid "
                       f"CHECK ({_in('amd_policy', AMD_POLICIES)})"),
        ("voice_file", "VARCHAR(255)"),
        ("abandon_message", "VARCHAR(255)"),
        ("blend_rule", f"VARCHAR(20) DEFAULT 'dedicated' NOT NULL CONSTRAINT ck_campaigns_blend_rule_valid "
                       f"CHECK ({_in('blend_rule', BLEND_RULES)})"),
        ("segment_id", "INTEGER"),  # its foreign key: see upgrade()
        ("pacing_version", "INTEGER DEFAULT '1' NOT NULL CONSTRAINT ck_campaigns_pacing_version_positive "
                           "CHECK (pacing_version >= 1)"),
        ("status_changed_at", stamp),
    ]


SEGMENT_FK = ("CONSTRAINT fk_campaigns_segment_id_customer_segments FOREIGN KEY(segment_id) "
              "REFERENCES customer_segments (id) ON DELETE SET NULL")


def _campaign_checks(statuses: Sequence[str], modes: Sequence[str]) -> None:
    unique = lambda values: tuple(dict.fromkeys(values))  # noqa: E731
    _replace_checks("campaigns", {"ck_campaigns_status_valid": _in("status", unique(statuses)),
                                  "ck_campaigns_mode_valid": _in("mode", unique(modes))})


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "customer_segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_segments")),
        sa.UniqueConstraint("name", name=op.f("uq_customer_segments_name")),
    )

    # campaigns: in place (see the module docstring)
    _campaign_checks(OLD_STATUSES + NEW_STATUSES, OLD_MODES + NEW_MODES)  # both, while rows move
    op.execute("UPDATE campaigns SET status = 'completed' WHERE status = 'finished'")
    _campaign_checks(NEW_STATUSES, NEW_MODES)
    for name, definition in _campaign_columns(dialect):
        op.execute(f"ALTER TABLE campaigns ADD COLUMN {name} {definition}")
    if dialect == "sqlite":  # a table constraint, so it is reflected (and later dropped) by name
        _sqlite_rewrite("campaigns", lambda sql: sql.rstrip().removesuffix(")").rstrip() + f", {SEGMENT_FK}\n)")
    else:
        op.execute(f"ALTER TABLE campaigns ADD {SEGMENT_FK}")

    op.add_column("campaign_contacts", sa.Column("timezone", sa.String(length=40), nullable=True))
    op.add_column("campaign_contacts", sa.Column("skip_reason", sa.String(length=40), nullable=True))
    op.execute("UPDATE campaign_contacts SET skip_reason = substr(coalesce(last_result, 'unknown'), 1, 40) "
               "WHERE status = 'skipped'")
    op.create_index(op.f("ix_campaign_contacts_campaign_id_number"), "campaign_contacts", ["campaign_id", "number"],
                    unique=False)

    op.create_table(
        "campaign_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("pacing_version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("caller_id", sa.String(length=20), nullable=True),
        sa.Column("call_uuid", sa.String(length=40), nullable=True),
        sa.Column("claimed_by", sa.String(length=40), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(length=20), nullable=True),
        sa.Column("hangup_cause", sa.String(length=40), nullable=True),
        sa.Column("amd_result", sa.String(length=20), nullable=True),
        sa.Column("message_left", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("wait_to_agent_seconds", sa.Float(), nullable=True),
        sa.Column("talk_seconds", sa.Float(), nullable=True),
        sa.CheckConstraint(_in("result", RESULTS), name=op.f("ck_campaign_attempts_result_valid")),
        sa.CheckConstraint(_in("mode", NEW_MODES), name=op.f("ck_campaign_attempts_mode_valid")),
        sa.CheckConstraint("ended_at IS NOT NULL OR result IS NULL",
                           name=op.f("ck_campaign_attempts_open_attempt_has_no_result")),
        sa.CheckConstraint("ended_at IS NULL OR result IS NOT NULL",
                           name=op.f("ck_campaign_attempts_closed_attempt_has_result")),
        sa.CheckConstraint("wait_to_agent_seconds IS NULL OR wait_to_agent_seconds >= 0",
                           name=op.f("ck_campaign_attempts_wait_not_negative")),
        sa.CheckConstraint("talk_seconds IS NULL OR talk_seconds >= 0",
                           name=op.f("ck_campaign_attempts_talk_not_negative")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_campaign_attempts_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["campaign_contacts.id"],
                                name=op.f("fk_campaign_attempts_contact_id_campaign_contacts"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_campaign_attempts_agent_id_agents"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_attempts")),
        sa.UniqueConstraint("call_uuid", name=op.f("uq_campaign_attempts_call_uuid")),
    )
    op.create_index(op.f("ix_campaign_attempts_campaign_id_started_at"), "campaign_attempts",
                    ["campaign_id", "started_at"], unique=False)
    op.create_index(op.f("ix_campaign_attempts_contact_id"), "campaign_attempts", ["contact_id"], unique=False)
    op.create_index(op.f("ix_campaign_attempts_claimed_by_ended_at"), "campaign_attempts",
                    ["claimed_by", "ended_at"], unique=False)
    op.create_index("uq_campaign_attempts_open_number", "campaign_attempts", ["number"], unique=True,
                    sqlite_where=sa.text("ended_at IS NULL"), postgresql_where=sa.text("ended_at IS NULL"))

    op.create_table(
        "campaign_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("valid_digits", sa.String(length=20), server_default="12345", nullable=False),
        sa.CheckConstraint("position >= 1", name=op.f("ck_campaign_questions_position_positive")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_campaign_questions_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_questions")),
        sa.UniqueConstraint("campaign_id", "key", name=op.f("uq_campaign_questions_campaign_id_key")),
        sa.UniqueConstraint("campaign_id", "position", name=op.f("uq_campaign_questions_campaign_id_position")),
    )
    op.create_table(
        "campaign_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=20), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["attempt_id"], ["campaign_attempts.id"],
                                name=op.f("fk_campaign_answers_attempt_id_campaign_attempts"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["campaign_contacts.id"],
                                name=op.f("fk_campaign_answers_contact_id_campaign_contacts"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["question_id"], ["campaign_questions.id"],
                                name=op.f("fk_campaign_answers_question_id_campaign_questions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_answers")),
        sa.UniqueConstraint("attempt_id", "question_id", name=op.f("uq_campaign_answers_attempt_id_question_id")),
    )
    op.create_index(op.f("ix_campaign_answers_question_id"), "campaign_answers", ["question_id"], unique=False)
    op.create_index(op.f("ix_campaign_answers_contact_id"), "campaign_answers", ["contact_id"], unique=False)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_table("campaign_answers")
    op.drop_table("campaign_questions")
    op.drop_index("uq_campaign_attempts_open_number", table_name="campaign_attempts")
    op.drop_table("campaign_attempts")

    op.drop_index(op.f("ix_campaign_contacts_campaign_id_number"), table_name="campaign_contacts")
    for column in ("skip_reason", "timezone"):
        if dialect == "sqlite":
            op.execute(f"ALTER TABLE campaign_contacts DROP COLUMN {column}")
        else:
            op.drop_column("campaign_contacts", column)

    _campaign_checks(OLD_STATUSES + NEW_STATUSES, OLD_MODES + NEW_MODES)
    op.execute("UPDATE campaigns SET status = 'draft' WHERE status = 'scheduled'")
    op.execute("UPDATE campaigns SET status = 'finished' WHERE status IN ('completed', 'stopped')")
    op.execute("UPDATE campaigns SET mode = 'progressive' WHERE mode = 'ratio'")
    if dialect == "sqlite":
        _sqlite_rewrite("campaigns", lambda sql: sql.replace(f", {SEGMENT_FK}", ""))
    else:
        op.drop_constraint(op.f("fk_campaigns_segment_id_customer_segments"), "campaigns", type_="foreignkey")
    for name, _definition in reversed(_campaign_columns(dialect)):
        op.execute(f"ALTER TABLE campaigns DROP COLUMN {name}")
    _campaign_checks(OLD_STATUSES, OLD_MODES)
    op.drop_table("customer_segments")
