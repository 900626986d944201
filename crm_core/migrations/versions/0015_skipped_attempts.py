"""Campaign attempts a preview agent skipped get their own result, ``skipped``.

Before this revision a skip was stored within the dialling results --
``failed`` (or ``blocked_dnc`` for "do not call") with the hang-up cause
``skipped:<reason>`` -- so campaign figures counted contacts nobody dialled
as dialled and failed. Upgrade moves those rows to ``skipped`` with the
bare reason as the cause (as ``blocked_*`` attempts carry theirs); downgrade
puts them back the old way. ``campaign_attempts`` is referenced by survey
answers and CDRs, so its CHECK is changed in place (no rebuild on SQLite).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from crm_core.migrations.checks import in_list, replace_checks

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_RESULTS = ("answered", "no_answer", "busy", "failed", "machine", "abandoned", "blocked_dnc", "blocked_hours")
NEW_RESULTS = OLD_RESULTS + ("skipped",)
CHECK = "ck_campaign_attempts_result_valid"


def upgrade() -> None:
    replace_checks("campaign_attempts", {CHECK: in_list("result", NEW_RESULTS)})
    op.execute("UPDATE campaign_attempts SET result = 'skipped', hangup_cause = substr(hangup_cause, 9) "
               "WHERE hangup_cause LIKE 'skipped:%' AND result IN ('failed', 'blocked_dnc')")


def downgrade() -> None:
    op.execute("UPDATE campaign_attempts SET "
               "result = CASE WHEN hangup_cause = 'do_not_call' THEN 'blocked_dnc' ELSE 'failed' END, "
               "hangup_cause = 'skipped:' || coalesce(hangup_cause, '') WHERE result = 'skipped'")
    replace_checks("campaign_attempts", {CHECK: in_list("result", OLD_RESULTS)})
