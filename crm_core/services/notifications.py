"""Order notifications: created, shipped (courier + waybill), delivered, return received.

Called by whoever changed the order (the IVR's gateway, the admin's order
view, the agent desk), in the same transaction as the change: the outbox row
commits with the order or not at all, so a rolled-back order never sends and
a committed one never misses its message (the outbox is transactional; the
dispatcher only ever sees committed rows). The message goes on the
customer's preferred channel, falling back to SMS when no address for that
channel is on file; an opted-out recipient gets a ``cancelled`` row saying so.
Each event of an order is one idempotency key, so a repeated call queues nothing new.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.orm import Session

from crm_core.enums import NotifyChannel, OrderStatus, PhoneKind
from crm_core.exceptions import CrmError
from crm_core.models import Customer, Order, OutboxMessage
from crm_core.phones import DEFAULT_REGION
from crm_core.services.outbox import enqueue
from crm_core.services.recipients import normalise_recipient
from crm_core.types import utcnow

log = logging.getLogger(__name__)

#: order event -> template name
ORDER_EVENTS = {"created": "order_created", "shipped": "order_shipped", "delivered": "order_delivered",
                "return_received": "order_return_received"}
#: the status an order moves to -> the event it announces
STATUS_EVENTS = {OrderStatus.SHIPPED.value: "shipped", OrderStatus.DELIVERED.value: "delivered",
                 OrderStatus.RETURNED.value: "return_received"}
#: how long an order notification may wait for a gateway before it is pointless
NOTIFICATION_TTL = dt.timedelta(days=3)


def items_text(order: Order) -> str:
    """The order's lines as one line of text (``Knife set x1, Pan x2``)."""
    return ", ".join(f"{item.product.name} x{item.quantity}" for item in order.items)


def order_merge_data(order: Order) -> dict[str, str]:
    """Every merge field an order template may use."""
    return {"customer_name": order.customer.name, "order_no": order.number, "total": f"{order.total:.2f}",
            "items": items_text(order), "courier": order.courier or "", "waybill": order.waybill or "",
            "status": order.status}


def recipient_for(customer: Customer, channel: str, region: str = DEFAULT_REGION) -> str | None:
    """The customer's address on ``channel`` (normalised), None when none on file can receive it."""
    if channel == NotifyChannel.EMAIL:
        candidates = [customer.email] if customer.email else []
    else:
        wanted = PhoneKind.FAX.value if channel == NotifyChannel.FAX else PhoneKind.MOBILE.value
        phones = sorted(customer.phones, key=lambda p: (p.kind != wanted, not p.is_primary, p.id))
        candidates = [p.e164 for p in phones if channel != NotifyChannel.FAX or p.kind == PhoneKind.FAX.value]
    for raw in candidates:
        try:
            return normalise_recipient(channel, raw, region)
        except CrmError:
            continue
    return None


def notify_order(session: Session, order: Order, event: str, *, by: str | None = None,
                 region: str = DEFAULT_REGION, now: dt.datetime | None = None) -> OutboxMessage | None:
    """Queue the ``event`` notification of ``order`` for its customer; None when no channel can reach them."""
    template = ORDER_EVENTS[event]
    customer = order.customer
    preferred = customer.notify_channel or NotifyChannel.SMS.value
    channel, recipient = preferred, recipient_for(customer, preferred, region)
    if recipient is None and preferred != NotifyChannel.SMS:
        channel, recipient = NotifyChannel.SMS.value, recipient_for(customer, NotifyChannel.SMS.value, region)
    if recipient is None:
        return None
    key = f"order-{order.number}-{event}" + (f"-{order.waybill}" if event == "shipped" and order.waybill else "")
    try:
        with session.begin_nested():  # a notification that cannot be queued never undoes the order
            return enqueue(session, channel, recipient, template=template, data=order_merge_data(order),
                           language=customer.language or "zh", key=key[:120], customer_id=customer.id,
                           order_id=order.id, call_uuid=order.call_uuid if event == "created" else None,
                           created_by=by, expires_at=(now or utcnow()) + NOTIFICATION_TTL, region=region, now=now)
    except CrmError as exc:
        log.error("order %s: %s notification not queued: %s", order.number, event, exc.message)
        return None


def notify_status_change(session: Session, order: Order, *, by: str | None = None,
                         region: str = DEFAULT_REGION) -> OutboxMessage | None:
    """The notification an order's new status calls for (shipped, delivered, returned), if any."""
    event = STATUS_EVENTS.get(order.status)
    return notify_order(session, order, event, by=by, region=region) if event else None
