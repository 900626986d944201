"""Demo orders: placed and moved through the order services, in the order the story happened.

Every order is planned up front (number, customer, lines, media source, the
path of statuses with a time for each step). All steps of all orders are
then replayed in time order: ``place_order`` at the placing moment (with the
promotions of that day), ``change_order_status`` for each later step. Stock,
reservations and points move exactly as they would in production.

Order numbers come from the seeded generator (Luhn-checked like the
service's) and are handed to ``place_order(order_number=...)``, as an import
would. A step already in the history is skipped, so a
second run, or a run after an interrupted one, finishes the story and adds
nothing twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update

from crm_core.demo import data
from crm_core.demo.catalogue import ProductSpec
from crm_core.demo.calls import demo_call
from crm_core.demo.context import DemoContext
from crm_core.demo.contact_center import air_times
from crm_core.demo.customers import CustomerSpec
from crm_core.demo.stamps import demo_uuid, rng, stamped
from crm_core.enums import Channel, DeliveryMethod, Direction, MemberLevel, OrderStatus, PaymentMethod
from crm_core.exceptions import CrmError
from crm_core.models import (
    Address,
    Agent,
    CustomerPhone,
    Interaction,
    Order,
    OrderStatusChange,
    PointsEntry,
    Queue,
    StockAdjustment,
    StockReservation,
)
from crm_core.services.orders import change_order_status, luhn_digit, place_order
from crm_core.services.support import log_interaction

FULL_ORDERS = 600
MIN_ORDERS = 30
MAIN_HOTLINE = "4008008888"

S = OrderStatus
#: story -> steps after placing: (status, hours after the previous step (min, max))
PATHS: dict[str, tuple[tuple[OrderStatus, tuple[int, int]], ...]] = {
    "ordered": (),
    "cancelled": ((S.CANCELLED, (1, 20)),),
    "shipped": ((S.SHIPPED, (3, 30)),),
    "delivered": ((S.SHIPPED, (3, 30)), (S.DELIVERED, (30, 90))),
    "settled": ((S.SHIPPED, (3, 30)), (S.DELIVERED, (30, 90)), (S.SETTLED, (120, 220))),
    "refused": ((S.SHIPPED, (3, 30)), (S.RETURNED, (30, 90))),
    "returned": ((S.SHIPPED, (3, 30)), (S.DELIVERED, (30, 90)), (S.RETURNED, (24, 150))),
    "exchanged": ((S.SHIPPED, (3, 30)), (S.DELIVERED, (30, 90)), (S.EXCHANGED, (48, 150))),
    "reshipped": ((S.SHIPPED, (3, 30)), (S.DELIVERED, (30, 90)), (S.EXCHANGED, (48, 120)), (S.SHIPPED, (20, 48))),
}
#: Stories that end in a state nobody leaves an order in for long: their last step is recent.
RECENT = {"ordered", "shipped", "delivered", "exchanged", "reshipped"}
WEIGHTS = {"ordered": 10, "cancelled": 5, "shipped": 11, "delivered": 12, "settled": 42, "refused": 3,
           "returned": 6, "exchanged": 5, "reshipped": 3}
REASONS = {
    S.SHIPPED: "仓库出库 shipped", S.DELIVERED: "客户签收 delivered", S.SETTLED: "货款已结算 settled",
    S.CANCELLED: "客户来电取消 cancelled by caller", S.EXCHANGED: "质量问题换货 exchange for a fault",
}
SPECIAL = ("请送货前电话联系", "周末送货", "放门卫室", "礼品包装，不要放发票", "老人在家，请敲门大声一点")


@dataclass(frozen=True)
class OrderSpec:
    index: int
    number: str
    story: str
    customer: str  # primary mobile (the customer's natural key)
    lines: tuple[tuple[str, int], ...]
    channel: str
    created_by: str
    agent: str | None
    queue: str | None
    dnis: str | None
    payment: str
    delivery: str
    urgent: bool
    invoice_title: str | None
    special: str | None
    courier: tuple[str, str]
    times: tuple[dt.datetime, ...]  # placing, then one per step
    staff: tuple[str, ...]  # who made each step


def _number(r, taken: set[str]) -> str:  # type: ignore[no-untyped-def]
    while True:
        body = str(r.randrange(100_000_000, 1_000_000_000))
        number = body + luhn_digit(body)
        if number not in taken:
            taken.add(number)
            return number


def _agents_with(skill: str) -> list[str]:
    return [login for login, (_, _, levels) in data.shop()["agents"].items() if skill in levels]


def order_specs(
    ctx: DemoContext, count: int, customers: Sequence[CustomerSpec], products: Sequence[ProductSpec]
) -> list[OrderSpec]:
    """The demo's orders: every story at least once, then by weight; only healthy products, no blacklisted buyers."""
    buyers = [c for c in customers if not c.blacklisted]
    weights = [{"normal": 1, "silver": 2, "gold": 3, "platinum": 4, "diamond": 5}[c.level] for c in buyers]
    sellable = [p for p in products if p.health == "ok" and p.status == "active"]
    popularity = [1 / (1 + i / 20) for i in range(len(sellable))]
    plans = data.shop()["media_plans"]
    schedule = {p["dnis"]: [t for t, _ in air_times(ctx, p)] for p in plans}
    couriers = data.shop()["couriers"]
    stories = list(PATHS)
    taken: set[str] = set()
    specs = []
    for index in range(count):
        r = rng(ctx.seed, "order", index)
        number = _number(r, taken)
        story = stories[index] if index < len(stories) else r.choices(stories, [WEIGHTS[s] for s in stories])[0]
        buyer = r.choices(buyers, weights)[0]
        picked = {}
        for _ in range(r.choices([1, 2, 3], [70, 22, 8])[0]):
            product = r.choices(sellable, popularity)[0]
            picked[product.sku] = r.choices([1, 2, 3], [75, 18, 7])[0]
        channel = r.choices([Channel.AGENT, Channel.IVR, Channel.WEB], [60, 32, 8])[0]
        queue = ("english" if buyer.language == "en" else
                 "vip" if buyer.level in (MemberLevel.PLATINUM, MemberLevel.DIAMOND) else "sales")
        agent = r.choice(_agents_with({"english": "english", "vip": "vip"}.get(queue, "sales")))
        dnis = r.choices([p["dnis"] for p in plans] + [None], [p["budget"] for p in plans] + [600_000])[0]
        gaps = [dt.timedelta(hours=r.uniform(*span)) for _, span in PATHS[story]]
        span = sum(gaps, dt.timedelta())
        earliest = ctx.days_ago(buyer.created_days_ago - 3)
        if story in RECENT:
            last = ctx.now - dt.timedelta(hours=r.uniform(0.5, 60))
            lo, hi = last - span - dt.timedelta(hours=12), last - span
        else:
            lo, hi = earliest, ctx.now - span - dt.timedelta(hours=1)
        lo = max(lo, earliest)
        placed = lo + (hi - lo) * r.random() if hi > lo else hi
        if dnis is not None:  # callers ring while the ad is on air
            slots = [t for t in schedule[dnis] if lo <= t <= hi]
            if slots:
                placed = r.choice(slots) + dt.timedelta(minutes=r.uniform(2, 45))
                placed = min(placed, hi)
        times = [placed]
        for gap in gaps:
            times.append(times[-1] + gap)
        staff = []
        for status, _ in PATHS[story]:
            staff.append({S.SHIPPED: "warehouse", S.DELIVERED: "courier-feed", S.SETTLED: "finance"}.get(
                status, r.choice(_agents_with("after_sales"))))
        courier = r.choice(couriers)
        waybill = courier[1] + "".join(str(r.randrange(10)) for _ in range(courier[2]))
        specs.append(OrderSpec(
            index=index, number=number, story=story, customer=buyer.mobile, lines=tuple(picked.items()),
            channel=channel.value, created_by=agent if channel == Channel.AGENT else channel.value,
            agent=agent if channel == Channel.AGENT else None, queue=queue if channel == Channel.AGENT else None,
            dnis=dnis if channel != Channel.WEB else None,
            payment=r.choices(list(PaymentMethod)[:5], [45, 8, 20, 25, 2])[0].value,
            delivery=r.choices([DeliveryMethod.COURIER, DeliveryMethod.EXPRESS, DeliveryMethod.POST],
                               [70, 25, 5])[0].value,
            urgent=r.random() < 0.08,
            invoice_title=r.choice(("个人", "上海华联贸易有限公司", "广州市好运商贸公司")) if r.random() < 0.1 else None,
            special=r.choice(SPECIAL) if r.random() < 0.15 else None,
            courier=(courier[0], waybill), times=tuple(times), staff=tuple(staff),
        ))
    return specs


