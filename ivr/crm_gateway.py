"""The IVR's only road to the CRM: ``crm_core`` services run in a bounded thread pool, one transaction each.

Every method returns a Deferred fired on the reactor thread with plain frozen
snapshots (never ORM objects, which would lazy-load on the reactor thread).
A slow database therefore delays only the calls waiting on it, never another
call's DTMF (ARCHITECTURE boundary 1). Domain errors arrive as the typed
``crm_core.exceptions`` failures; anything else (database down) as the
original exception, which the IVR session turns into an apology and an agent.

SMS and fax requests go into the messaging outbox (``crm_core.services.outbox``)
in the call's transaction, keyed by call and request so a repeated key press
queues one message; ``on_message_queued`` (set by the engine) wakes the
dispatcher. An order's confirmation is queued in the order's own transaction
(``crm_core.services.notifications``).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session
from twisted.internet import defer

from crm_core import services
from crm_core.enums import Channel, MemberLevel
from crm_core.gateway import DbGateway
from crm_core.models import CustomerTag, Order, Product
from crm_core.services import outbox
from crm_core.services.callers import caller_record
from crm_core.services.fax_documents import fax_document
from crm_core.services.notifications import notify_order
from crm_core.services.orders import OrderLine
from crm_core.services.pricing import Quote, quote_order
from crm_core.phones import DEFAULT_REGION
from crm_core.services.customers import DEFAULT_BLACKLIST_THRESHOLD
from crm_core.types import utcnow
from ivr.menu import store

log = logging.getLogger(__name__)

#: how long an SMS or fax asked for during a call may wait for a gateway before it is pointless
MESSAGE_TTL = dt.timedelta(days=1)

VIP_LEVELS = frozenset({MemberLevel.GOLD.value, MemberLevel.PLATINUM.value, MemberLevel.DIAMOND.value})
NEWS_TAG = "news_subscriber"


@dataclass(frozen=True)
class CallerInfo:
    """Who is calling, as the IVR needs it."""

    customer_id: int
    name: str
    vip: bool
    language: str
    blacklisted: bool
    blacklist_marks: int
    notify_channel: str
    address_id: int | None
    address: str | None


@dataclass(frozen=True)
class OrderView:
    number: str
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    total: Decimal
    courier: str | None
    waybill: str | None
    items: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class ProductView:
    id: int
    code: str
    name: str
    price: Decimal
    description: str | None
    available: int
    active: bool
    description_en: str | None = None

    def description_for(self, language: str) -> str | None:
        """The description in the caller's language (English when there is one), else Chinese."""
        if language.startswith("en") and self.description_en:
            return self.description_en
        return self.description


@dataclass(frozen=True)
class PointsChange:
    at: dt.datetime
    delta: int
    kind: str
    reason: str | None


@dataclass(frozen=True)
class PointsView:
    balance: int
    recent: tuple[PointsChange, ...]


@dataclass(frozen=True)
class PromotionView:
    name: str
    announcement: str | None
    ends_at: dt.datetime


@dataclass(frozen=True)
class ComplaintSaved:
    complaint_id: int
    voicemail_id: int
    ticket: str


def ticket_number(complaint_id: int, created: dt.date) -> str:
    """A speakable ticket number: the (local) date and the complaint id (``20261124`` + ``000042``)."""
    return f"{created:%Y%m%d}{complaint_id:06d}"


def local_date(moment: dt.datetime, timezone: str) -> dt.date:
    """The calendar date of ``moment`` in the center's time zone (what a caller is told)."""
    from zoneinfo import ZoneInfo

    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    return aware.astimezone(ZoneInfo(timezone)).date()


def _order_view(order: Order) -> OrderView:
    return OrderView(order.number, order.status, order.created_at, order.updated_at, order.total, order.courier,
                     order.waybill, tuple((item.product.name, item.quantity) for item in order.items))


def _product_view(session: Session, product: Product) -> ProductView:
    return ProductView(product.id, product.phone_code, product.name, product.price, product.description,
                       services.stock_available(session, product.id), product.status == "active",
                       product.description_en)


