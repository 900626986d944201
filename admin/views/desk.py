"""The agent desk: state, screen pop, orders, complaints, knowledge, questions, callbacks, wrap-up, transfers.

One page per agent (``/admin/desk/``; supervisors pick an agent and see that
desk read-only at ``/admin/desk/agent/<id>``). The page talks to the JSON
endpoints below with ``fetch`` (Flask-WTF's CSRF token in the form data or
the ``X-CSRFToken`` header) and listens to the server-sent event topic
``desk:<agent_id>`` (:mod:`hotline.desk_events`: screen pops, state changes).

* agent state (login / logout / ready / not ready with a reason / break),
  transfers, supervision and callback claims go to the ACD on the reactor
  thread through :func:`admin.bridge.engine_bridge` (503 when the admin app
  runs without the engine);
* orders, complaints, knowledge, blacklist marks and wrap-up codes go to
  crm_core's services on this WSGI thread: a desk order is
  ``crm_core.services.place_order``, the same code as a phone order.

Who is who: :func:`admin.views.desk_data.agent_for_user`.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, g, request, url_for
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, FieldList, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from acd.exceptions import AcdError
from admin import audit
from admin.auth import stream_token
from admin.bridge import EngineUnavailable, engine_bridge
from admin.extensions import db
from admin.forms import IdField
from admin.i18n import gettext, lazy_gettext as _l
from admin.params import id_arg, int_arg
from admin.labels import CODE_LABELS, code_label
from admin.views.base import SecureBaseView, blacklist_threshold
from admin.views.desk_acd import agent_view, change_state, claim, complete, supervise, transfer
from admin.views.desk_data import (
    DISPOSITIONS,
    NOT_READY_REASONS,
    agent_for_user,
    customer_by_phone,
    customer_card,
    order_view,
)
from crm_core.enums import (
    AgentState,
    CallbackStatus,
    Channel,
    ComplaintCategory,
    DeliveryMethod,
    Direction,
    OrderStatus,
    PaymentMethod,
)
from crm_core.exceptions import CrmError, NotFound
from crm_core.models import Agent, CallbackRequest, CallDetailRecord, Customer, Interaction, KnowledgeArticle, Order
from crm_core.services import (
    change_order_status,
    file_complaint,
    log_interaction,
    mark_blacklist,
    order_by_number,
    place_order,
    search_knowledge,
)
from admin.views.desk_messages import DeskMessageForm, send_desk_message
from admin.views.desk_preview import SKIP_REASONS, PreviewRoutes, preview_campaigns
from admin.views.json_replies import crm_refused, form_refused, ok, refused
from crm_core.services.notifications import notify_order, notify_status_change
from crm_core.services.calls import link_call, set_disposition
from crm_core.services.order_numbers import is_valid_order_number
from crm_core.services.orders import OrderLine

log = logging.getLogger(__name__)

SUPERVISORS_TOPIC = "desk:supervisors"
ALL_AGENTS_TOPIC = "desk:all"
#: What an "ask a supervisor" message is in the interactions table (channel im, direction internal).
QUESTION_KIND = "ask_supervisor"
MAX_LINES = 10
SUPERVISION_MODES = ("listen", "whisper", "barge")
TRANSFER_ACTIONS = ("blind", "consult", "consult_complete", "consult_cancel")
STATE_ACTIONS = ("login", "logout", "ready", "not_ready", "break")


def desk_topic(agent_id: int) -> str:
    return f"desk:{agent_id}"


# -- forms (CSRF is checked by CSRFProtect before any view runs, and again by FlaskForm) ----------------

class StateForm(FlaskForm):
    action = SelectField(choices=[(a, a) for a in STATE_ACTIONS], validators=[DataRequired()])
    reason = StringField(validators=[Optional(), Length(max=40)])
    queues = StringField(validators=[Optional(), Length(max=400)])


class OrderForm(FlaskForm):
    customer_id = IdField(validators=[InputRequired(_l("Pick the customer first."))])
    code = FieldList(StringField(validators=[Optional(), Length(max=40)]), min_entries=1, max_entries=MAX_LINES)
    quantity = FieldList(StringField(validators=[Optional()]), min_entries=1, max_entries=MAX_LINES)
    delivery_method = SelectField(choices=[(m.value, m.value) for m in DeliveryMethod], default="courier")
    payment_method = SelectField(choices=[(m.value, m.value) for m in PaymentMethod], default="cod")
    ship_to_address = StringField(validators=[Optional(), Length(max=300)])
    special_requests = StringField(validators=[Optional(), Length(max=300)])
    call_uuid = StringField(validators=[Optional(), Length(max=40)])
    media_source = StringField(validators=[Optional(), Length(max=40)])


class OrderStatusForm(FlaskForm):
    number = StringField(validators=[DataRequired(), Length(max=20)])
    to_status = SelectField(choices=[(s.value, s.value) for s in OrderStatus], validators=[DataRequired()])
    reason = StringField(validators=[Optional(), Length(max=200)])
    courier = StringField(validators=[Optional(), Length(max=40)])
    waybill = StringField(validators=[Optional(), Length(max=40)])


class ComplaintForm(FlaskForm):
    customer_id = IdField(validators=[Optional()])
    call_uuid = StringField(validators=[Optional(), Length(max=40)])
    order_number = StringField(validators=[Optional(), Length(max=20)])
    category = SelectField(choices=[(c.value, c.value) for c in ComplaintCategory], validators=[DataRequired()])
    description = TextAreaField(validators=[DataRequired(_l("Describe the complaint.")), Length(max=4000)])


class AskForm(FlaskForm):
    question = TextAreaField(validators=[DataRequired(_l("Write the question.")), Length(max=2000)])
    customer_id = IdField(validators=[Optional()])
    call_uuid = StringField(validators=[Optional(), Length(max=40)])


class CallbackForm(FlaskForm):
    request_id = IdField(validators=[InputRequired()])
    success = BooleanField(default=True)
    note = StringField(validators=[Optional(), Length(max=300)])


class BlacklistForm(FlaskForm):
    customer_id = IdField(validators=[InputRequired()])
    reason = StringField(validators=[DataRequired(_l("Give the reason for the mark.")), Length(max=300)])


class WrapUpForm(FlaskForm):
    call_uuid = StringField(validators=[DataRequired(_l("No call to wrap up.")), Length(max=40)])
    disposition = SelectField(choices=[(d, d) for d in DISPOSITIONS], validators=[DataRequired()])
    note = StringField(validators=[Optional(), Length(max=300)])
    ready = BooleanField(default=False)


class TransferForm(FlaskForm):
    action = SelectField(choices=[(a, a) for a in TRANSFER_ACTIONS], validators=[DataRequired()])
    target = StringField(validators=[Optional(), Length(max=60)])


class SuperviseForm(FlaskForm):
    agent_id = IdField(validators=[InputRequired()])
    mode = SelectField(choices=[(m, m) for m in SUPERVISION_MODES], validators=[DataRequired()])
    extension = StringField(validators=[DataRequired(_l("Your phone extension.")), Length(max=20)])


# -- helpers --------------------------------------------------------------------------------------------

def acd_service() -> Any:
    """The running engine's ACD (EngineUnavailable when the app runs on its own).

    Ends this request's database transaction first: the ACD writes through its own pool while we wait,
    and on SQLite an open transaction here would hold the write lock it needs.
    """
    bridge = engine_bridge()
    db.session.commit()
    return bridge, bridge.service("acd").acd


def on_acd(fn: Any, *args: Any) -> tuple[Any, Any]:
    """``fn(acd, *args)`` on the reactor thread: (result, None), or (None, the JSON refusal to return).

    The engine being away is a 503, a typed ACD refusal a 409 with its error id;
    any other exception is a bug and surfaces as a logged 500.
    """
    try:
        bridge, acd = acd_service()
        return bridge.call(fn, acd, *args), None
    except EngineUnavailable as exc:
        return None, engine_down(exc)
    except AcdError as exc:
        return None, refused(gettext("Refused: %(message)s", message=str(exc)), 409,
                             error_id=getattr(exc, "error_id", "error"))


def engine_down(exc: Exception) -> Any:
    return refused(gettext("The engine is not running here (%(reason)s): agent state, transfers and callbacks "
                           "need it.", reason=str(exc)), 503, engine=False)


def publish(topic: str, event: str, data: dict[str, Any]) -> None:
    """Best effort push to the desk streams (only inside the engine)."""
    try:
        hub = engine_bridge().hub
    except EngineUnavailable:
        return
    if hub is not None:
        hub.publish(topic, event, data)


def question_view(row: Interaction) -> dict[str, Any]:
    detail = row.detail_dict()
    return {"id": row.id, "agent_id": row.agent_id, "agent": detail.get("agent"), "customer_id": row.customer_id,
            "call_uuid": row.call_uuid, "question": detail.get("question") or row.summary,
            "status": detail.get("status", "open"), "answer": detail.get("answer"),
            "answered_by": detail.get("answered_by"), "kb_article_id": detail.get("kb_article_id"),
            "asked_at": row.occurred_at.isoformat() if row.occurred_at else None}


def questions(agent_id: int | None = None, open_only: bool = False, limit: int = 100) -> list[Interaction]:
    """Recent "ask a supervisor" messages (channel im, direction internal, detail kind ask_supervisor)."""
    stmt = select(Interaction).where(Interaction.channel == Channel.IM.value,
                                     Interaction.direction == Direction.INTERNAL.value)
    if agent_id is not None:
        stmt = stmt.where(Interaction.agent_id == agent_id)
    rows = [r for r in db.session.scalars(stmt.order_by(Interaction.id.desc()).limit(limit * 3))
            if r.detail_dict().get("kind") == QUESTION_KIND]
    if open_only:
        rows = [r for r in rows if r.detail_dict().get("status", "open") == "open"]
    return rows[:limit]


class DeskView(PreviewRoutes, SecureBaseView):
    """The agent desk (role agent) and the supervisors' read-only view of any agent's desk; agents on a preview
    campaign also get its "next contact" panel (:mod:`admin.views.desk_preview`)."""

    method_permissions = {
        "index": "view", "agent_desk": "view", "status": "view", "customer": "view", "lookup": "view",
        "knowledge": "view", "article": "view", "callbacks": "view", "my_questions": "view",
        "state": "act", "order": "act", "order_status": "act", "complaint": "act", "ask": "act",
        "callback_claim": "act", "callback_complete": "act", "blacklist": "act", "wrapup": "act",
        "transfer": "act", "supervise": "supervise", "message": "act", **PreviewRoutes.PREVIEW_PERMISSIONS,
    }

    # -- who ----------------------------------------------------------------------------------

    def my_agent(self) -> Agent | None:
        """The agent row behind the logged-in user (None when not linked)."""
        if "desk_agent" not in g:
            g.desk_agent = agent_for_user(db.session, current_user.agent_id, current_user.username)
        return g.desk_agent

    def acting_agent(self) -> Agent:
        """The agent whose desk a POST acts on: always the user's own (403 when the user is no agent)."""
        agent = self.my_agent()
        if agent is None:
            abort(403)
        return agent

    def viewed_agent(self, agent_id: int | None) -> Agent:
        """The agent a GET is about: own desk for agents (another agent's -> 403); any agent for supervisors."""
        own = self.my_agent()
        if agent_id is None:
            if own is None:
                abort(404)
            return own
        if not self.permitted("supervise") and (own is None or own.id != agent_id):
            abort(403)
        agent = db.session.get(Agent, agent_id)
        if agent is None:
            abort(404)
        return agent

    # -- pages ----------------------------------------------------------------------------------

    @expose("/")
    def index(self) -> Any:
        own = self.my_agent()
        if self.permitted("act") and own is not None:
            return self._render_desk(own, readonly=False)
        if self.permitted("supervise"):
            agents = list(db.session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.login)))
            states: dict[int, dict[str, Any]] = {}
            try:
                bridge, acd = acd_service()
                states = bridge.call(lambda: {a.id: a.view() for a in acd.board.all()})
            except EngineUnavailable:
                pass
            token = stream_token([ALL_AGENTS_TOPIC, SUPERVISORS_TOPIC])
            return self.render("desk/agents.html", agents=agents, states=states, token=token,
                               state_labels={s.value: code_label(s.value) for s in AgentState})
        return self.render("desk/unlinked.html"), 200

    @expose("/agent/<int:agent_id>")
    def agent_desk(self, agent_id: int) -> Any:
        agent = self.viewed_agent(agent_id)
        own = self.my_agent()
        return self._render_desk(agent, readonly=not (own is not None and own.id == agent.id and
                                                      self.permitted("act")))

    def _render_desk(self, agent: Agent, readonly: bool) -> Any:
        topics = [desk_topic(agent.id)]
        if self.permitted("supervise"):
            topics.append(SUPERVISORS_TOPIC)
        token = stream_token(topics)
        return self.render("desk/desk.html", agent=agent, readonly=readonly, token=token, topics=topics,
                           reasons=NOT_READY_REASONS, dispositions=DISPOSITIONS,
                           categories=[c.value for c in ComplaintCategory],
                           deliveries=[m.value for m in DeliveryMethod], payments=[m.value for m in PaymentMethod],
                           can_supervise=self.permitted("supervise"), supervision_modes=SUPERVISION_MODES,
                           code_labels={code: str(label) for code, label in CODE_LABELS.items()},
                           preview=[] if readonly else preview_campaigns(db.session, agent),
                           skip_reasons=SKIP_REASONS)

    # -- reads (GET, JSON) ---------------------------------------------------------------------------

    @expose("/status")
    def status(self) -> Any:
        agent = self.viewed_agent(int_arg("agent_id", minimum=1))
        try:
            bridge, acd = acd_service()
            view = bridge.call(agent_view, acd, agent.id)
        except EngineUnavailable as exc:
            return ok(engine=False, agent_id=agent.id, state=None, message=str(exc))
        except AcdError as exc:  # the ACD's typed refusal; anything else is a bug and a 500
            return ok(engine=True, agent_id=agent.id, state=None, message=str(exc))
        return ok(engine=True, **view)

    @expose("/customer")
    def customer(self) -> Any:
        """A customer's card by id or phone (a page reload, a caller with another number)."""
        customer = None
        customer_id = id_arg("id")
        if customer_id is not None:
            customer = db.session.get(Customer, customer_id)
        elif request.args.get("phone"):
            customer = customer_by_phone(db.session, request.args["phone"])
        if customer is None:
            return refused(gettext("No such customer."), 404)
        return ok(customer=customer_card(db.session, customer))

    @expose("/orders")
    def lookup(self) -> Any:
        """Orders by order number or by the customer's phone number."""
        q = "".join(ch for ch in (request.args.get("q") or "") if ch.isdigit() or ch == "+")
        if not q:
            return refused(gettext("Type an order number or a phone number."))
        if is_valid_order_number(q):
            try:
                return ok(orders=[order_view(order_by_number(db.session, q))])
            except NotFound:
                pass
        customer = customer_by_phone(db.session, q)
        if customer is None:
            return refused(gettext("No order or customer found for %(q)s.", q=q), 404)
        orders = db.session.scalars(select(Order).where(Order.customer_id == customer.id)
                                    .order_by(Order.created_at.desc(), Order.id.desc()).limit(20))
        return ok(orders=[order_view(o) for o in orders], customer_id=customer.id)

    @expose("/knowledge")
    def knowledge(self) -> Any:
        """Approved articles matching the words (counted when an article is opened)."""
        text = (request.args.get("q") or "").strip()
        articles = search_knowledge(db.session, text, limit=10, count_hits=False) if text else []
        return ok(articles=[{"id": a.id, "question": a.question, "hits": a.hit_count} for a in articles])

    @expose("/knowledge/<int:article_id>")
    def article(self, article_id: int) -> Any:
        """One approved article; opening it counts a hit."""
        row = db.session.get(KnowledgeArticle, article_id)
        if row is None or not row.approved:
            return refused(gettext("No such article."), 404)
        db.session.execute(KnowledgeArticle.__table__.update().where(KnowledgeArticle.id == article_id)
                           .values(hit_count=KnowledgeArticle.hit_count + 1))
        db.session.commit()
        db.session.refresh(row)
        return ok(article={"id": row.id, "question": row.question, "answer": row.answer, "hits": row.hit_count})

    @expose("/callbacks")
    def callbacks(self) -> Any:
        """Open callback requests (pending or scheduled), oldest first."""
        rows = db.session.scalars(select(CallbackRequest).where(CallbackRequest.status.in_(
            [CallbackStatus.PENDING.value, CallbackStatus.SCHEDULED.value]))
            .order_by(CallbackRequest.created_at, CallbackRequest.id).limit(100))
        return ok(callbacks=[{"id": r.id, "number": r.number, "customer_id": r.customer_id, "queue": r.queue_name,
                              "status": r.status, "attempts": r.attempts, "note": r.note,
                              "created_at": r.created_at.isoformat() if r.created_at else None} for r in rows])

    @expose("/questions")
    def my_questions(self) -> Any:
        agent = self.viewed_agent(int_arg("agent_id", minimum=1))
        return ok(questions=[question_view(r) for r in questions(agent.id, limit=20)])

    # -- actions (POST) ---------------------------------------------------------------------------------

    @expose("/state", methods=("POST",))
    def state(self) -> Any:
        agent = self.acting_agent()
        form = StateForm()
        if not form.validate():
            return form_refused(form)
        if form.action.data == "not_ready" and form.reason.data and form.reason.data not in NOT_READY_REASONS:
            return refused(gettext("Unknown reason code %(reason)s.", reason=form.reason.data))
        queues = [q.strip() for q in (form.queues.data or "").split(",") if q.strip()]
        view, refusal = on_acd(change_state, agent.id, form.action.data, form.reason.data or None, queues)
        if refusal is not None:
            return refusal
        return ok(**view)

    @expose("/order", methods=("POST",))
    def order(self) -> Any:
        agent = self.acting_agent()
        form = OrderForm()
        if not form.validate():
            return form_refused(form)
        lines: list[OrderLine] = []
        for index, (code, quantity) in enumerate(zip(form.code.data, form.quantity.data), 1):
            code = (code or "").strip()
            raw = (quantity or "").strip()
            if not code and not raw:
                continue
            if not code:
                return refused(gettext("Line %(n)s: a product code is needed.", n=index))
            if not raw.isdigit() or not 1 <= int(raw) <= 999:
                return refused(gettext("Line %(n)s: the quantity must be a whole number from 1 to 999.", n=index),
                               errors={"quantity": [index]})
            lines.append(OrderLine(code, int(raw)))
        if not lines:
            return refused(gettext("An order needs at least one line."))
        call_uuid = form.call_uuid.data or None
        try:
            placed = place_order(db.session, form.customer_id.data, lines,
                                 delivery_method=form.delivery_method.data, payment_method=form.payment_method.data,
                                 ship_to_address=form.ship_to_address.data or None,
                                 special_requests=form.special_requests.data or None,
                                 media_source=form.media_source.data or None, channel=Channel.AGENT,
                                 created_by=current_user.username[:40], call_uuid=call_uuid)
            log_interaction(db.session, Channel.CALL, customer_id=form.customer_id.data, call_uuid=call_uuid,
                            agent_id=agent.id, summary=f"desk: order {placed.number} placed",
                            detail={"event": "order_placed", "order": placed.number, "total": str(placed.total),
                                    "by": current_user.username})
            notify_order(db.session, placed, "created", by=current_user.username[:40])  # commits with the order
            if call_uuid:  # on the call's record: what the call created
                link_call(db.session, call_uuid, "orders", placed.number)
            audit.record("desk-order", Order.__tablename__, placed.id, {"number": placed.number})
            db.session.commit()
        except CrmError as exc:
            return crm_refused(exc)
        fresh = db.session.get(Order, placed.id)
        return ok(message=gettext("Order %(number)s placed.", number=placed.number), order=order_view(fresh))

    @expose("/order/status", methods=("POST",))
    def order_status(self) -> Any:
        self.acting_agent()
        form = OrderStatusForm()
        if not form.validate():
            return form_refused(form)
        try:
            changed = change_order_status(db.session, form.number.data, form.to_status.data,
                                          by=current_user.username, reason=form.reason.data or None,
                                          courier=form.courier.data or None, waybill=form.waybill.data or None)
            notify_status_change(db.session, changed, by=current_user.username[:40])
            audit.record("order-status", Order.__tablename__, changed.id, {"to": form.to_status.data,
                                                                            "via": "desk"})
            db.session.commit()
        except CrmError as exc:
            return crm_refused(exc)
        return ok(message=gettext("Order %(number)s is now %(status)s.", number=changed.number,
                                  status=changed.status), order=order_view(changed))

    @expose("/complaint", methods=("POST",))
    def complaint(self) -> Any:
        agent = self.acting_agent()
        form = ComplaintForm()
        if not form.validate():
            return form_refused(form)
        try:
            order_id = None
            if form.order_number.data:
                order_id = order_by_number(db.session, form.order_number.data).id
            row = file_complaint(db.session, category=form.category.data, channel=Channel.AGENT,
                                 customer_id=form.customer_id.data, order_id=order_id,
                                 description=form.description.data)
            row.assigned_to = current_user.username[:40]
            if form.customer_id.data:
                log_interaction(db.session, Channel.CALL, customer_id=form.customer_id.data, agent_id=agent.id,
                                summary=f"desk: complaint {row.id} ({row.category})",
                                detail={"event": "complaint_filed", "complaint_id": row.id})
            if form.call_uuid.data:
                link_call(db.session, form.call_uuid.data, "complaints", row.id)
            audit.record("create", "complaints", row.id, {"via": "desk", "category": row.category})
            db.session.commit()
        except CrmError as exc:
            return crm_refused(exc)
        return ok(message=gettext("Complaint %(id)s filed.", id=row.id), complaint_id=row.id)

    @expose("/message", methods=("POST",))
    def message(self) -> Any:
        """Send the card's customer an SMS or e-mail (admin/views/desk_messages.py)."""
        agent = self.acting_agent()
        form = DeskMessageForm()
        if not form.validate():
            return form_refused(form)
        try:
            queued = send_desk_message(db.session, agent, form, current_user.username)
            audit.record("desk-message", "outbox_messages", queued.id, {"channel": queued.channel})
            db.session.commit()
        except CrmError as exc:
            return crm_refused(exc)
        return ok(message=gettext("Message queued to %(to)s.", to=queued.recipient), outbox_id=queued.id,
                  status=queued.status)

    @expose("/ask", methods=("POST",))
    def ask(self) -> Any:
        agent = self.acting_agent()
        form = AskForm()
        if not form.validate():
            return form_refused(form)
        row = log_interaction(db.session, Channel.IM, direction=Direction.INTERNAL, customer_id=form.customer_id.data,
                              call_uuid=form.call_uuid.data or None, agent_id=agent.id,
                              summary=form.question.data[:200],
                              detail={"kind": QUESTION_KIND, "status": "open", "question": form.question.data,
                                      "agent": current_user.username})
        db.session.commit()
        view = question_view(row)
        publish(SUPERVISORS_TOPIC, "question", view)
        return ok(message=gettext("Sent to the supervisors."), question=view)

    @expose("/callback/claim", methods=("POST",))
    def callback_claim(self) -> Any:
        agent = self.acting_agent()
        form = CallbackForm()
        if not form.validate():
            return form_refused(form)
        view, refusal = on_acd(claim, form.request_id.data, agent.id)
        if refusal is not None:
            return refusal
        return ok(message=gettext("Callback %(id)s is yours.", id=form.request_id.data), callback=view)

    @expose("/callback/complete", methods=("POST",))
    def callback_complete(self) -> Any:
        agent = self.acting_agent()
        form = CallbackForm()
        if not form.validate():
            return form_refused(form)
        view, refusal = on_acd(complete, form.request_id.data, agent.id, bool(form.success.data),
                               form.note.data or None)
        if refusal is not None:
            return refusal
        return ok(message=gettext("Callback %(id)s closed.", id=form.request_id.data), callback=view)

    @expose("/blacklist", methods=("POST",))
    def blacklist(self) -> Any:
        self.acting_agent()
        form = BlacklistForm()
        if not form.validate():
            return form_refused(form)
        try:
            now_blacklisted = mark_blacklist(db.session, form.customer_id.data, marked_by=current_user.username[:40],
                                             reason=form.reason.data, threshold=blacklist_threshold())
            audit.record("blacklist-mark", "customers", form.customer_id.data, {"reason": form.reason.data})
            db.session.commit()
        except CrmError as exc:
            return crm_refused(exc)
        return ok(message=gettext("Mark recorded.") + (" " + gettext("The customer is now blacklisted.")
                                                        if now_blacklisted else ""), blacklisted=now_blacklisted)

    @expose("/wrapup", methods=("POST",))
    def wrapup(self) -> Any:
        agent = self.acting_agent()
        form = WrapUpForm()
        if not form.validate():
            return form_refused(form)
        cdr = db.session.scalars(select(CallDetailRecord).where(CallDetailRecord.uuid == form.call_uuid.data)).first()
        if cdr is None:
            return refused(gettext("No record of call %(uuid)s.", uuid=form.call_uuid.data), 404)
        if cdr.agent_id != agent.id:
            return refused(gettext("Call %(uuid)s was not yours.", uuid=form.call_uuid.data), 403)
        if cdr.ended_at is None:
            return refused(gettext("The call is still going on: the disposition is saved when it ends."), 409)
        set_disposition(db.session, cdr.uuid, form.disposition.data)
        log_interaction(db.session, Channel.CALL, customer_id=cdr.customer_id, call_uuid=cdr.uuid, agent_id=agent.id,
                        address=cdr.ani, summary=f"wrap-up: {form.disposition.data}"
                        + (f" - {form.note.data}" if form.note.data else ""),
                        detail={"event": "wrap_up", "disposition": form.disposition.data, "note": form.note.data,
                                "by": current_user.username})
        db.session.commit()
        message = gettext("Saved: %(code)s.", code=form.disposition.data)
        if form.ready.data:
            try:
                bridge, acd = acd_service()
                view = bridge.call(change_state, acd, agent.id, "ready", None, [])
                return ok(message=message, **view)
            except EngineUnavailable as exc:
                return ok(message=message + " " + str(exc), engine=False)
            except AcdError as exc:  # the ACD's typed refusal; anything else is a bug and a 500
                return ok(message=message + " " + gettext("Refused: %(message)s", message=str(exc)))
        return ok(message=message)

    @expose("/transfer", methods=("POST",))
    def transfer(self) -> Any:
        agent = self.acting_agent()
        form = TransferForm()
        if not form.validate():
            return form_refused(form)
        target = (form.target.data or "").strip()
        if form.action.data in ("blind", "consult") and not target:
            return refused(gettext("Give a queue (queue:name), an agent (agent:id) or an extension."))
        result, refusal = on_acd(transfer, agent.id, form.action.data, target)
        if refusal is not None:
            return refusal
        return ok(message=gettext("Transfer: %(state)s.", state=result.get("state")), **result)

    @expose("/supervise", methods=("POST",))
    def supervise(self) -> Any:
        form = SuperviseForm()
        if not form.validate():
            return form_refused(form)
        view, refusal = on_acd(supervise, form.extension.data.strip(), form.agent_id.data, form.mode.data)
        if refusal is not None:
            return refusal
        audit.record("supervise", "agents", form.agent_id.data, {"mode": form.mode.data})
        db.session.commit()
        return ok(message=gettext("Supervising: %(mode)s.", mode=form.mode.data), supervision=view)