def event_count(specs: Sequence[OrderSpec]) -> int:
    """How many steps (placings and status changes) the orders take: the progress units."""
    return sum(1 + len(PATHS[s.story]) for s in specs)


def load_orders(ctx: DemoContext, specs: Sequence[OrderSpec]) -> None:
    """Replay every order step in time order, skipping steps the database already holds."""
    by_number = {s.number: s for s in specs}
    steps_done: dict[str, int] = {}
    with ctx.transaction() as session:
        numbers = list(by_number)
        for start in range(0, len(numbers), 500):
            rows = session.execute(
                select(Order.number, func.count(OrderStatusChange.id))
                .join(OrderStatusChange, OrderStatusChange.order_id == Order.id)
                .where(Order.number.in_(numbers[start : start + 500]))
                .group_by(Order.number)
            )
            steps_done.update({number: count for number, count in rows})
        lookups = _lookups(session)
    events = sorted((t, s.index, step, s.number) for s in specs for step, t in enumerate(s.times))
    for start in range(0, len(events), 100):
        chunk = events[start : start + 100]
        with ctx.transaction() as session:
            for when, _, step, number in chunk:
                if steps_done.get(number, 0) != step:
                    continue  # already done, or the order could not be placed
                spec = by_number[number]
                try:
                    if step == 0:
                        _place(ctx, session, spec, lookups)
                    else:
                        _advance(session, spec, step, when, lookups)
                except CrmError as exc:
                    ctx.notes.append(f"order {number} stopped at step {step}: {exc.message}")
                    steps_done[number] = -1
                    continue
                steps_done[number] = step + 1
        ctx.advance(len(chunk))


