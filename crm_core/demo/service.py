"""Demo after-sales and outbound: knowledge base, complaints, callbacks, service calls, campaign, do-not-call.

Rows without a natural key of their own (complaints, callbacks, voicemails,
calls) are written with an interaction whose ``detail.demo_key`` names them,
in one transaction: the key present means the whole event is there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select

from crm_core.demo import data
from crm_core.demo.calls import demo_call
from crm_core.demo.context import DemoContext
from crm_core.demo.customers import CustomerSpec
from crm_core.demo.orders import MAIN_HOTLINE, PATHS, OrderSpec
from crm_core.demo.stamps import demo_uuid, local, rng, stamped
from crm_core.services.campaigns import Actor, set_questions
from crm_core.enums import (
    CallbackStatus,
    CampaignStatus,
    Channel,
    ComplaintCategory,
    ComplaintStatus,
    ContactStatus,
    OrderStatus,
)
from crm_core.models import (
    Agent,
    CallbackRequest,
    Campaign,
    CampaignContact,
    CampaignQuestion,
    Complaint,
    CustomerPhone,
    DoNotCall,
    Interaction,
    KnowledgeArticle,
    Order,
    PointsEntry,
    Queue,
    Voicemail,
)
from crm_core.services.points import adjust_points
from crm_core.services.support import (
    change_complaint_status,
    file_complaint,
    log_interaction,
    record_voicemail,
    request_callback,
    resolve_complaint,
    update_callback,
)

FULL_COMPLAINTS, FULL_CALLBACKS, FULL_CALLS = 40, 20, 250
SERVICE_CALLS = (  # (IVR path, disposition, summary, queue or None for self-service)
    ("main>orders>status", "self_service", "查询订单状态 order status by IVR", None),
    ("main>points>balance", "self_service", "查询积分 points balance by IVR", None),
    ("main>products>promotions", "self_service", "收听促销 listened to promotions", None),
    ("main>service>agent", "answered", "咨询退换货 asked about a return", "service"),
    ("main>service>agent", "answered", "修改收货地址 changed the delivery address", "service"),
    ("main>sales>agent", "answered", "咨询商品 product questions", "sales"),
    ("main>sales>agent", "abandoned", "排队时挂机 hung up while queued", "sales"),
)


def load_knowledge(ctx: DemoContext) -> None:
    """FAQ articles on delivery, returns, payment, points and members, keyed by question."""
    with ctx.transaction() as session:
        have = set(session.scalars(select(KnowledgeArticle.question)))
        for index, (question, answer, keywords, approved) in enumerate(data.service()["knowledge"]):
            if question in have:
                continue
            r = rng(ctx.seed, "knowledge", index)
            with stamped(session, ctx.days_ago(88 - index)):
                session.add(KnowledgeArticle(question=question, answer=answer, keywords=keywords, approved=approved,
                                             hit_count=r.randrange(5, 400) if approved else 0, created_by="yangmin"))
    ctx.advance(1)


def _existing_keys(session) -> set[str]:  # type: ignore[no-untyped-def]
    keys = set()
    for detail in session.scalars(select(Interaction.detail).where(Interaction.detail.is_not(None))):
        if isinstance(detail, dict) and "demo_key" in detail:
            keys.add(detail["demo_key"])
    return keys


def service_event_count(ctx: DemoContext) -> int:
    """Progress units of ``load_service``."""
    o = ctx.options
    return o.count(FULL_COMPLAINTS, 4) + o.count(FULL_CALLBACKS, 4) + o.count(FULL_CALLS, 10)


def load_service(ctx: DemoContext, customers: Sequence[CustomerSpec], orders: Sequence[OrderSpec]) -> None:
    """Complaints (every category, every status), callback requests and the everyday service calls."""
    with ctx.transaction() as session:
        keys = _existing_keys(session)
        ids = dict(session.execute(select(CustomerPhone.e164, CustomerPhone.customer_id)
                                   .where(CustomerPhone.is_primary.is_(True))).all())
        agents = dict(session.execute(select(Agent.login, Agent.id)).all())
        queues = dict(session.execute(select(Queue.name, Queue.id)).all())
        order_ids = dict(session.execute(select(Order.number, Order.id)).all())
    shipped = [o for o in orders if any(s == OrderStatus.SHIPPED for s, _ in PATHS[o.story])]
    o = ctx.options
    jobs = ([("complaint", i) for i in range(o.count(FULL_COMPLAINTS, 4))]
            + [("callback", i) for i in range(o.count(FULL_CALLBACKS, 4))]
            + [("call", i) for i in range(o.count(FULL_CALLS, 10))])
    for start in range(0, len(jobs), 50):
        chunk = jobs[start : start + 50]
        with ctx.transaction() as session:
            for kind, index in chunk:
                key = f"{kind}:{index}"
                if key in keys:
                    continue
                r = rng(ctx.seed, kind, index)
                buyer = r.choice([c for c in customers if c.mobile in ids] or [None])
                if buyer is None:
                    continue
                env = (r, ids[buyer.mobile], buyer, agents, queues, key)
                if kind == "complaint":
                    _complaint(ctx, session, index, env, shipped, order_ids)
                elif kind == "callback":
                    _callback(ctx, session, index, env)
                else:
                    _call(ctx, session, index, env)
        ctx.advance(len(chunk))


def _complaint(ctx, session, index, env, shipped, order_ids) -> None:  # type: ignore[no-untyped-def]
    r, customer_id, buyer, agents, queues, key = env
    categories = list(ComplaintCategory)
    category = categories[index % len(categories)]
    description, resolution = r.choice(data.service()["complaints"][category.value])
    status = list(ComplaintStatus)[(index // len(categories)) % len(ComplaintStatus)]
    order = r.choice(shipped) if shipped and category != ComplaintCategory.SERVICE else None
    if order is not None:
        customer_id = None  # filled from the order below
    when = ctx.days_ago(r.uniform(0.2, 60)) if order is None else min(order.times[-1] + dt.timedelta(
        hours=r.uniform(2, 48)), ctx.now - dt.timedelta(minutes=30))
    order_id = order_ids.get(order.number) if order is not None else None
    if order is not None:
        customer_id = session.scalar(select(Order.customer_id).where(Order.id == order_id)) if order_id else None
        number = order.customer
    else:
        number = buyer.mobile
    handler = r.choice(["yangmin", "liqiang", "zhoutao"])
    via_voicemail = index % 3 == 1
    call_uuid = demo_uuid(ctx.seed, "complaint", index)
    with stamped(session, when, Voicemail, Complaint, Interaction):
        voicemail = None
        if via_voicemail:
            voicemail = record_voicemail(session, f"var/demo/voicemail/{call_uuid}.wav", r.uniform(12, 75),
                                         caller=number, customer_id=customer_id, call_uuid=call_uuid)
            voicemail.transcript = description
            voicemail.heard = status != ComplaintStatus.OPEN
        complaint = file_complaint(session, category=category.value,
                                   channel=Channel.IVR if via_voicemail else Channel.CALL,
                                   customer_id=customer_id, order_id=order_id, description=description,
                                   voicemail_id=voicemail.id if voicemail else None)
        if not via_voicemail:
            _cdr(session, call_uuid, number, customer_id, when, queues.get("complaints"), agents.get(handler),
                 "complaint", "main>service>complaint", r)
        log_interaction(session, Channel.IVR if via_voicemail else Channel.CALL, customer_id=customer_id,
                        address=number, summary=f"投诉 complaint ({category.value}): {description}",
                        detail={"demo_key": key, "complaint_category": category.value},
                        call_uuid=call_uuid, agent_id=None if via_voicemail else agents.get(handler))
    if status == ComplaintStatus.OPEN:
        return
    taken = min(when + dt.timedelta(minutes=r.uniform(10, 120)), ctx.now)
    with stamped(session, taken):
        change_complaint_status(session, complaint.id, ComplaintStatus.IN_PROGRESS, by=handler)
    if status in (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED):
        done = max(min(when + dt.timedelta(hours=r.uniform(3, 72)), ctx.now), taken)
        with stamped(session, done, PointsEntry):
            resolve_complaint(session, complaint.id, resolution, handler, at=done)
            if customer_id and "积分" in resolution:
                adjust_points(session, customer_id, 100, reason=f"投诉补偿 goodwill for complaint {complaint.id}",
                              by=handler)
        if status == ComplaintStatus.CLOSED:
            with stamped(session, min(done + dt.timedelta(hours=r.uniform(1, 48)), ctx.now)):
                change_complaint_status(session, complaint.id, ComplaintStatus.CLOSED, by=handler)


def _cdr(session, call_uuid, number, customer_id, when, queue_id, agent_id, disposition, path, r,  # type: ignore[no-untyped-def]
         answered=True) -> None:
    wait = dt.timedelta(seconds=r.randrange(4, 150))
    talk = dt.timedelta(seconds=r.randrange(40, 420))
    entered = when - talk - wait - dt.timedelta(seconds=30)
    demo_call(session, uuid=call_uuid, ani=number, dnis=MAIN_HOTLINE, customer_id=customer_id, entered=entered,
              ended=when if answered else when - talk, disposition=disposition, path=path, queue_id=queue_id,
              agent_id=agent_id if answered else None,
              queued=entered + dt.timedelta(seconds=30) if queue_id else None,
              answered=(when - talk) if answered else None,
              wrapup_ended=when + dt.timedelta(seconds=r.randrange(5, 60)) if answered and agent_id else None,
              hangup_cause="NORMAL_CLEARING" if answered else "ORIGINATOR_CANCEL")


def _callback(ctx, session, index, env) -> None:  # type: ignore[no-untyped-def]
    r, customer_id, buyer, agents, queues, key = env
    statuses = [CallbackStatus.PENDING, CallbackStatus.SCHEDULED, CallbackStatus.DONE, CallbackStatus.FAILED]
    status = statuses[index % len(statuses)]
    asked = ctx.days_ago(r.uniform(0.05, 1.5) if status in statuses[:2] else r.uniform(2, 60))
    start = local(asked + dt.timedelta(days=1), r.choice(("10:00", "14:00", "19:00")))
    queue = "english" if buyer.language == "en" else r.choice(("sales", "service", "vip"))
    call_uuid = demo_uuid(ctx.seed, "callback", index)
    with stamped(session, asked, CallbackRequest, Interaction):
        request = request_callback(session, buyer.mobile, customer_id=customer_id, window_start=start,
                                   window_end=start + dt.timedelta(hours=2), queue_name=queue, call_uuid=call_uuid,
                                   note=r.choice(data.service()["callback_notes"]))
        _cdr(session, call_uuid, buyer.mobile, customer_id, asked, queues.get(queue), None, "callback_requested",
             "main>queue>callback", r, answered=False)
        log_interaction(session, Channel.IVR, customer_id=customer_id, address=buyer.mobile,
                        summary=f"预约回电 callback requested ({queue})", detail={"demo_key": key},
                        call_uuid=call_uuid)
    if status == CallbackStatus.PENDING:
        return
    planner = r.choice(["yangmin", "liqiang", "zhoutao"])
    with stamped(session, min(asked + dt.timedelta(minutes=r.uniform(5, 90)), ctx.now)):
        update_callback(session, request.id, CallbackStatus.SCHEDULED, "已排期 scheduled", planner)
    if status == CallbackStatus.SCHEDULED:
        return
    caller = r.choice([login for login in agents if login != planner] or [planner])
    tries = 1 if status == CallbackStatus.DONE else 3
    for attempt in range(tries):
        dialled = min(start + dt.timedelta(minutes=15 + 40 * attempt), ctx.now)
        with stamped(session, dialled):
            update_callback(session, request.id, CallbackStatus.IN_PROGRESS,
                            f"第{attempt + 1}次回拨 attempt {attempt + 1}",
                            caller, agent_id=agents.get(caller))
        last = attempt == tries - 1
        outcome = status if last else CallbackStatus.SCHEDULED
        note = {CallbackStatus.DONE: "客户已接通 reached the customer", CallbackStatus.FAILED: "三次未接通 no answer"}
        with stamped(session, min(dialled + dt.timedelta(minutes=3), ctx.now)):
            update_callback(session, request.id, outcome, note.get(outcome, "无人接听 no answer, retry"), caller)


def _call(ctx, session, index, env) -> None:  # type: ignore[no-untyped-def]
    r, customer_id, buyer, agents, queues, key = env
    path, disposition, summary, queue = r.choice(SERVICE_CALLS)
    when = ctx.days_ago(r.uniform(0.02, 89))
    if index % 10 == 9:  # not every touch is a call
        channel = r.choice((Channel.EMAIL, Channel.IM, Channel.SMS))
        with stamped(session, when, Interaction):
            log_interaction(session, channel, customer_id=customer_id,
                            address=buyer.email or buyer.mobile if channel == Channel.EMAIL else buyer.mobile,
                            summary=f"{channel.value}: {summary}", detail={"demo_key": key})
        return
    call_uuid = demo_uuid(ctx.seed, "call", index)
    login = r.choice([a for a in agents]) if queue and disposition == "answered" else None
    with stamped(session, when, Interaction):
        _cdr(session, call_uuid, buyer.mobile, customer_id, when, queues.get(queue) if queue else None,
             agents.get(login) if login else None, disposition, path, r, answered=disposition != "abandoned")
        log_interaction(session, Channel.CALL if login else Channel.IVR, customer_id=customer_id,
                        address=buyer.mobile, summary=summary, detail={"demo_key": key}, call_uuid=call_uuid,
                        agent_id=agents.get(login) if login else None)


def load_campaign(ctx: DemoContext, customers: Sequence[CustomerSpec]) -> None:
    """A follow-up campaign over members, and a do-not-call list some of them are on."""
    shop = data.shop()["campaign"]
    eligible = [c for c in customers if not c.blacklisted]
    dnc = [c.mobile for c in eligible[3::23]]
    outsiders = [f"+86139{(ctx.seed * 7919 + n * 104729) % 10**8:08d}" for n in range(3)]
    with ctx.transaction() as session:
        with stamped(session, ctx.days_ago(40)):
            have = set(session.scalars(select(DoNotCall.number)))
            for n, number in enumerate(dnc + outsiders):
                if number not in have:
                    session.add(DoNotCall(number=number, added_by="campaign",
                                          reason="客户要求不再推销 asked not to be called" if n < len(dnc)
                                          else "工信部投诉名单 regulator complaint list"))
        campaign = session.scalars(select(Campaign).where(Campaign.name == shop["name"])).first()
        if campaign is None:
            with stamped(session, ctx.days_ago(10)):
                campaign = Campaign(
                    name=shop["name"], mode=shop["mode"], status=CampaignStatus.PAUSED.value,
                    queue_id=session.scalar(select(Queue.id).where(Queue.name == shop["queue"])),
                    caller_id=shop["caller_id"], calling_hours_start=dt.time.fromisoformat(shop["hours"][0]),
                    calling_hours_end=dt.time.fromisoformat(shop["hours"][1]), max_attempts=shop["max_attempts"],
                    retry_minutes=shop["retry_minutes"], starts_at=ctx.days_ago(7), ends_at=ctx.days_ago(-21),
                    created_by="campaign",
                )
                session.add(campaign)
                session.flush()
        numbers = set(session.scalars(select(CampaignContact.number)
                                      .where(CampaignContact.campaign_id == campaign.id)))
        ids = dict(session.execute(select(CustomerPhone.e164, CustomerPhone.customer_id)).all())
        targets = eligible[:: 2][: ctx.options.count(80, 8)]
        for n, spec in enumerate(targets):
            if spec.mobile in numbers or spec.mobile not in ids:
                continue
            r = rng(ctx.seed, "contact", spec.index)
            status, attempts, result = ContactStatus.PENDING, 0, None
            if spec.mobile in dnc:
                status, result = ContactStatus.SKIPPED, "do_not_call"
            elif n % 4 == 1:
                status, attempts, result = ContactStatus.DONE, r.randrange(1, 3), r.choice(("answered", "sale"))
            elif n % 4 == 2:
                status, attempts, result = ContactStatus.FAILED, 3, r.choice(("no_answer", "busy"))
            last = ctx.days_ago(r.uniform(0.2, 6)) if attempts else None
            with stamped(session, ctx.days_ago(8)):
                session.add(CampaignContact(
                    campaign_id=campaign.id, customer_id=ids[spec.mobile], number=spec.mobile, attempts=attempts,
                    status=status.value, last_result=result, last_attempt_at=last,
                    skip_reason=result if status == ContactStatus.SKIPPED else None,
                    next_attempt_at=ctx.now + dt.timedelta(hours=r.uniform(0, 48)) if status == ContactStatus.PENDING
                    else None,
                    data={"name": spec.name, "level": spec.level, "language": spec.language},
                ))
    ctx.advance(1)


def load_delivery_care(ctx: DemoContext) -> None:
    """The automated "delivery care" campaign (draft), its two survey questions and its scripted contacts."""
    shop = data.shop()["delivery_care"]
    with ctx.transaction() as session:
        campaign = session.scalars(select(Campaign).where(Campaign.name == shop["name"])).first()
        if campaign is None:
            with stamped(session, ctx.days_ago(1)):
                campaign = Campaign(
                    name=shop["name"], mode=shop["mode"], status=CampaignStatus.DRAFT.value,
                    ivr_script=shop["script"], caller_id=shop["caller_id"],
                    calling_hours_start=dt.time.fromisoformat(shop["hours"][0]),
                    calling_hours_end=dt.time.fromisoformat(shop["hours"][1]), max_attempts=shop["max_attempts"],
                    retry_minutes=shop["retry_minutes"], created_by="campaign")
                session.add(campaign)
                session.flush()
        if not session.scalars(select(CampaignQuestion.id).where(CampaignQuestion.campaign_id == campaign.id)).first():
            set_questions(session, campaign.id, shop["questions"], actor=Actor("campaign"))
        have = set(session.scalars(select(CampaignContact.number).where(CampaignContact.campaign_id == campaign.id)))
        for spec in shop["contacts"]:
            if spec["number"] in have:
                continue
            fields = {k: str(v) for k, v in spec.items() if k not in ("number", "replies")}
            session.add(CampaignContact(campaign_id=campaign.id, number=spec["number"], data=fields,
                                        status=ContactStatus.PENDING.value))
    ctx.advance(1)