class AnswerForm(FlaskForm):
    question_id = IdField(validators=[InputRequired()])
    answer = TextAreaField(validators=[DataRequired(_l("Write the answer.")), Length(max=4000)])
    add_to_kb = BooleanField(default=False)


class DeskQuestionsView(SecureBaseView):
    """Supervisors: the agents' open questions; an answer goes back to the agent's desk and, if asked,
    into the knowledge base as an unapproved draft."""

    method_permissions = {"index": "view", "answer": "answer"}

    @expose("/")
    def index(self) -> Any:
        token = stream_token([SUPERVISORS_TOPIC])
        rows = [question_view(r) for r in questions(limit=100)]
        return self.render("desk/questions.html", questions=rows, form=AnswerForm(), token=token)

    @expose("/answer", methods=("POST",))
    def answer(self) -> Any:
        form = AnswerForm()
        if not form.validate():
            return form_refused(form)
        row = db.session.get(Interaction, form.question_id.data)
        if row is None or row.detail_dict().get("kind") != QUESTION_KIND:
            return refused(gettext("No such question."), 404)
        detail = row.detail_dict()
        detail.update(status="answered", answer=form.answer.data, answered_by=current_user.username)
        if form.add_to_kb.data:
            article = KnowledgeArticle(question=detail.get("question") or row.summary or "", answer=form.answer.data,
                                       approved=False, created_by=current_user.username[:40])
            db.session.add(article)
            db.session.flush()
            detail["kb_article_id"] = article.id
            audit.record("create", KnowledgeArticle.__tablename__, article.id, {"via": "desk question", "draft": True})
        row.detail = detail  # a new dict: the JSON column sees the change
        db.session.commit()
        view = question_view(row)
        if row.agent_id is not None:
            publish(desk_topic(row.agent_id), "answer", view)
        publish(SUPERVISORS_TOPIC, "answered", view)
        if request.accept_mimetypes.best == "application/json" or request.headers.get("X-Requested-With"):
            return ok(message=gettext("Answer sent."), question=view)
        from flask import flash, redirect

        flash(gettext("Answer sent."), "success")
        return redirect(url_for(".index"))