def _lookups(session) -> dict[str, dict]:  # type: ignore[no-untyped-def, type-arg]
    customers = dict(session.execute(
        select(CustomerPhone.e164, CustomerPhone.customer_id).where(CustomerPhone.is_primary.is_(True))).all())
    addresses = {a.customer_id: a for a in session.scalars(select(Address).where(Address.is_default.is_(True)))}
    return {
        "customers": customers,
        "addresses": {cid: (a.id, a.recipient, a.phone, a.one_line()) for cid, a in addresses.items()},
        "agents": dict(session.execute(select(Agent.login, Agent.id)).all()),
        "queues": dict(session.execute(select(Queue.name, Queue.id)).all()),
    }


def _place(ctx: DemoContext, session, spec: OrderSpec, lookups: dict) -> None:  # type: ignore[no-untyped-def, type-arg]
    customer_id = lookups["customers"].get(spec.customer)
    if customer_id is None:
        raise CrmError(f"customer {spec.customer} is not in the database")
    address_id, recipient, phone, line = lookups["addresses"].get(customer_id, (None, None, None, None))
    placed = spec.times[0]
    call_uuid = demo_uuid(ctx.seed, "order", spec.number) if spec.channel != Channel.WEB else None
    with stamped(session, placed, Order, OrderStatusChange, StockReservation, PointsEntry, Interaction):
        order = place_order(
            session, customer_id, list(spec.lines), delivery_method=spec.delivery, payment_method=spec.payment,
            address_id=address_id, ship_to_name=recipient, ship_to_phone=phone, ship_to_address=line,
            media_source=spec.dnis, want_invoice=spec.invoice_title is not None, invoice_title=spec.invoice_title,
            urgent=spec.urgent, special_requests=spec.special, channel=spec.channel, created_by=spec.created_by,
            call_uuid=call_uuid, at=placed, points_per_yuan=ctx.options.points_per_yuan, order_number=spec.number,
        )
        order.created_at = placed
        session.flush()
        agent_id = lookups["agents"].get(spec.agent or "")
        if call_uuid is not None:
            _order_call(ctx, session, spec, customer_id, agent_id, lookups["queues"].get(spec.queue or ""), call_uuid)
        log_interaction(
            session, Channel.CALL if spec.agent else spec.channel, customer_id=customer_id, address=spec.customer,
            summary=f"订购 order {spec.number}: {sum(q for _, q in spec.lines)} 件, ¥{order.total}",
            detail={"demo_key": f"order:{spec.number}", "order": spec.number, "dnis": spec.dnis},
            call_uuid=call_uuid, agent_id=agent_id,
        )


