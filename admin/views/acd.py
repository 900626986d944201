"""ACD administration: queues (strategy, service-level targets, required skills), skills, agents, and
the agents × skills matrix edited as one grid."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.model.form import InlineFormAdmin
from sqlalchemy import select
from wtforms import PasswordField
from wtforms.validators import NumberRange, Optional

from admin import audit
from admin.extensions import db
from admin.i18n import gettext, lazy_gettext as _l
from admin.views.base import SecureBaseView, SecureModelView
from admin.views.users import set_password
from crm_core.models import Agent, AgentSkill, QueueSkill, Skill

#: Routing strategies the ACD router implements (value, label).
STRATEGIES = [
    ("previous_agent", _l("Previous agent first")),
    ("skills", _l("Best skill level")),
    ("longest_idle", _l("Longest idle agent")),
    ("round_robin", _l("Round robin")),
    ("fewest_calls", _l("Fewest calls")),
    ("longest-idle-agent", _l("Longest idle agent (database default)")),
]

LEVELS = range(1, 11)


class QueueSkillInline(InlineFormAdmin):
    form_columns = ("skill", "min_level")
    form_label = _l("Required skill")
    form_args = {"min_level": {"validators": [NumberRange(1, 10)]}}


class QueueView(SecureModelView):
    column_list = ("name", "strategy", "sl_target_seconds", "sl_target_percent", "wrapup_seconds",
                   "max_wait_seconds", "overflow_target", "active")
    column_searchable_list = ("name",)
    column_filters = ("strategy", "active")
    column_sortable_list = ("name",)
    column_labels = {"wrapup_seconds": _l("Wrap-up seconds"), "max_wait_seconds": _l("Max wait (s)"),
                     "max_length": _l("Max callers"), "overflow_target": _l("Overflow to"),
                     "required_skills": _l("Required skills")}
    form_columns = ("name", "strategy", "sl_target_seconds", "sl_target_percent", "wrapup_seconds",
                    "max_wait_seconds", "max_length", "overflow_target", "active", "required_skills")
    form_choices = {"strategy": STRATEGIES}
    form_args = {
        "sl_target_seconds": {"validators": [NumberRange(min=1)]},
        "sl_target_percent": {"validators": [NumberRange(min=0.01, max=100)]},
        "wrapup_seconds": {"validators": [NumberRange(min=0)]},
        "max_wait_seconds": {"validators": [Optional(), NumberRange(min=1)]},
        "max_length": {"validators": [Optional(), NumberRange(min=1)]},
    }
    inline_models = (QueueSkillInline(QueueSkill),)


class SkillView(SecureModelView):
    column_list = ("name", "description")
    column_searchable_list = ("name",)
    column_sortable_list = ("name",)
    form_columns = ("name", "description")


class AgentView(SecureModelView):
    column_list = ("login", "name", "extension", "active", "created_at")
    column_details_exclude_list = ("password_hash",)
    column_export_exclude_list = ("password_hash",)
    column_searchable_list = ("login", "name", "extension")
    column_filters = ("active",)
    column_sortable_list = ("login", "name", "extension")
    form_columns = ("login", "name", "extension", "active", "password")
    form_extra_fields = {"password": PasswordField(_l("New password"), validators=[Optional()])}

    def prepare_model(self, form: Any, model: Agent, is_created: bool) -> None:
        set_password(form, model, is_created)


class SkillMatrixView(SecureBaseView):
    """Agents down, skills across, a level 1–10 (or blank: no such skill) in each cell."""

    method_permissions = {"index": "view", "save": "edit"}

    def _grid(self) -> tuple[list[Agent], list[Skill], dict[tuple[int, int], int]]:
        agents = list(db.session.scalars(select(Agent).order_by(Agent.login)))
        skills = list(db.session.scalars(select(Skill).order_by(Skill.name)))
        levels = {(a, s): lvl for a, s, lvl in db.session.execute(
            select(AgentSkill.agent_id, AgentSkill.skill_id, AgentSkill.level))}
        return agents, skills, levels

    @expose("/")
    def index(self) -> Any:
        agents, skills, levels = self._grid()
        return self.render("admin/skill_matrix.html", agents=agents, skills=skills, levels=levels, errors={},
                           can_edit=self.permitted("edit"))

    @expose("/", methods=("POST",))
    def save(self) -> Any:
        agents, skills, levels = self._grid()
        wanted: dict[tuple[int, int], int | None] = {}
        errors: dict[tuple[int, int], str] = {}
        for agent in agents:
            for skill in skills:
                raw = request.form.get(f"level-{agent.id}-{skill.id}", "").strip()
                if not raw:
                    wanted[(agent.id, skill.id)] = None
                elif raw.isdigit() and int(raw) in LEVELS:
                    wanted[(agent.id, skill.id)] = int(raw)
                else:
                    errors[(agent.id, skill.id)] = gettext("A level is a whole number from 1 to 10.")
        if errors:
            flash(gettext("Nothing saved: fix the marked cells."), "error")
            submitted = {k: request.form.get(f"level-{k[0]}-{k[1]}", "") for k in wanted | errors}
            return self.render("admin/skill_matrix.html", agents=agents, skills=skills, levels=submitted,
                               errors=errors, can_edit=True), 400
        changed = 0
        for (agent_id, skill_id), level in wanted.items():
            before = levels.get((agent_id, skill_id))
            if before == level:
                continue
            row = db.session.get(AgentSkill, (agent_id, skill_id))
            if level is None:
                db.session.delete(row)
            elif row is None:
                db.session.add(AgentSkill(agent_id=agent_id, skill_id=skill_id, level=level))
            else:
                row.level = level
            audit.record("skill-level", AgentSkill.__tablename__, f"{agent_id}/{skill_id}", {"level": [before, level]})
            changed += 1
        db.session.commit()
        flash(gettext("Saved %(n)s change(s).", n=changed), "success")
        return redirect(url_for(".index"))
