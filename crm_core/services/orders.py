"""Phone and desk orders: placing one atomically, looking one up, and moving it along its life cycle.

On PostgreSQL ``place_order`` is ONE statement (``order_writes.PLACE_ORDER_PG``):
customer and blacklist check, products and prices, guarded stock reservation
and every write; it writes all of the order or nothing, and its rows say which
typed error to raise. Elsewhere (SQLite) it first checks everything that can
refuse an order (customer, blacklist, products, prices) in one read, then
reserves stock with guarded UPDATEs, then writes the order, its lines,
reservations, first status row and earned points. A refused order leaves
nothing behind even inside a longer transaction: on SQLite a single product's
reservation either happens or not, several products run in a SAVEPOINT.
Order numbers (``order_numbers``) are random; a collision writes nothing and
is retried with a new number (nothing external has happened yet). An import
may bring its own number (``order_number``): it must be well-formed and free,
else ``InvalidOrderNumber`` / ``OrderNumberTaken`` and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from crm_core.enums import ORDER_TRANSITIONS, Channel, DeliveryMethod, OrderStatus, PaymentMethod, ProductStatus
from crm_core.exceptions import (
    IllegalTransition,
    InsufficientStock,
    InvalidOrderNumber,
    MissingShippingInfo,
    OrderNumberExhausted,
    OrderNumberTaken,
    ProductUnavailable,
    UnknownOrder,
    UnknownProduct,
)
from crm_core.models import Customer, CustomerPhone, Order, OrderStatusChange, Stock
from crm_core.phones import DEFAULT_REGION, to_e164
from crm_core.services import inventory, order_sql, order_writes
from crm_core.services.fulfilment import apply_stock_effects
from crm_core.services.order_numbers import is_valid_order_number, luhn_digit, new_order_number
from crm_core.services.order_writes import write_order
from crm_core.services.pricing import OrderLine, Quote, check_customer, normalise_lines, points_for, price_lines
from crm_core.types import utcnow

__all__ = [
    "OrderLine",
    "change_order_status",
    "is_valid_order_number",
    "luhn_digit",
    "new_order_number",
    "order_by_number",
    "place_order",
    "recent_orders_for_caller",
]

ORDER_NUMBER_ATTEMPTS = 10
CENT = Decimal("0.01")


def _checked_order_number(connection: Connection, number: str) -> str:
    """An import's own order number, normalised (spaces and dashes dropped), well-formed and not yet used."""
    normalised = number.strip().replace(" ", "").replace("-", "")
    if not is_valid_order_number(normalised):
        raise InvalidOrderNumber(
            f"{number!r} is not an order number (ten digits, the last a Luhn check digit)", number=number
        )
    if connection.execute(order_sql.ORDER_NUMBER_USED, {"number": normalised}).first() is not None:
        raise OrderNumberTaken(f"order number {normalised} is already used", number=normalised)
    return normalised


def _insert_order(
    session: Session,
    connection: Connection,
    values: dict[str, Any],
    items: list[dict[str, Any]],
    number: str | None = None,
) -> Order:
    """Write the order under ``number`` or a fresh one (retrying collisions); return it as a persistent Order."""
    explicit = number
    for _ in range(1 if explicit else ORDER_NUMBER_ATTEMPTS):
        number = explicit or new_order_number()
        row = write_order(connection, {**values, "number": number}, items, points_reason=f"order {number}")
        if row is not None:
            # The rows are written; hand back an ORM object for the order without reading it again.
            order = Order(id=row.id, number=number, created_at=row.created_at, updated_at=row.updated_at, **values)
            make_transient_to_detached(order)
            session.add(order)
            loaded = session.identity_map.get(identity_key(Customer, values["customer_id"]))
            if loaded is not None:
                session.expire(loaded, ["points_balance", "points_entries", "orders"])
            return order
    if explicit:  # someone took it between our check and our insert
        raise OrderNumberTaken(f"order number {explicit} is already used", number=explicit)
    raise OrderNumberExhausted(f"no free order number after {ORDER_NUMBER_ATTEMPTS} tries")


