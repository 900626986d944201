"""Outbound campaigns (admins, campaign managers): campaigns, their attempts, saved customer segments.

Every change goes through crm_core's campaign services: creating and editing
a campaign (``create_campaign`` / ``update_campaign``: validated, pacing edits
allowed while it runs and versioned), and its status, which is never in a
form -- the "change status" page offers the moves ``CAMPAIGN_TRANSITIONS``
allows and calls ``change_campaign_status``. The services write the audit
entries. Attempts are read-only, with a plain CSV export. Contacts, their
import and the do-not-call list are in ``admin.views.campaign_contacts``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.model.template import EndpointLinkRowAction
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from admin.extensions import db
from admin.forms import enum_choices, make_datetimes_aware
from admin.i18n import gettext, lazy_gettext as _l
from admin.views.base import SecureModelView
from admin.views.campaign_contacts import CampaignContactView, DoNotCallView, committed
from admin.views.formatting import badge, fmt_datetime
from crm_core.enums import CAMPAIGN_TRANSITIONS, AmdPolicy, BlendRule, CampaignMode, CampaignStatus
from crm_core.exceptions import InvalidInput
from crm_core.models import Campaign, CampaignAttempt, IvrMenu
from crm_core.services.campaigns import Actor, change_campaign_status, create_campaign, update_campaign
from crm_core.services.segments import validate_segment

__all__ = ["CampaignAttemptView", "CampaignContactView", "CampaignView", "DoNotCallView", "SegmentView",
           "next_statuses"]

STATUS_BADGES = {"draft": "secondary", "scheduled": "info", "running": "success", "paused": "warning",
                 "completed": "dark", "stopped": "danger"}


def next_statuses(status: str) -> list[str]:
    """The statuses a campaign in ``status`` may move to, in life-cycle order."""
    order = list(CampaignStatus)
    return sorted((t.value for f, t in CAMPAIGN_TRANSITIONS if f.value == status), key=lambda v: order.index(v))


def actor() -> Actor:
    """The logged-in person, for the services' audit entries."""
    return Actor(current_user.username, current_user.id, (request.remote_addr or "")[:45] or None)


def _status(_view: Any, _ctx: Any, model: Campaign, _name: str) -> Any:
    return badge(gettext(model.status), STATUS_BADGES.get(model.status, "secondary"), f"status-{model.status}")


def _json_object(_form: Any, field: Any) -> None:
    if field.data and field.data.strip():
        try:
            value = json.loads(field.data)
        except ValueError as exc:
            raise ValidationError(gettext("Not valid JSON: %(error)s", error=str(exc))) from None
        if not isinstance(value, dict):
            raise ValidationError(gettext("Expected a JSON object."))


class StatusForm(FlaskForm):
    # validate_choice=False: the service, not the form, is the judge of a move (its error is shown).
    to_status = SelectField(_l("New status"), validate_choice=False)
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])


