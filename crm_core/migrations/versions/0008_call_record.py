"""The contact-center record in its own columns: the whole call on the CDR, real not_ready rows, queue
membership in ``agent_queues``, callback claims in ``callback_requests.agent_id``.

* ``call_detail_records`` gains what the call recorder writes beside the ACD's
  columns: the media plan the DNIS belongs to (``media_plan_id``), how
  self-service ended (``ivr_outcome``) and from which menu node
  (``ivr_exit_node``), who hung up (``hangup_side``) and what the call created
  (``links``: orders, complaints, callbacks, voicemails, recordings, legs),
  with an index for reports by media plan and one for restart recovery's
  scan of rows never closed.
* ``agent_state_log``: its CHECK has allowed ``not_ready`` since 0003, but rows
  written before that (and by the ACD's old store) are ``break`` with the
  reason ``not_ready:<code>``; they become ``not_ready`` with ``<code>``. The
  queue list the old store appended to every reason (``|queues=a,b``) is
  taken out of the reasons; each agent's latest list becomes its
  ``agent_queues`` membership (logged in unless the agent's latest state is
  ``logged_out``).
* ``callback_requests``: an agent's claim was a ``claimed_by=<id>`` line in
  ``note``; it goes into ``agent_id`` (the note keeps its history).

Downgrade drops the new columns and gives the old store what it reads: each
agent's logged-in queues appended to its latest state row's reason, and a
``claimed_by=<id>`` line for open requests an agent holds. ``not_ready`` rows
stay (the 0007 schema allows them).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
CDR = "call_detail_records"
IVR_OUTCOMES = ("contained", "to_agent", "abandoned", "hung_up")
HANGUP_SIDES = ("caller", "agent", "system")
QUEUES_TAG = "|queues="
NOT_READY_PREFIX = "not_ready:"
CLAIM = "claimed_by="
OPEN_CALLBACKS = ("pending", "scheduled", "in_progress")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table(CDR) as batch:
        batch.add_column(sa.Column("media_plan_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("ivr_outcome", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("ivr_exit_node", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("hangup_side", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("links", JSON, nullable=True))
        batch.create_foreign_key(op.f("fk_call_detail_records_media_plan_id_media_plans"), "media_plans",
                                 ["media_plan_id"], ["id"], ondelete="SET NULL")
        batch.create_check_constraint(op.f("ck_call_detail_records_ivr_outcome_valid"),
                                      _in("ivr_outcome", IVR_OUTCOMES))
        batch.create_check_constraint(op.f("ck_call_detail_records_hangup_side_valid"),
                                      _in("hangup_side", HANGUP_SIDES))
    op.create_index(op.f("ix_call_detail_records_media_plan_id_entered_at"), CDR, ["media_plan_id", "entered_at"])
    op.create_index(op.f("ix_call_detail_records_open"), CDR, ["ended_at", "entered_at"])
    bind = op.get_bind()
    _memberships_from_reasons(bind)
    _strip_queue_lists(bind)
    bind.execute(sa.text(
        "UPDATE agent_state_log SET state = 'not_ready', "
        "reason = CASE WHEN length(reason) > :n THEN substr(reason, :n + 1) ELSE NULL END "
        "WHERE state = 'break' AND reason LIKE :prefix"), {"n": len(NOT_READY_PREFIX), "prefix": NOT_READY_PREFIX + "%"})
    _claims_to_agent_id(bind)


def _split(reason: str) -> tuple[str | None, list[str]]:
    head, _, tail = reason.rpartition(QUEUES_TAG)
    return (head.rstrip(" ") or None), [q for q in tail.split(",") if q]


def _memberships_from_reasons(bind: sa.Connection) -> None:
    latest = bind.execute(sa.text(
        "SELECT l.agent_id, l.state, l.reason FROM agent_state_log l "
        "JOIN (SELECT agent_id, max(id) AS id FROM agent_state_log GROUP BY agent_id) m ON m.id = l.id")).all()
    queues = dict(bind.execute(sa.text("SELECT name, id FROM queues")).all())
    for agent_id, state, reason in latest:
        if not reason or QUEUES_TAG not in reason:
            continue
        logged_in = state != "logged_out"
        for name in _split(reason)[1]:
            queue_id = queues.get(name)
            if queue_id is None:
                continue
            exists = bind.execute(sa.text("SELECT id FROM agent_queues WHERE agent_id = :a AND queue_id = :q"),
                                  {"a": agent_id, "q": queue_id}).first()
            if exists is None:
                bind.execute(sa.text("INSERT INTO agent_queues (agent_id, queue_id, penalty, logged_in) "
                                     "VALUES (:a, :q, 0, :li)"), {"a": agent_id, "q": queue_id, "li": logged_in})
            else:
                bind.execute(sa.text("UPDATE agent_queues SET logged_in = :li WHERE id = :id"),
                             {"li": logged_in, "id": exists[0]})


def _strip_queue_lists(bind: sa.Connection) -> None:
    rows = bind.execute(sa.text("SELECT id, reason FROM agent_state_log WHERE reason LIKE :tag"),
                        {"tag": "%" + QUEUES_TAG + "%"}).all()
    updates = [{"id": row_id, "reason": _split(reason)[0]} for row_id, reason in rows]
    if updates:
        bind.execute(sa.text("UPDATE agent_state_log SET reason = :reason WHERE id = :id"), updates)


def _claims_to_agent_id(bind: sa.Connection) -> None:
    agents = {row[0] for row in bind.execute(sa.text("SELECT id FROM agents")).all()}
    rows = bind.execute(sa.text("SELECT id, note FROM callback_requests WHERE agent_id IS NULL AND note LIKE :c"),
                        {"c": "%" + CLAIM + "%"}).all()
    for request_id, note in rows:
        claimant = None
        for line in reversed((note or "").splitlines()):
            if line.startswith(CLAIM) and line[len(CLAIM):].isdigit():
                claimant = int(line[len(CLAIM):])
                break
        if claimant in agents:
            bind.execute(sa.text("UPDATE callback_requests SET agent_id = :a WHERE id = :id"),
                         {"a": claimant, "id": request_id})


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, agent_id, note FROM callback_requests WHERE agent_id IS NOT NULL AND "
        + _in("status", OPEN_CALLBACKS))).all()
    for request_id, agent_id, note in rows:
        line = f"{CLAIM}{agent_id}"
        bind.execute(sa.text("UPDATE callback_requests SET note = :note WHERE id = :id"),
                     {"note": f"{note}\n{line}" if note else line, "id": request_id})
    members = bind.execute(sa.text(
        "SELECT aq.agent_id, q.name FROM agent_queues aq JOIN queues q ON q.id = aq.queue_id "
        "WHERE aq.logged_in ORDER BY aq.agent_id, q.name")).all()
    by_agent: dict[int, list[str]] = {}
    for agent_id, name in members:
        by_agent.setdefault(agent_id, []).append(name)
    for agent_id, names in by_agent.items():
        latest = bind.execute(sa.text("SELECT id, reason FROM agent_state_log WHERE agent_id = :a "
                                      "ORDER BY id DESC LIMIT 1"), {"a": agent_id}).first()
        if latest is not None:
            tail = QUEUES_TAG + ",".join(names)
            reason = f"{latest[1]} {tail}" if latest[1] else tail
            bind.execute(sa.text("UPDATE agent_state_log SET reason = :r WHERE id = :id"),
                         {"r": reason[:255], "id": latest[0]})
    op.drop_index(op.f("ix_call_detail_records_open"), table_name=CDR)
    op.drop_index(op.f("ix_call_detail_records_media_plan_id_entered_at"), table_name=CDR)
    with op.batch_alter_table(CDR) as batch:
        batch.drop_constraint(op.f("ck_call_detail_records_hangup_side_valid"), type_="check")
        batch.drop_constraint(op.f("ck_call_detail_records_ivr_outcome_valid"), type_="check")
        batch.drop_constraint(op.f("fk_call_detail_records_media_plan_id_media_plans"), type_="foreignkey")
        batch.drop_column("links")
        batch.drop_column("hangup_side")
        batch.drop_column("ivr_exit_node")
        batch.drop_column("ivr_outcome")
        batch.drop_column("media_plan_id")