def place_order(
    session: Session,
    customer_id: int,
    lines: Sequence[OrderLine | tuple[str, int]],
    *,
    delivery_method: str = DeliveryMethod.COURIER,
    payment_method: str = PaymentMethod.COD,
    address_id: int | None = None,
    ship_to_name: str | None = None,
    ship_to_phone: str | None = None,
    ship_to_address: str | None = None,
    media_source: str | None = None,
    want_invoice: bool = False,
    invoice_title: str | None = None,
    urgent: bool = False,
    special_requests: str | None = None,
    channel: str = Channel.IVR,
    created_by: str | None = None,
    call_uuid: str | None = None,
    at: dt.datetime | None = None,
    points_per_yuan: int = 1,
    allow_blacklisted: bool = False,
    order_number: str | None = None,
    quote: Quote | None = None,
) -> Order:
    """Place an order atomically: all of it (stock held, points earned) or, on any error, nothing.

    ``quote`` (``pricing.quote_order``, what the caller heard read back): the lines are priced again at the
    quote's moment by the same function and must come out the same, else ``QuoteChanged`` and nothing is
    written; so the stored order is the one read back.

    ``order_number`` (imports, replays) uses that number instead of drawing one: it must be valid
    (``InvalidOrderNumber``) and unused (``OrderNumberTaken``).
    """
    wanted = normalise_lines(lines)
    session.flush()  # the Core statements below run on the session's connection: pending rows first
    connection = session.connection()
    if order_number is not None:
        order_number = _checked_order_number(connection, order_number)
    values = dict(customer_id=customer_id, status=OrderStatus.ORDERED.value, channel=str(channel),
                  delivery_method=str(delivery_method), payment_method=str(payment_method), address_id=address_id,
                  ship_to_name=ship_to_name, ship_to_phone=ship_to_phone, ship_to_address=ship_to_address,
                  media_source=media_source, want_invoice=want_invoice, invoice_title=invoice_title, urgent=urgent,
                  special_requests=special_requests, call_uuid=call_uuid, created_by=created_by)
    if quote is not None:
        at = quote.at
    if connection.dialect.name == "postgresql" and quote is None:
        return _place_order_one_statement(session, connection, wanted, values, at or utcnow(), points_per_yuan,
                                          allow_blacklisted, order_number)
    lines_by_product = price_lines(connection, customer_id, wanted, at, allow_blacklisted)
    if quote is not None:
        quote.check(lines_by_product)
    # Checks above wrote nothing. One product's reservation is one guarded UPDATE that either happens or
    # not; several products need a savepoint so a shortage on a later line undoes the earlier ones.
    scope = session.begin_nested() if len(lines_by_product) > 1 else nullcontext()
    with scope:
        items: list[dict[str, Any]] = []
        # Reserve in product-id order so concurrent multi-line orders cannot deadlock.
        for product_id in sorted(lines_by_product):
            line = lines_by_product[product_id]
            held = inventory.reserve(session, product_id, line["quantity"])
            if held is None:
                raise InsufficientStock(
                    f"not enough {line['name']} in stock for {line['quantity']}",
                    code=line["code"],
                    requested=line["quantity"],
                    available=inventory.stock_available(session, product_id),
                )
            items.append({**line, "stock_id": held[0], "warehouse_id": held[1]})

        subtotal = sum((i["unit_price"] * i["quantity"] for i in items), Decimal("0"))
        discount_total = sum((i["discount"] for i in items), Decimal("0"))
        total = subtotal - discount_total
        points = points_for(total, points_per_yuan)
        try:
            order = _insert_order(
                session,
                connection,
                dict(values, subtotal=subtotal.quantize(CENT), discount=discount_total.quantize(CENT),
                     total=total.quantize(CENT), points_earned=points),
                items,
                order_number,
            )
        except (OrderNumberExhausted, OrderNumberTaken):
            if len(items) == 1:  # no savepoint to roll back to: give the units back ourselves
                inventory.release(session, items[0]["stock_id"], items[0]["quantity"])
            raise
    return order