class CampaignView(SecureModelView):
    column_list = ("name", "mode", "status", "caller_id", "calling_hours_start", "calling_hours_end",
                   "abandon_cap_percent", "pacing_version", "starts_at", "ends_at", "created_by")
    column_formatters = {"status": _status, "starts_at": fmt_datetime, "ends_at": fmt_datetime}
    column_formatters_export = {"status": lambda v, c, m, n: m.status}
    column_searchable_list = ("name",)
    column_filters = ("mode", "status")
    column_sortable_list = ("name", "status", "starts_at")
    column_default_sort = ("id", True)
    form_columns = ("name", "mode", "queue_id", "caller_id", "ivr_script", "voice_file", "abandon_message",
                    "calling_hours_start", "calling_hours_end", "timezone", "skip_holidays", "holiday_country",
                    "max_attempts", "retry_minutes", "ring_seconds", "dial_ratio", "abandon_cap_percent",
                    "amd_policy", "blend_rule", "retry_rules_json", "segment", "starts_at", "ends_at")
    form_extra_fields = {"retry_rules_json": TextAreaField(
        _l("Retry rules (JSON)"), validators=[Optional(), _json_object],
        description=_l('Per disposition, e.g. {"busy": {"retry_minutes": 10, "max_attempts": 5}}'))}
    form_choices = {"mode": enum_choices(CampaignMode), "amd_policy": enum_choices(AmdPolicy),
                    "blend_rule": enum_choices(BlendRule)}
    # the script is chosen among the campaign menus (the IVR editor's menus with purpose "campaign")
    form_overrides = {"ivr_script": SelectField}
    form_args = {"ivr_script": {"choices": [], "validate_choice": True,
                                "description": _l("A menu with the purpose 'campaign script' (IVR editor); "
                                                  "empty: the voice file is played")}}
    column_labels = {"queue_id": _l("Queue id"), "ivr_script": _l("IVR script"), "caller_id": _l("Caller ID"),
                     "calling_hours_start": _l("Calling hours from"), "calling_hours_end": _l("Calling hours to"),
                     "max_attempts": _l("Max attempts"), "retry_minutes": _l("Retry after (minutes)"),
                     "abandon_cap_percent": _l("Abandon cap %"), "dial_ratio": _l("Calls per free agent (ratio)"),
                     "ring_seconds": _l("Ring time (s)"), "amd_policy": _l("Answering machines"),
                     "voice_file": _l("Voice file"), "abandon_message": _l("Identification message"),
                     "blend_rule": _l("Blend rule"), "skip_holidays": _l("No calls on public holidays"),
                     "holiday_country": _l("Holiday calendar"), "timezone": _l("Contacts' time zone"),
                     "pacing_version": _l("Pacing version"), "segment": _l("Customer segment")}
    details_template = "admin/order_details.html"  # its "Change status" button opens this view's status page
    column_extra_row_actions = [EndpointLinkRowAction("fa fa-exchange-alt", ".status_view", title=_l("Change status")),
                                EndpointLinkRowAction("fa fa-tachometer-alt", "campaign_console.console",
                                                      id_arg="campaign_id", title=_l("Campaign console"))]
    method_permissions = {"status_view": "status"}

    def create_form(self, obj: Any = None) -> Any:
        return self._with_script_choices(super().create_form(obj), None)

    def edit_form(self, obj: Any = None) -> Any:
        return self._with_script_choices(super().edit_form(obj), getattr(obj, "ivr_script", None))

    @staticmethod
    def _with_script_choices(form: Any, current: str | None) -> Any:
        """The campaign menus to choose from (and the current script, even if it is no longer one: the service
        says why when the form is saved)."""
        names = list(db.session.scalars(select(IvrMenu.name).where(IvrMenu.purpose == "campaign")
                                        .order_by(IvrMenu.name)))
        if current and current not in names:
            names.append(current)
        form.ivr_script.choices = [("", gettext("(none: play the voice file)"))] + [(n, n) for n in names]
        return form

    def on_form_prefill(self, form: Any, id: Any) -> None:
        model = self.get_one(id)
        if model is not None and model.retry_rules:
            form.retry_rules_json.data = json.dumps(model.retry_rules, ensure_ascii=False)

    def _changes(self, form: Any) -> dict[str, Any]:
        """The form's values as service arguments (naive datetimes are UTC: the admin UI works in UTC)."""
        values = {name: form[name].data for name in self.form_columns if name in form and name != "retry_rules_json"}
        for name, value in values.items():
            if isinstance(value, dt.datetime) and value.tzinfo is None:
                values[name] = value.replace(tzinfo=dt.timezone.utc)
        if "ivr_script" in values:
            values["ivr_script"] = values["ivr_script"] or None  # the empty choice: no script
        segment = values.pop("segment", None)
        values["segment_id"] = segment.id if segment is not None else None
        text = (form.retry_rules_json.data or "").strip()
        values["retry_rules"] = json.loads(text) if text else None
        return values

    def create_model(self, form: Any) -> Any:
        def create() -> Campaign:
            values = self._changes(form)
            return create_campaign(db.session, values.pop("name"), actor=actor(), **values)

        campaign = committed(create)
        if campaign is None:
            return False
        self.after_model_change(form, campaign, True)
        return campaign

    def update_model(self, form: Any, model: Campaign) -> bool:
        if committed(lambda: update_campaign(db.session, model.id, self._changes(form), actor=actor())) is None:
            return False
        self.after_model_change(form, model, False)
        return True

    def delete_model(self, model: Campaign) -> bool:
        has_attempts = db.session.scalar(select(CampaignAttempt.id).where(CampaignAttempt.campaign_id == model.id)
                                         .limit(1)) is not None
        if model.status != CampaignStatus.DRAFT.value or has_attempts:
            flash(gettext("Refused: %(message)s", message=gettext(
                "only a draft campaign that never dialled can be deleted; stop it instead")), "error")
            return False
        return super().delete_model(model)

    @expose("/status/<int:id>", methods=("GET", "POST"))
    def status_view(self, id: int) -> Any:
        campaign = self.get_one(str(id))
        if campaign is None:
            return redirect(url_for(".index_view"))
        form = StatusForm()
        form.to_status.choices = [(s, gettext(s)) for s in next_statuses(campaign.status)]
        back = url_for(".details_view", id=id)
        if form.validate_on_submit():
            target = form.to_status.data
            change = committed(lambda: change_campaign_status(db.session, campaign.id, target, actor=actor(),
                                                              reason=form.reason.data or None))
            if change is not None:
                flash(gettext("Campaign %(name)s is now %(status)s.", name=campaign.name, status=gettext(target)),
                      "success")
                if change.contacts_added:
                    flash(gettext("Segment evaluated: %(counts)s", counts=", ".join(
                        f"{k} {v}" for k, v in change.contacts_added.items())), "info")
                return redirect(back)
        title = gettext("Change the status of campaign %(name)s (now: %(status)s)", name=campaign.name,
                        status=gettext(campaign.status))
        return self.render("admin/service_form.html", form=form, return_url=back, title=title), \
            (400 if request.method == "POST" else 200)


