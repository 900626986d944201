"""The agent desk through Flask's test client: who may open which desk, CSRF on every POST, validation,
desk orders = phone orders, knowledge hits, ask-a-supervisor, wrap-up codes, and the ACD through a bridge
(a real ``Acd`` on a ``task.Clock``; the bridge runs the calls inline instead of on a reactor)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from twisted.internet import defer
from twisted.internet.task import Clock

import factories
from admin_csrf import csrf_from
from crm_core.enums import Channel
from crm_core.models import (
    Agent,
    BlacklistMark,
    CallbackRequest,
    CallDetailRecord,
    Complaint,
    Interaction,
    KnowledgeArticle,
    Order,
    OrderItem,
    OrderStatusChange,
    PointsEntry,
)
from crm_core.services.orders import OrderLine, place_order

DESK = "/admin/desk"
POSTS = ["/state", "/order", "/order/status", "/complaint", "/ask", "/callback/claim", "/callback/complete",
         "/blacklist", "/wrapup", "/transfer", "/supervise", "/message"]


@pytest.fixture(scope="module")
def desk_agent_id(probe_engine) -> int:
    """The agent row of the demo user ``agent`` (login == username), made once."""
    from sqlalchemy.orm import Session

    with Session(probe_engine) as s:
        agent = s.scalars(select(Agent).where(Agent.login == "agent")).first()
        if agent is None:
            agent = Agent(login="agent", name="演示 坐席", extension=f"7{factories.next_serial():04d}",
                          password_hash="x")
            s.add(agent)
            s.commit()
        return agent.id


@pytest.fixture(scope="module")
def agent(as_role, desk_agent_id):
    return as_role("agent")


@pytest.fixture(scope="module")
def supervisor(as_role):
    return as_role("supervisor")


@pytest.fixture
def customer(dbs):
    made = factories.make_customer(dbs, name="王丽")
    dbs.commit()
    return made


@pytest.fixture
def product(dbs):
    made = factories.make_product(dbs, price="50.00", stock=5)
    dbs.commit()
    return made


# -- permissions --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [f"{DESK}/", f"{DESK}/agent/1", f"{DESK}/status", "/admin/desk_questions/"])
def test_anonymous_visitor_gets_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response.location.startswith("/login?next=")


def test_anonymous_post_with_a_valid_token_still_goes_to_the_login_page(new_client_auth):
    anonymous = new_client_auth()
    anonymous.token = csrf_from(anonymous.client.get("/login").text)
    response = anonymous.post(f"{DESK}/order", {"customer_id": "1", "code-0": "x", "quantity-0": "1"})
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("username", ["admin", "campaign"])
def test_only_agents_and_supervisors_open_the_desk(as_role, username):
    client = as_role(username).client
    assert client.get(f"{DESK}/").status_code == 403
    assert client.get("/admin/desk_questions/").status_code == 403


def test_agent_opens_own_desk_and_not_another_agents(agent, desk_agent_id, dbs):
    page = agent.client.get(f"{DESK}/?lang=en")
    assert page.status_code == 200 and f'data-agent="{desk_agent_id}"' in page.text
    assert 'data-readonly="false"' in page.text and "/events?token=" in page.text
    assert agent.client.get(f"{DESK}/agent/{desk_agent_id}").status_code == 200
    other = factories.make_agent(dbs)
    dbs.commit()
    assert agent.client.get(f"{DESK}/agent/{other.id}").status_code == 403
    assert agent.client.get(f"{DESK}/status?agent_id={other.id}").status_code == 403
    assert agent.client.get(f"{DESK}/questions?agent_id={other.id}").status_code == 403
    assert agent.client.get("/admin/desk_questions/").status_code == 403  # supervisors answer


def test_supervisor_lists_agents_and_opens_any_desk_read_only_but_cannot_act(supervisor, desk_agent_id, customer,
                                                                              product):
    listing = supervisor.client.get(f"{DESK}/?lang=en")
    assert listing.status_code == 200 and f"/admin/desk/agent/{desk_agent_id}" in listing.text
    page = supervisor.client.get(f"{DESK}/agent/{desk_agent_id}?lang=en")
    assert page.status_code == 200 and 'data-readonly="true"' in page.text and 'id="order-form"' not in page.text
    assert 'id="supervise-controls"' in page.text
    response = supervisor.post(f"{DESK}/order", {"customer_id": customer.id, "code-0": product.phone_code,
                                                 "quantity-0": "1"})
    assert response.status_code == 403
    assert supervisor.post(f"{DESK}/state", {"action": "ready"}).status_code == 403


def test_agent_cannot_use_the_supervisors_buttons(agent, desk_agent_id):
    response = agent.post(f"{DESK}/supervise", {"agent_id": desk_agent_id, "mode": "listen", "extension": "1"})
    assert response.status_code == 403


@pytest.mark.parametrize("path", POSTS)
def test_every_desk_post_without_the_csrf_token_is_refused(agent, path):
    response = agent.client.post(f"{DESK}{path}", data={"action": "ready", "customer_id": "1"})
    assert response.status_code == 400 and "CSRF" in response.text


def test_answer_post_without_the_csrf_token_is_refused(supervisor):
    response = supervisor.client.post("/admin/desk_questions/answer", data={"question_id": "1", "answer": "x"})
    assert response.status_code == 400


# -- orders -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("quantity", ["0", "-1", "abc", "1000", "1.5"])
def test_bad_quantity_is_refused_with_a_message_and_nothing_written(agent, customer, product, dbs, quantity):
    response = agent.post(f"{DESK}/order?lang=en", {"customer_id": customer.id, "code-0": product.phone_code,
                                                    "quantity-0": quantity})
    assert response.status_code == 400
    assert "quantity must be a whole number from 1 to 999" in response.json["message"]
    dbs.reread()
    assert dbs.scalars(select(Order).where(Order.customer_id == customer.id)).first() is None


def test_unknown_product_code_and_missing_stock_are_refused_clearly(agent, customer, product, dbs):
    unknown = agent.post(f"{DESK}/order?lang=en", {"customer_id": customer.id, "code-0": "NO-SUCH-CODE",
                                                   "quantity-0": "1"})
    assert unknown.status_code == 404 and unknown.json["error_id"] == "unknown-product"
    assert "NO-SUCH-CODE" in unknown.json["message"]
    short = agent.post(f"{DESK}/order?lang=en", {"customer_id": customer.id, "code-0": product.phone_code,
                                                 "quantity-0": "9"})
    assert short.status_code == 409 and short.json["error_id"] == "insufficient-stock"
    assert "not enough" in short.json["message"] and short.json["details"]["available"] == "5"
    no_customer = agent.post(f"{DESK}/order?lang=en", {"code-0": product.phone_code, "quantity-0": "1"})
    assert no_customer.status_code == 400 and "customer_id" in no_customer.json["errors"]
    dbs.reread()
    assert dbs.scalars(select(Order).where(Order.customer_id == customer.id)).first() is None


def _rows(dbs, order_id: int) -> dict[str, Any]:
    order = dbs.get(Order, order_id)
    items = dbs.scalars(select(OrderItem).where(OrderItem.order_id == order_id)).all()
    history = dbs.scalars(select(OrderStatusChange).where(OrderStatusChange.order_id == order_id)).all()
    points = dbs.scalars(select(PointsEntry).where(PointsEntry.order_id == order_id)).all()
    return {
        "order": (order.status, order.subtotal, order.discount, order.total, order.points_earned,
                  order.delivery_method, order.payment_method),
        "items": sorted((i.product_id, i.quantity, i.unit_price, i.discount, i.line_total) for i in items),
        "history": [(h.from_status, h.to_status) for h in history],
        "points": [(p.kind, p.delta) for p in points],
    }


def test_desk_order_writes_the_same_rows_as_a_phone_order(agent, dbs, desk_agent_id):
    product = factories.make_product(dbs, price="88.00", stock=10)
    phone_buyer = factories.make_customer(dbs)
    desk_buyer = factories.make_customer(dbs)
    phone = place_order(dbs, phone_buyer.id, [OrderLine(product.phone_code, 2)], channel=Channel.IVR,
                        created_by="ivr", call_uuid="phone-call")
    dbs.commit()
    response = agent.post(f"{DESK}/order?lang=en", {
        "customer_id": desk_buyer.id, "code-0": product.phone_code, "quantity-0": "2",
        "delivery_method": "courier", "payment_method": "cod", "call_uuid": "desk-call", "media_source": "4008001234"})
    assert response.status_code == 200, response.text
    number = response.json["order"]["number"]
    assert response.json["message"] == f"Order {number} placed."
    dbs.reread()
    desk = dbs.scalars(select(Order).where(Order.number == number)).one()
    assert _rows(dbs, desk.id) == _rows(dbs, phone.id)
    assert (desk.channel, desk.created_by, desk.call_uuid, desk.media_source) == ("agent", "agent", "desk-call",
                                                                                 "4008001234")
    assert _rows(dbs, desk.id)["points"] == [("earn", 176)]
    assert dbs.get(type(desk_buyer), desk_buyer.id).points_balance == 176
    logged = dbs.scalars(select(Interaction).where(Interaction.call_uuid == "desk-call")).one()
    assert logged.agent_id == desk_agent_id and number in logged.summary


def test_lookup_by_number_and_phone_and_status_change_through_the_allowed_moves(agent, dbs, customer, product):
    order = place_order(dbs, customer.id, [(product.phone_code, 1)], created_by="test")
    dbs.commit()
    by_number = agent.client.get(f"{DESK}/orders?q={order.number}").json
    assert [o["number"] for o in by_number["orders"]] == [order.number]
    assert by_number["orders"][0]["next_statuses"] == ["cancelled", "shipped"]
    by_phone = agent.client.get(f"{DESK}/orders?q={customer.phones[0].e164}").json
    assert order.number in [o["number"] for o in by_phone["orders"]]
    illegal = agent.post(f"{DESK}/order/status?lang=en", {"number": order.number, "to_status": "delivered"})
    assert illegal.status_code == 409 and illegal.json["error_id"] == "illegal-transition"
    assert "cannot go from ordered to delivered" in illegal.json["message"]
    no_waybill = agent.post(f"{DESK}/order/status?lang=en", {"number": order.number, "to_status": "shipped"})
    assert no_waybill.status_code == 400 and no_waybill.json["error_id"] == "missing-shipping-info"
    shipped = agent.post(f"{DESK}/order/status?lang=en", {"number": order.number, "to_status": "shipped",
                                                          "courier": "SF", "waybill": "SF1"})
    assert shipped.status_code == 200 and shipped.json["order"]["status"] == "shipped"
    dbs.reread()
    history = dbs.scalars(select(OrderStatusChange).where(OrderStatusChange.order_id == order.id)
                          .order_by(OrderStatusChange.id)).all()
    assert [(h.to_status, h.changed_by) for h in history][-1] == ("shipped", "agent")


# -- complaints, blacklist, knowledge, questions -----------------------------------------------------------------

def test_complaint_entry_and_its_validation(agent, dbs, customer):
    empty = agent.post(f"{DESK}/complaint?lang=en", {"customer_id": customer.id, "category": "logistics"})
    assert empty.status_code == 400 and "description" in empty.json["errors"]
    made = agent.post(f"{DESK}/complaint?lang=en", {"customer_id": customer.id, "category": "logistics",
                                                    "description": "快递三天没到"})
    assert made.status_code == 200
    dbs.reread()
    row = dbs.get(Complaint, made.json["complaint_id"])
    assert (row.customer_id, row.category, row.channel, row.status, row.assigned_to) == (
        customer.id, "logistics", "agent", "open", "agent")


def test_blacklist_mark_needs_a_reason(agent, dbs, customer):
    assert agent.post(f"{DESK}/blacklist", {"customer_id": customer.id, "reason": ""}).status_code == 400
    response = agent.post(f"{DESK}/blacklist", {"customer_id": customer.id, "reason": "abusive caller"})
    assert response.status_code == 200 and response.json["blacklisted"] is False
    dbs.reread()
    mark = dbs.scalars(select(BlacklistMark).where(BlacklistMark.customer_id == customer.id)).one()
    assert (mark.marked_by, mark.reason) == ("agent", "abusive caller")


def test_knowledge_search_counts_a_hit_when_an_article_is_opened(agent, dbs):
    word = f"zebra{factories.next_serial()}"
    article = KnowledgeArticle(question=f"How long is {word} delivery?", answer="Three days.", keywords=word,
                               approved=True, hit_count=0)
    draft = KnowledgeArticle(question=f"{word} draft", answer="not yet", approved=False)
    dbs.add_all([article, draft])
    dbs.commit()
    found = agent.client.get(f"{DESK}/knowledge?q={word}").json["articles"]
    assert [a["id"] for a in found] == [article.id]  # drafts are not shown
    dbs.reread()
    assert dbs.get(KnowledgeArticle, article.id).hit_count == 0  # searching is not reading
    opened = agent.client.get(f"{DESK}/knowledge/{article.id}").json["article"]
    assert opened["answer"] == "Three days." and opened["hits"] == 1
    agent.client.get(f"{DESK}/knowledge/{article.id}")
    dbs.reread()
    assert dbs.get(KnowledgeArticle, article.id).hit_count == 2
    assert agent.client.get(f"{DESK}/knowledge/{draft.id}").status_code == 404


def test_ask_a_supervisor_round_trip_with_the_answer_as_a_draft_article(agent, supervisor, dbs, customer,
                                                                         desk_agent_id, fake_engine):
    asked = agent.post(f"{DESK}/ask?lang=en", {"question": "Can a gold member return after 30 days?",
                                               "customer_id": customer.id, "call_uuid": "ask-call"})
    assert asked.status_code == 200
    qid = asked.json["question"]["id"]
    assert ("desk:supervisors", "question") in [(t, e) for t, e, _ in fake_engine.hub.published]
    page = supervisor.client.get("/admin/desk_questions/?lang=en")
    assert page.status_code == 200 and "Can a gold member return after 30 days?" in page.text
    answered = supervisor.post("/admin/desk_questions/answer", {"question_id": qid, "answer": "Yes, within 60.",
                                                                "add_to_kb": "y"})
    assert answered.status_code == 302
    mine = agent.client.get(f"{DESK}/questions").json["questions"]
    q = next(q for q in mine if q["id"] == qid)
    assert (q["status"], q["answer"], q["answered_by"]) == ("answered", "Yes, within 60.", "supervisor")
    assert (f"desk:{desk_agent_id}", "answer") in [(t, e) for t, e, _ in fake_engine.hub.published]
    dbs.reread()
    article = dbs.get(KnowledgeArticle, q["kb_article_id"])
    assert (article.question, article.answer, article.approved, article.created_by) == (
        "Can a gold member return after 30 days?", "Yes, within 60.", False, "supervisor")


# -- wrap-up -------------------------------------------------------------------------------------------------

def _cdr(dbs, agent_id: int, ended: bool = True, customer_id: int | None = None) -> CallDetailRecord:
    now = dt.datetime.now(dt.timezone.utc)
    row = CallDetailRecord(uuid=f"wrap-{factories.next_serial()}", ani="+8613900000000", entered_at=now,
                           answered_at=now, ended_at=now if ended else None, agent_id=agent_id,
                           disposition="answered" if ended else None, customer_id=customer_id)
    dbs.add(row)
    dbs.commit()
    return row


def test_wrap_up_disposition_is_saved_on_the_cdr_and_the_timeline(agent, dbs, desk_agent_id, customer):
    cdr = _cdr(dbs, desk_agent_id, customer_id=customer.id)
    bad = agent.post(f"{DESK}/wrapup", {"call_uuid": cdr.uuid, "disposition": "bought-a-car"})
    assert bad.status_code == 400
    response = agent.post(f"{DESK}/wrapup?lang=en", {"call_uuid": cdr.uuid, "disposition": "sale",
                                                     "note": "2 pans"})
    assert response.status_code == 200 and response.json["message"] == "Saved: sale."
    dbs.reread()
    assert dbs.get(CallDetailRecord, cdr.id).disposition == "sale"
    logged = dbs.scalars(select(Interaction).where(Interaction.call_uuid == cdr.uuid)).one()
    assert (logged.customer_id, logged.agent_id, logged.detail["disposition"]) == (customer.id, desk_agent_id, "sale")


def test_wrap_up_of_someone_elses_or_a_running_call_is_refused(agent, dbs, desk_agent_id):
    other = factories.make_agent(dbs)
    dbs.commit()
    assert agent.post(f"{DESK}/wrapup", {"call_uuid": _cdr(dbs, other.id).uuid,
                                         "disposition": "sale"}).status_code == 403
    assert agent.post(f"{DESK}/wrapup", {"call_uuid": _cdr(dbs, desk_agent_id, ended=False).uuid,
                                         "disposition": "sale"}).status_code == 409
    assert agent.post(f"{DESK}/wrapup", {"call_uuid": "no-such-call", "disposition": "sale"}).status_code == 404


# -- the ACD through the bridge -------------------------------------------------------------------------------

class RecordingHub:
    def __init__(self) -> None:
        self.published: list[tuple[str, str, dict]] = []

    def publish(self, topic: str, event: str, data: dict) -> None:
        self.published.append((topic, event, data))


class InlineBridge:
    """``EngineBridge`` without a reactor: runs the call here; Deferreds must have fired (Clock + sync stores)."""

    def __init__(self, services: dict[str, Any], hub: RecordingHub) -> None:
        self.services, self.hub = services, hub

    def service(self, name: str) -> Any:
        return self.services[name]

    def call(self, fn, *args, **kwargs):
        result = fn(*args, **kwargs)
        if isinstance(result, defer.Deferred):
            out: list = []
            result.addBoth(out.append)
            assert out, "the deferred did not fire synchronously"
            if hasattr(out[0], "raiseException"):
                out[0].raiseException()
            return out[0]
        return result


class SyncGateway:
    """Runs ``fn(session)`` in its own committed transaction at once (what ThreadPoolGateway does in a pool)."""

    def __init__(self, url: str) -> None:
        from crm_core.db import make_engine, session_factory

        self.engine = make_engine(url)
        self.sessions = session_factory(self.engine)

    def run(self, fn):
        from crm_core.db import transaction

        try:
            with transaction(self.sessions) as session:
                return defer.succeed(fn(session))
        except Exception:
            return defer.fail()


@pytest.fixture
def fake_engine(app, db_url, desk_agent_id):
    from acd import Acd, QueueConfig
    from acd.store import DbCallbacks

    gateway = SyncGateway(db_url)
    acd = Acd(Clock(), callback_store=DbCallbacks(gateway))
    acd.configure_queue(QueueConfig("sales"))
    acd.add_agent(desk_agent_id, "1001", "演示 坐席", {"sales": 5})
    hub = RecordingHub()
    bridge = InlineBridge({"acd": type("Service", (), {"acd": acd})()}, hub)
    app.extensions["hotline_engine"] = bridge
    bridge.acd = acd
    yield bridge
    del app.extensions["hotline_engine"]
    gateway.engine.dispose()


def test_agent_state_without_the_engine_says_so(agent):
    response = agent.post(f"{DESK}/state", {"action": "ready"})
    assert response.status_code == 503 and response.json["engine"] is False
    assert agent.client.get(f"{DESK}/status").json["engine"] is False


def test_log_in_ready_not_ready_with_reason_break_and_log_out_through_the_acd(agent, fake_engine, desk_agent_id):
    acd = fake_engine.acd
    logged = agent.post(f"{DESK}/state", {"action": "login"})
    assert logged.status_code == 200 and logged.json["state"] == "not_ready" and logged.json["queues"] == ["sales"]
    assert agent.post(f"{DESK}/state", {"action": "ready"}).json["state"] == "available"
    response = agent.post(f"{DESK}/state", {"action": "not_ready", "reason": "lunch"})
    assert (response.json["state"], response.json["reason"]) == ("not_ready", "lunch")
    assert agent.post(f"{DESK}/state", {"action": "not_ready", "reason": "nap"}).status_code == 400
    assert agent.post(f"{DESK}/state", {"action": "break"}).json["state"] == "break"
    status = agent.client.get(f"{DESK}/status").json
    assert status["engine"] is True and status["state"] == "break"
    assert agent.post(f"{DESK}/state", {"action": "logout"}).json["state"] == "logged_out"
    assert acd.board.get(desk_agent_id).state.value == "logged_out"
    refused = agent.post(f"{DESK}/state", {"action": "ready"})  # not in any queue any more
    assert refused.status_code == 409 and refused.json["error_id"] == "acd-agent-not-logged-in"


def test_wrap_up_with_ready_ends_the_acds_wrap_up(agent, fake_engine, dbs, desk_agent_id):
    acd = fake_engine.acd
    acd.login(desk_agent_id, ["sales"])
    acd.board.transition(desk_agent_id, "ringing", call_uuid="c1")
    acd.board.transition(desk_agent_id, "on_call", call_uuid="c1")
    acd.board.start_wrap_up(desk_agent_id, 60, "c1")
    cdr = _cdr(dbs, desk_agent_id)
    response = agent.post(f"{DESK}/wrapup", {"call_uuid": cdr.uuid, "disposition": "enquiry", "ready": "y"})
    assert response.status_code == 200 and response.json["state"] == "available"
    assert acd.board.get(desk_agent_id).state.value == "available"


def test_callback_list_claim_and_complete(agent, fake_engine, dbs, desk_agent_id):
    request = CallbackRequest(number="+8613911112222", queue_name="sales", status="pending")
    dbs.add(request)
    dbs.commit()
    listed = agent.client.get(f"{DESK}/callbacks").json["callbacks"]
    assert request.id in [c["id"] for c in listed]
    claimed = agent.post(f"{DESK}/callback/claim", {"request_id": request.id})
    assert claimed.status_code == 200, claimed.json
    assert claimed.json["callback"]["claimed_by"] == desk_agent_id
    done = agent.post(f"{DESK}/callback/complete", {"request_id": request.id, "success": "y", "note": "called"})
    assert done.status_code == 200
    dbs.reread()
    assert dbs.get(CallbackRequest, request.id).status == "done"
    again = agent.post(f"{DESK}/callback/claim", {"request_id": request.id})
    assert again.status_code == 409


def test_transfer_without_a_call_is_refused_with_the_acd_error(agent, fake_engine, desk_agent_id):
    fake_engine.acd.login(desk_agent_id, ["sales"])
    response = agent.post(f"{DESK}/transfer", {"action": "blind", "target": "queue:sales"})
    assert response.status_code == 409 and response.json["error_id"] == "acd-agent-not-on-call"
    assert agent.post(f"{DESK}/transfer", {"action": "blind"}).status_code == 400


def test_supervisor_supervise_reaches_the_acd(supervisor, fake_engine, desk_agent_id):
    fake_engine.acd.login(desk_agent_id, ["sales"])
    response = supervisor.post(f"{DESK}/supervise", {"agent_id": desk_agent_id, "mode": "whisper",
                                                     "extension": "2001"})
    assert response.status_code == 409 and response.json["error_id"] == "acd-agent-not-on-call"
    assert supervisor.post(f"{DESK}/supervise", {"agent_id": desk_agent_id, "mode": "sing",
                                                 "extension": "2001"}).status_code == 400


# -- messages and faxes on the card ------------------------------------------------------------------------------

def test_agent_texts_the_card_customer_through_the_outbox_and_sees_faxes_and_messages(agent, dbs, customer):
    from crm_core.models import InboundFax, OutboxMessage

    fax = InboundFax(call_uuid=f"desk-fax-{factories.next_serial()}", status="received", pages=2,
                     customer_id=customer.id, pdf_path="/nowhere/x.pdf", thumbnail_path="/nowhere/x.png")
    dbs.add(fax)
    dbs.commit()
    sent = agent.post(f"{DESK}/message?lang=en", {"customer_id": customer.id, "channel": "sms",
                                                  "text": "您的退款已处理。"})
    assert sent.status_code == 200 and sent.json["ok"] and sent.json["status"] == "queued"
    no_mail = agent.post(f"{DESK}/message?lang=en", {"customer_id": customer.id, "channel": "email", "text": "x"})
    assert no_mail.status_code == 400 and "has no e-mail address on file" in no_mail.json["message"]
    too_long = agent.post(f"{DESK}/message?lang=en", {"customer_id": customer.id, "channel": "sms", "text": "长" * 671})
    assert too_long.status_code == 400
    dbs.reread()
    [message] = dbs.scalars(select(OutboxMessage).where(OutboxMessage.customer_id == customer.id)).all()
    assert (message.recipient, message.body, message.created_by) == (customer.phones[0].e164, "您的退款已处理。",
                                                                    "agent")
    card = agent.client.get(f"{DESK}/customer?id={customer.id}").json["customer"]
    assert [(f["id"], f["pages"], f["pdf"]) for f in card["faxes"]] == [(fax.id, 2, True)]
    assert [(m["id"], m["channel"], m["status"]) for m in card["messages"]] == [(message.id, "sms", "queued")]
    assert agent.client.get(f"/admin/fax_files/in/{fax.id}.pdf").status_code == 404  # outside the fax folders


def test_what_the_desk_creates_during_a_call_is_linked_on_the_calls_record(agent, dbs, desk_agent_id, customer):
    cdr = _cdr(dbs, desk_agent_id, ended=False, customer_id=customer.id)
    product = factories.make_product(dbs, price="30.00", stock=5)
    dbs.commit()
    order = agent.post(f"{DESK}/order?lang=en", {
        "customer_id": customer.id, "code-0": product.phone_code, "quantity-0": "1", "delivery_method": "courier",
        "payment_method": "cod", "call_uuid": cdr.uuid})
    complaint = agent.post(f"{DESK}/complaint?lang=en", {"customer_id": customer.id, "category": "service",
                                                         "description": "rude courier", "call_uuid": cdr.uuid})
    assert order.status_code == 200 and complaint.status_code == 200, (order.text, complaint.text)
    dbs.reread()
    links = dbs.get(CallDetailRecord, cdr.id).links
    assert links == {"orders": [order.json["order"]["number"]], "complaints": [complaint.json["complaint_id"]]}