def _place_order_one_statement(
    session: Session,
    connection: Connection,
    wanted: dict[str, int],
    values: dict[str, Any],
    at: dt.datetime,
    points_per_yuan: int,
    allow_blacklisted: bool,
    number: str | None,
) -> Order:
    """PostgreSQL: checks, pricing, reservation and every write in one statement (``order_writes.PLACE_ORDER_PG``).

    The statement writes all of the order or none of it; its rows say why not, raised here as the same typed
    errors, in the same order, as the step-by-step path: customer, then each code, then stock (product-id order).
    A taken random number (nothing written) is retried with a new one.
    """
    params: dict[str, Any] = {c: values[c] for c in order_writes.ORDER_PARAM_TYPES if c != "number"}
    params.update(codes=list(wanted), quantities=list(wanted.values()), at=at, points_per_yuan=points_per_yuan,
                  allow_blacklisted=allow_blacklisted)
    explicit = number
    for _ in range(1 if explicit else ORDER_NUMBER_ATTEMPTS):
        number = explicit or new_order_number()
        rows = order_writes.place_order_pg(connection, dict(params, number=number, points_reason=f"order {number}"))
        head = rows[0]
        if head.order_id is not None:
            return _placed(session, values, number, head, (r.stock_id for r in rows))
        check_customer(head.customer_blacklisted, values["customer_id"], allow_blacklisted)
        for row in rows:
            if row.product_id is None:
                raise UnknownProduct(f"no product with code or SKU {row.code!r}", code=row.code)
            if row.status != ProductStatus.ACTIVE:
                raise ProductUnavailable(f"{row.name} is {row.status}", code=row.code, status=row.status)
        for row in sorted(rows, key=lambda r: r.product_id):
            if row.stock_id is None:
                raise InsufficientStock(
                    f"not enough {row.name} in stock for {row.line_quantity}",
                    code=row.phone_code, requested=row.line_quantity, available=int(row.available),
                )
        # Every check held and nothing was written: the order number is taken.
    if explicit:
        raise OrderNumberTaken(f"order number {explicit} is already used", number=explicit)
    raise OrderNumberExhausted(f"no free order number after {ORDER_NUMBER_ATTEMPTS} tries")


def _placed(session: Session, values: dict[str, Any], number: str, head: Any, stock_ids: Iterable[int]) -> Order:
    """The written order as a persistent ORM object (not read again); loaded copies of what changed expired."""
    order = Order(id=head.order_id, number=number, created_at=head.created_at.astimezone(dt.timezone.utc),
                  updated_at=head.updated_at.astimezone(dt.timezone.utc), subtotal=head.subtotal,
                  discount=head.discount, total=head.total, points_earned=head.points_earned, **values)
    make_transient_to_detached(order)
    session.add(order)
    loaded = session.identity_map.get(identity_key(Customer, values["customer_id"]))
    if loaded is not None:
        session.expire(loaded, ["points_balance", "points_entries", "orders"])
    for stock_id in set(stock_ids) - {None}:
        stock = session.identity_map.get(identity_key(Stock, stock_id))
        if stock is not None:
            session.expire(stock)
    return order


def order_by_number(session: Session, number: str, *, for_update: bool = False) -> Order:
    """The order with this number; UnknownOrder (with ``reason``) when the number is mistyped or unknown."""
    number = "".join(ch for ch in number if ch.isdigit())
    if not is_valid_order_number(number):
        raise UnknownOrder(f"{number!r} is not a valid order number", number=number, reason="check-digit")
    stmt = select(Order).where(Order.number == number)
    if for_update:
        stmt = stmt.with_for_update()
    order = session.scalars(stmt).first()
    if order is None:
        raise UnknownOrder(f"no order {number}", number=number, reason="not-found")
    return order


def recent_orders_for_caller(
    session: Session, phone: str, *, limit: int = 3, region: str = DEFAULT_REGION
) -> list[Order]:
    """The caller's latest orders, newest first (what 'where is my order' reads out)."""
    e164 = to_e164(phone, region)
    owners = select(CustomerPhone.customer_id).where(CustomerPhone.e164 == e164)
    stmt = (
        select(Order)
        .where(Order.customer_id.in_(owners))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def change_order_status(
    session: Session,
    number: str,
    to_status: str,
    *,
    by: str,
    reason: str | None = None,
    courier: str | None = None,
    waybill: str | None = None,
) -> Order:
    """Move an order one allowed step, applying its stock and points effects; IllegalTransition otherwise."""
    target = OrderStatus(to_status)
    with session.begin_nested():
        order = order_by_number(session, number, for_update=True)
        current = OrderStatus(order.status)
        if (current, target) not in ORDER_TRANSITIONS:
            raise IllegalTransition(
                f"order {order.number} cannot go from {current} to {target}",
                number=order.number, from_status=current.value, to_status=target.value,
            )
        if target == OrderStatus.SHIPPED:
            if not (courier or order.courier) or not (waybill or order.waybill):
                raise MissingShippingInfo("shipping needs a courier and a waybill", number=order.number)
            order.courier = courier or order.courier
            order.waybill = waybill or order.waybill
        apply_stock_effects(session, order, current, target, by=by)
        order.status = target.value
        session.add(OrderStatusChange(order_id=order.id, from_status=current.value, to_status=target.value,
                                      changed_by=by, reason=reason))
        session.flush()
    return order