def _order_call(ctx, session, spec: OrderSpec, customer_id: int, agent_id, queue_id, call_uuid: str) -> None:  # type: ignore[no-untyped-def]
    r = rng(ctx.seed, "order-call", spec.index)
    placed = spec.times[0]
    talk = dt.timedelta(seconds=r.randrange(90, 600))
    if spec.agent:
        wait = dt.timedelta(seconds=r.choice((r.randrange(3, 20), r.randrange(20, 180))))
        entered = placed - talk - wait - dt.timedelta(seconds=25)
        queued, answered = entered + dt.timedelta(seconds=25), placed - talk
        path, wrapup = "main>order>agent", placed + dt.timedelta(seconds=r.randrange(10, 60))
    else:
        entered, queued, answered, wrapup = placed - talk, None, placed - talk, None
        path = "main>order>by_code"
    demo_call(session, uuid=call_uuid, ani=spec.customer, dnis=spec.dnis or MAIN_HOTLINE, customer_id=customer_id,
              entered=entered, ended=placed + dt.timedelta(seconds=20), disposition="order_placed", path=path,
              queue_id=queue_id, agent_id=agent_id, queued=queued, answered=answered, wrapup_ended=wrapup,
              media_source=spec.dnis)


def _advance(session, spec: OrderSpec, step: int, when: dt.datetime, lookups: dict) -> None:  # type: ignore[no-untyped-def, type-arg]
    status = PATHS[spec.story][step - 1][0]
    by = spec.staff[step - 1]
    reason = REASONS.get(status)
    if status == S.RETURNED:
        reason = "拒收退回 refused at the door" if spec.story == "refused" else "七天无理由退货 returned within 7 days"
    courier, waybill = spec.courier
    if status == S.SHIPPED and step > 1:  # the replacement of an exchange travels with a new waybill
        waybill = waybill[:-2] + f"{(int(waybill[-2:]) + 37) % 100:02d}"
    with stamped(session, when, OrderStatusChange, StockReservation, StockAdjustment, PointsEntry, Interaction):
        order = change_order_status(session, spec.number, status, by=by, reason=reason,
                                    courier=courier if status == S.SHIPPED else None,
                                    waybill=waybill if status == S.SHIPPED else None)
        session.execute(update(Order).where(Order.id == order.id).values(updated_at=when),
                        execution_options={"synchronize_session": False})
        if status == S.SHIPPED:
            log_interaction(
                session, Channel.SMS, customer_id=order.customer_id, direction=Direction.OUTBOUND,
                address=spec.customer, summary=f"发货通知 order {spec.number} shipped: {courier} {waybill}",
                detail={"demo_key": f"ship:{spec.number}:{step}", "order": spec.number, "waybill": waybill},
            )