class CampaignAttemptView(SecureModelView):
    """Every dial attempt, read-only; the CSV export is the attempt log of a campaign."""

    column_list = ("campaign", "number", "mode", "started_at", "result", "hangup_cause", "amd_result",
                   "agent_id", "wait_to_agent_seconds", "talk_seconds", "call_uuid")
    column_export_list = ("id", "campaign", "contact_id", "number", "mode", "pacing_version", "caller_id",
                          "started_at", "answered_at", "connected_at", "ended_at", "result", "hangup_cause",
                          "amd_result", "message_left", "agent_id", "wait_to_agent_seconds", "talk_seconds",
                          "call_uuid")
    column_formatters = {"campaign": lambda v, c, m, n: m.campaign.name, "started_at": fmt_datetime}
    column_formatters_export = {"campaign": lambda v, c, m, n: m.campaign.name}
    column_filters = ("campaign_id", "result", "mode", "number")
    column_searchable_list = ("number", "call_uuid")
    column_sortable_list = ("started_at", "result")
    column_default_sort = ("id", True)
    export_types = ["csv"]
    column_labels = {"wait_to_agent_seconds": _l("Wait to agent (s)"), "talk_seconds": _l("Talk (s)"),
                     "amd_result": _l("Machine detection"), "call_uuid": _l("Call (CDR) uuid")}

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return False

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return False

    @property
    def can_delete(self) -> bool:  # type: ignore[override]
        return False

    def get_query(self) -> Any:
        from sqlalchemy.orm import joinedload

        return super().get_query().options(joinedload(CampaignAttempt.campaign))


class SegmentView(SecureModelView):
    """Saved customer segments: a name and a JSON definition, checked by crm_core before it is stored."""

    column_list = ("name", "description", "created_by", "updated_at")
    column_formatters = {"updated_at": fmt_datetime}
    column_searchable_list = ("name",)
    form_columns = ("name", "description", "definition")
    column_labels = {"definition": _l("Definition (JSON)")}

    def prepare_model(self, form: Any, model: Any, is_created: bool) -> None:
        definition = model.definition
        if isinstance(definition, str):
            try:
                definition = json.loads(definition)
            except ValueError:
                raise InvalidInput("segment: the definition is not valid JSON", field="definition") from None
        model.definition = validate_segment(definition)
        if is_created and not model.created_by:
            model.created_by = current_user.username
        make_datetimes_aware(model)