class CrmGateway:
    """Reactor-facing facade over ``crm_core`` services (and the menu store), on the engine's one DB gateway."""

    def __init__(self, db: DbGateway, region: str = DEFAULT_REGION,
                 blacklist_threshold: int = DEFAULT_BLACKLIST_THRESHOLD, points_per_yuan: int = 1,
                 timezone: str = "Asia/Shanghai") -> None:
        self.db = db
        self.region = region
        self.blacklist_threshold = blacklist_threshold
        self.points_per_yuan = points_per_yuan
        self.timezone = timezone  # the center's: a ticket number carries the local date
        #: called with the channel (None: any) after a message was queued, to wake the outbox dispatcher
        self.on_message_queued: Callable[[str | None], Any] | None = None

    def stop(self) -> None:
        """Stop the gateway underneath (queued interaction rows are written first; later work fails cleanly)."""
        self.db.stop()

    def run(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> defer.Deferred:
        """Run ``work(session, *args, **kwargs)`` in one transaction on a pool thread."""
        return self.db.run(work, *args, **kwargs)

    # -- callers --------------------------------------------------------------------

    def caller_info(self, ani: str) -> defer.Deferred:
        """CallerInfo for a caller ID, or None when unknown (or not a phone number)."""
        return self.run(self._caller_info, ani)

    def _caller_info(self, session: Session, ani: str) -> CallerInfo | None:
        try:
            caller = caller_record(session, ani, region=self.region, tag="vip")
        except Exception:  # a garbled caller ID is an anonymous caller, not an error
            return None
        if caller is None:
            return None
        blacklisted = caller.is_blacklisted or caller.active_marks >= self.blacklist_threshold  # revoked don't count
        return CallerInfo(caller.customer_id, caller.name, caller.member_level in VIP_LEVELS or caller.tagged,
                          caller.language, blacklisted, caller.active_marks, caller.notify_channel,
                          caller.address_id, caller.address)

    # -- orders ---------------------------------------------------------------------

    def order_by_number(self, number: str) -> defer.Deferred:
        """OrderView; fails with UnknownOrder (``details['reason']`` check-digit / not-found)."""
        return self.run(lambda s: _order_view(services.order_by_number(s, number)))

    def recent_orders(self, ani: str, limit: int = 3) -> defer.Deferred:
        """The caller's latest orders (by caller ID), newest first."""
        def work(session: Session) -> list[OrderView]:
            try:
                orders = services.recent_orders_for_caller(session, ani, limit=limit, region=self.region)
            except Exception:
                return []
            return [_order_view(o) for o in orders]
        return self.run(work)

    def quote_order(self, customer_id: int, lines: Sequence[tuple[str, int]]) -> defer.Deferred:
        """The order priced as ``place_order`` will price it (``crm_core.services.pricing.Quote``), nothing
        written: what the read-back says."""
        return self.run(lambda s: quote_order(s, customer_id, list(lines), points_per_yuan=self.points_per_yuan))

    def place_order(self, customer_id: int, lines: Sequence[tuple[str, int]], *, delivery_method: str,
                    payment_method: str, address_id: int | None, ship_to_address: str | None,
                    media_source: str | None, call_uuid: str | None, quote: Quote | None = None) -> defer.Deferred:
        """Place the order (all or nothing; at the read-back's prices when ``quote`` is given, else QuoteChanged)
        and log it on the timeline; OrderView."""
        def work(session: Session) -> OrderView:
            order = services.place_order(
                session, customer_id, [OrderLine(c, q) for c, q in lines], delivery_method=delivery_method,
                payment_method=payment_method, address_id=address_id, ship_to_address=ship_to_address,
                media_source=media_source, channel=Channel.IVR, created_by="ivr", call_uuid=call_uuid,
                quote=quote, points_per_yuan=self.points_per_yuan)
            services.log_interaction(session, Channel.IVR, customer_id=customer_id, call_uuid=call_uuid,
                                     summary=f"ivr: order {order.number} placed",
                                     detail={"event": "order_placed", "order": order.number,
                                             "total": str(order.total), "media_source": media_source})
            session.flush()
            session.refresh(order)
            notify_order(session, order, "created", by="ivr", region=self.region)  # commits with the order
            return _order_view(order)
        return self.run(work).addCallback(self._queued_order)

    def _queued_order(self, view: OrderView) -> OrderView:
        if self.on_message_queued is not None:
            self.on_message_queued(None)
        return view

    # -- products and points ----------------------------------------------------------

    def product(self, code: str) -> defer.Deferred:
        """ProductView by phone code; fails with UnknownProduct."""
        return self.run(lambda s: _product_view(s, services.product_by_phone_code(s, code)))

    def alternatives(self, code: str, limit: int = 2) -> defer.Deferred:
        """In-stock active products of the same category (what to offer when one is sold out)."""
        def work(session: Session) -> list[ProductView]:
            product = services.product_by_phone_code(session, code)
            stmt = select(Product).where(Product.id != product.id, Product.status == "active")
            if product.category_id is not None:
                stmt = stmt.where(Product.category_id == product.category_id)
            out = []
            for other in session.scalars(stmt.order_by(Product.id).limit(20)):
                view = _product_view(session, other)
                if view.available > 0:
                    out.append(view)
                if len(out) >= limit:
                    break
            return out
        return self.run(work)

    def points(self, customer_id: int, recent: int = 3) -> defer.Deferred:
        """PointsView: balance and latest ledger entries."""
        def work(session: Session) -> PointsView:
            entries = services.recent_points(session, customer_id, recent)
            return PointsView(services.points_balance(session, customer_id),
                              tuple(PointsChange(e.created_at, e.delta, e.kind, e.reason) for e in entries))
        return self.run(work)

    def promotions(self, at: dt.datetime | None = None) -> defer.Deferred:
        """Promotions running now."""
        return self.run(lambda s: [PromotionView(p.name, p.announcement, p.ends_at)
                                   for p in services.active_promotions(s, at)])

    # -- service requests ---------------------------------------------------------------

    def save_complaint(self, *, category: str, audio_path: str, duration_seconds: float, caller: str,
                       customer_id: int | None, call_uuid: str | None) -> defer.Deferred:
        """Voicemail + complaint + interaction in one transaction; ComplaintSaved with the ticket number."""
        def work(session: Session) -> ComplaintSaved:
            voicemail = services.record_voicemail(session, audio_path, duration_seconds, caller=caller,
                                                  customer_id=customer_id, call_uuid=call_uuid,
                                                  mailbox="complaints", region=self.region)
            complaint = services.file_complaint(session, category=category, channel=Channel.IVR,
                                                customer_id=customer_id, voicemail_id=voicemail.id,
                                                description="IVR voicemail complaint")
            ticket = ticket_number(complaint.id, local_date(complaint.created_at or utcnow(), self.timezone))
            services.log_interaction(session, Channel.IVR, customer_id=customer_id, address=caller,
                                     call_uuid=call_uuid, summary=f"ivr: complaint {ticket} ({category})",
                                     detail={"event": "complaint", "complaint_id": complaint.id,
                                             "voicemail_id": voicemail.id, "ticket": ticket})
            return ComplaintSaved(complaint.id, voicemail.id, ticket)
        return self.run(work)

    def save_voicemail(self, *, mailbox: str, audio_path: str, duration_seconds: float, caller: str,
                       customer_id: int | None, call_uuid: str | None) -> defer.Deferred:
        """A plain voicemail (no complaint); its id."""
        return self.run(lambda s: services.record_voicemail(
            s, audio_path, duration_seconds, caller=caller, customer_id=customer_id, call_uuid=call_uuid,
            mailbox=mailbox, region=self.region).id)

    def request_callback(self, number: str, *, customer_id: int | None, window_start: dt.datetime | None,
                         window_end: dt.datetime | None, queue_name: str | None,
                         call_uuid: str | None) -> defer.Deferred:
        """Book a callback; its id."""
        def work(session: Session) -> int:
            request = services.request_callback(session, number, customer_id=customer_id, window_start=window_start,
                                                window_end=window_end, queue_name=queue_name, call_uuid=call_uuid,
                                                note="requested in the IVR", region=self.region)
            services.log_interaction(session, Channel.IVR, customer_id=customer_id, call_uuid=call_uuid,
                                     summary="ivr: callback requested",
                                     detail={"event": "callback", "callback_id": request.id, "number": request.number})
            return request.id
        return self.run(work)

    def request_message(self, channel: str, address: str, *, template: str, data: dict[str, Any],
                        customer_id: int | None, call_uuid: str | None, kind: str, language: str = "zh",
                        key: str | None = None) -> defer.Deferred:
        """Queue an SMS / e-mail in the outbox; its id. InvalidRecipient when ``address`` cannot receive it."""
        def work(session: Session) -> int:
            return outbox.enqueue(session, channel, address, template=template, data=data, language=language,
                                  key=(key or f"ivr-{call_uuid}-{kind}")[:120], customer_id=customer_id,
                                  call_uuid=call_uuid, created_by="ivr", region=self.region,
                                  expires_at=utcnow() + MESSAGE_TTL).id
        return self.run(work).addCallback(self._queued, channel)

    def request_fax_document(self, number: str, document: str, *, customer_id: int | None, call_uuid: str | None,
                             language: str = "zh", params: dict[str, Any] | None = None) -> defer.Deferred:
        """Queue the fax-back of a document (catalogue, product sheet...) to a keyed number; its id."""
        def work(session: Session) -> int:
            template, data = fax_document(session, document, **(params or {}))
            return outbox.enqueue(session, "fax", number, template=template, data=data, language=language,
                                  key=f"ivr-{call_uuid}-fax-{document}-{number}"[:120], customer_id=customer_id,
                                  call_uuid=call_uuid, created_by="ivr", region=self.region,
                                  expires_at=utcnow() + MESSAGE_TTL).id
        return self.run(work).addCallback(self._queued, "fax")

    def _queued(self, message_id: int, channel: str) -> int:
        if self.on_message_queued is not None:
            self.on_message_queued(channel)
        return message_id

    def set_subscription(self, customer_id: int, subscribed: bool) -> defer.Deferred:
        """Add or remove the new-product-news tag."""
        def work(session: Session) -> bool:
            tag = session.get(CustomerTag, (customer_id, NEWS_TAG))
            if subscribed and tag is None:
                session.add(CustomerTag(customer_id=customer_id, tag=NEWS_TAG))
            elif not subscribed and tag is not None:
                session.delete(tag)
            session.flush()
            return subscribed
        return self.run(work)

    def log_interaction(self, *, call_uuid: str, customer_id: int | None, address: str | None, summary: str,
                        detail: dict[str, Any]) -> defer.Deferred:
        """One IVR step on the customer's timeline; Deferred of the row id, fired once it is committed.

        Group commit (``DbGateway.write_batched``): steps of every call asked for
        within the gateway's batch window go together in one transaction and one
        multi-row INSERT, in order, so a busy engine pays one transaction per
        batch instead of one per step (profiling ``bench/ivr_calls.py``:
        interaction rows were 7 of the 10 transactions of an order-status call
        before batching). Nothing a caller hears waits on these rows.
        """
        row = {"customer_id": customer_id, "address": address, "summary": summary[:255], "detail": detail,
               "call_uuid": call_uuid}
        return self.db.write_batched(write_interactions, row)

    # -- menus ----------------------------------------------------------------------------

    def published_menu(self, name: str) -> defer.Deferred:
        """The published version of a menu (``ivr.menu.store.PublishedMenu``)."""
        return self.run(store.published, name)

    def published_version_id(self, name: str) -> defer.Deferred:
        return self.run(store.published_version_id, name)


def write_interactions(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """The IVR's batched step rows: one multi-row INSERT; their ids in order (a ``BatchWriter``)."""
    return [row.id for row in services.log_interactions(session, Channel.IVR, rows)]


def lines_total(products: Iterable[tuple[ProductView, int]]) -> Decimal:
    """Gross price of order lines (before promotions) for the read-back."""
    return sum((p.price * q for p, q in products), Decimal("0"))
