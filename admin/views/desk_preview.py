"""The preview desk: an agent on a preview campaign sees the next contact first, then dials or skips it.

The routes are part of the agent desk (:class:`admin.views.desk.DeskView`
mixes :class:`PreviewRoutes` in; permission ``act`` on ``desk``, so only an
agent acting on their own desk reaches them). The contact comes from the
engine's ``preview`` service, reached on the reactor thread through
:func:`admin.bridge.engine_bridge`::

    next(agent_id) -> Deferred[dict | None]      # attempt_id, campaign_id, campaign_name, contact_id,
                                                 # number, fields, customer_id (or None)
    dial(agent_id, attempt_id) -> Deferred[dict] # {"call_uuid": ...}
    skip(agent_id, attempt_id, reason) -> Deferred[None]

The service refuses with a ``CrmError`` (not found 404, bad input 400,
anything else 409) or an ``AcdError`` (409); without the engine every route
answers 503. The customer's history is the desk's own customer card
(:func:`admin.views.desk_data.customer_card`), read here on the WSGI thread.
"""

from __future__ import annotations

from typing import Any

from flask_admin import expose
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from acd.exceptions import AcdError
from admin.bridge import EngineUnavailable, engine_bridge
from admin.extensions import db
from admin.forms import IdField
from admin.i18n import gettext, lazy_gettext as _l
from admin.views.desk_data import customer_by_phone, customer_card
from admin.views.json_replies import crm_refused, form_refused, ok, refused
from crm_core.enums import CampaignMode, CampaignStatus
from crm_core.exceptions import CrmError, InvalidPhoneNumber
from crm_core.models import Agent, AgentQueue, Campaign, Customer

#: Why an agent skips a contact (the preview service records it as the contact's skip reason or retry).
SKIP_REASONS = ("wrong_number", "do_not_call", "later")
#: The keys of a contact the desk passes on from the service (anything else it returns is dropped).
CONTACT_KEYS = ("attempt_id", "campaign_id", "campaign_name", "contact_id", "number", "fields", "customer_id")
#: The engine service name the bridge looks up.
SERVICE = "preview"


class DialForm(FlaskForm):
    attempt_id = IdField(validators=[InputRequired(_l("No contact to dial: get the next contact first."))])


class SkipForm(FlaskForm):
    attempt_id = IdField(validators=[InputRequired(_l("No contact to skip: get the next contact first."))])
    reason = StringField(validators=[InputRequired(_l("Say why the contact is skipped.")), Length(max=40)])


def preview_campaigns(session: Session, agent: Agent) -> list[Campaign]:
    """Running or paused preview campaigns this agent works on: those without a queue, and those whose queue
    the agent belongs to."""
    queues = select(AgentQueue.queue_id).where(AgentQueue.agent_id == agent.id)
    return list(session.scalars(
        select(Campaign).where(Campaign.mode == CampaignMode.PREVIEW.value,
                               Campaign.status.in_((CampaignStatus.RUNNING.value, CampaignStatus.PAUSED.value)),
                               Campaign.queue_id.is_(None) | Campaign.queue_id.in_(queues))
        .order_by(Campaign.id)))


def contact_view(session: Session, raw: dict[str, Any]) -> dict[str, Any]:
    """The service's next contact with the customer's card (by the id it names, else by the number)."""
    contact = {key: raw.get(key) for key in CONTACT_KEYS}
    fields = contact.get("fields") or {}
    contact["fields"] = {str(k): "" if v is None else str(v) for k, v in dict(fields).items()}
    customer = None
    if contact["customer_id"] is not None:
        customer = session.get(Customer, int(contact["customer_id"]))
    if customer is None:
        try:
            customer = customer_by_phone(session, contact.get("number"))
        except InvalidPhoneNumber:
            customer = None
    contact["customer"] = customer_card(session, customer) if customer is not None else None
    return contact


class PreviewRoutes:
    """The desk's preview routes (mixed into ``DeskView``, which supplies ``acting_agent`` and ``expose``)."""

    PREVIEW_PERMISSIONS = {"preview_next": "act", "preview_dial": "act", "preview_skip": "act"}

    def _on_preview(self, method: str, *args: Any) -> tuple[Any, Any]:
        """``preview.<method>(*args)`` on the reactor thread: (result, None) or (None, the JSON refusal)."""
        try:
            bridge = engine_bridge()
            service = bridge.service(SERVICE)
        except EngineUnavailable as exc:
            return None, refused(gettext("The engine is not running here (%(reason)s): the preview desk needs "
                                         "it.", reason=str(exc)), 503, engine=False)
        db.session.commit()  # the service writes through the engine's pool while we wait
        try:
            return bridge.call(getattr(service, method), *args), None
        except CrmError as exc:
            return None, crm_refused(exc)
        except AcdError as exc:
            return None, refused(gettext("Refused: %(message)s", message=str(exc)), 409,
                                 error_id=getattr(exc, "error_id", "error"))

    @expose("/preview/next", methods=("POST",))
    def preview_next(self) -> Any:
        """Ask the engine for this agent's next contact (it is held for the agent until dialled or skipped)."""
        agent = self.acting_agent()  # type: ignore[attr-defined]
        raw, refusal = self._on_preview("next", agent.id)
        if refusal is not None:
            return refusal
        if raw is None:
            return ok(contact=None, message=gettext("No contact is due now."))
        return ok(contact=contact_view(db.session, raw))

    @expose("/preview/dial", methods=("POST",))
    def preview_dial(self) -> Any:
        agent = self.acting_agent()  # type: ignore[attr-defined]
        form = DialForm()
        if not form.validate():
            return form_refused(form)
        result, refusal = self._on_preview("dial", agent.id, form.attempt_id.data)
        if refusal is not None:
            return refusal
        return ok(call_uuid=(result or {}).get("call_uuid"), message=gettext("Dialling…"))

    @expose("/preview/skip", methods=("POST",))
    def preview_skip(self) -> Any:
        agent = self.acting_agent()  # type: ignore[attr-defined]
        form = SkipForm()
        if not form.validate():
            return form_refused(form)
        if form.reason.data not in SKIP_REASONS:
            return refused(gettext("Unknown skip reason %(reason)s: use one of %(reasons)s.",
                                   reason=form.reason.data, reasons=", ".join(SKIP_REASONS)), 400,
                           errors={"reason": [form.reason.data]})
        _result, refusal = self._on_preview("skip", agent.id, form.attempt_id.data, form.reason.data)
        if refusal is not None:
            return refusal
        return ok(message=gettext("Skipped."))



__all__ = ["SKIP_REASONS", "PreviewRoutes", "contact_view", "preview_campaigns"]
