"""Pricing an order: each line at its product's price with its best running promotion (no stacking), the total
and the points it earns -- the one code path a phone order's read-back and the order it places share.

:func:`quote_order` prices what a caller is about to order and names each
promotion, without writing anything; ``place_order(..., quote=q)`` prices the
same lines again at the quote's moment with the same function and refuses
(``QuoteChanged``) if a price or promotion moved in between, so what the
caller heard is what is stored. ``place_order`` without a quote uses it too
(SQLite); PostgreSQL's one-statement order applies the same rules in SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from crm_core.enums import ProductStatus
from crm_core.exceptions import (
    CustomerBlacklisted,
    EmptyOrder,
    InvalidQuantity,
    ProductUnavailable,
    QuoteChanged,
    UnknownCustomer,
    UnknownProduct,
)
from crm_core.models.catalogue import compute_discount
from crm_core.services import order_sql
from crm_core.types import utcnow

CENT = Decimal("0.01")


@dataclass(frozen=True)
class OrderLine:
    """One line of a new order: a phone code or SKU and how many."""

    code: str
    quantity: int = 1


def normalise_lines(lines: Iterable[OrderLine | tuple[str, int]]) -> dict[str, int]:
    """Codes and quantities as {code: total quantity}; InvalidQuantity / EmptyOrder for bad input."""
    wanted: dict[str, int] = {}
    for line in lines:
        code, quantity = (line.code, line.quantity) if isinstance(line, OrderLine) else line
        if not isinstance(quantity, int) or quantity <= 0:
            raise InvalidQuantity(f"quantity for {code!r} must be a positive whole number", code=code)
        wanted[str(code).strip()] = wanted.get(str(code).strip(), 0) + quantity
    if not wanted:
        raise EmptyOrder("an order needs at least one line")
    return wanted


def points_for(total: Decimal, points_per_yuan: int) -> int:
    """Points an order of ``total`` earns (whole points, rounded down, never negative)."""
    return max(int((total * points_per_yuan).to_integral_value(rounding=ROUND_DOWN)), 0)


def check_customer(blacklisted: bool | None, customer_id: int, allow_blacklisted: bool) -> None:
    """UnknownCustomer for no such customer, CustomerBlacklisted unless allowed."""
    if blacklisted is None:
        raise UnknownCustomer(f"no customer {customer_id}", customer_id=customer_id)
    if blacklisted and not allow_blacklisted:
        raise CustomerBlacklisted(f"customer {customer_id} is blacklisted", customer_id=customer_id)


def price_lines(
    connection: Connection, customer_id: int, wanted: Mapping[str, int], at: dt.datetime | None,
    allow_blacklisted: bool = False,
) -> dict[int, dict[str, Any]]:
    """Check the customer, resolve codes to products, price each line with its best promotion (no stacking).

    product id -> line: ``product_id, code, name, quantity, unit_price, promotion_id, promotion_name, discount,
    line_total``. Of equal discounts the promotion with the lowest id wins (as the one-statement order does).
    """
    at = at or utcnow()
    codes = list(wanted)
    params = {"codes": codes, "skus": codes, "at": at, "customer_id": customer_id}
    rows = connection.execute(order_sql.PRODUCTS_WITH_PROMOTIONS, params).all()
    if rows:
        check_customer(rows[0].customer_blacklisted, customer_id, allow_blacklisted)
    else:
        flag = connection.execute(order_sql.CUSTOMER_FLAGS, params).scalar()
        check_customer(flag, customer_id, allow_blacklisted)
    by_code: dict[str, Any] = {}
    promotions: dict[int, list[Any]] = {}
    for row in rows:
        for key in (row.phone_code, row.sku):
            if key in wanted:
                by_code[key] = row
        if row.promotion_id is not None:
            promotions.setdefault(row.id, []).append(row)
    lines: dict[int, dict[str, Any]] = {}
    for code, quantity in wanted.items():
        row = by_code.get(code)
        if row is None:
            raise UnknownProduct(f"no product with code or SKU {code!r}", code=code)
        if row.status != ProductStatus.ACTIVE:
            raise ProductUnavailable(f"{row.name} is {row.status}", code=code, status=row.status)
        line = lines.setdefault(row.id, dict(product_id=row.id, code=row.phone_code, name=row.name, quantity=0,
                                             unit_price=row.price))
        line["quantity"] += quantity
    for product_id, line in lines.items():
        best_id, best, best_name = None, Decimal("0.00"), None
        for promo in sorted(promotions.get(product_id, ()), key=lambda p: p.promotion_id):
            discount = compute_discount(promo.rule, promo.percent, promo.amount_off, promo.buy_quantity,
                                        promo.free_quantity, line["unit_price"], line["quantity"])
            if discount > best:
                best_id, best, best_name = promo.promotion_id, discount, promo.promotion_name
        gross = line["unit_price"] * line["quantity"]
        line.update(promotion_id=best_id, promotion_name=best_name, discount=best, line_total=gross - best)
    return lines


@dataclass(frozen=True)
class QuoteLine:
    """One priced line: what the caller hears and the order item it becomes."""

    product_id: int
    code: str
    name: str
    quantity: int
    unit_price: Decimal
    gross: Decimal  # unit price x quantity
    promotion_id: int | None
    promotion_name: str | None
    discount: Decimal
    line_total: Decimal


@dataclass(frozen=True)
class Quote:
    """An order priced at ``at`` and not placed: lines, subtotal, discount, total and the points it earns."""

    customer_id: int
    at: dt.datetime
    lines: tuple[QuoteLine, ...]
    subtotal: Decimal
    discount: Decimal
    total: Decimal
    points: int

    def check(self, priced: Mapping[int, Mapping[str, Any]]) -> None:
        """QuoteChanged unless ``priced`` (``price_lines`` at ``at``) prices every line as this quote does."""
        now = {pid: (line["quantity"], line["unit_price"], line["promotion_id"], line["discount"])
               for pid, line in priced.items()}
        quoted = {line.product_id: (line.quantity, line.unit_price, line.promotion_id, line.discount)
                  for line in self.lines}
        if now != quoted:
            raise QuoteChanged("the prices or promotions changed since the order was read back",
                               customer_id=self.customer_id)


def quote_order(session: Session, customer_id: int, lines: Sequence[tuple[str, int]], *,
                at: dt.datetime | None = None, points_per_yuan: int = 1,
                allow_blacklisted: bool = False) -> Quote:
    """Price an order without placing it (the read-back); the same typed errors ``place_order`` raises first."""
    at = at or utcnow()
    wanted = normalise_lines(lines)
    priced = price_lines(session.connection(), customer_id, wanted, at, allow_blacklisted)
    out = []
    for product_id in sorted(priced, key=lambda pid: list(wanted).index(priced[pid]["code"])
                             if priced[pid]["code"] in wanted else len(wanted)):
        line = priced[product_id]
        gross = (line["unit_price"] * line["quantity"]).quantize(CENT)
        out.append(QuoteLine(product_id, line["code"], line["name"], line["quantity"], line["unit_price"], gross,
                             line["promotion_id"], line["promotion_name"], line["discount"].quantize(CENT),
                             line["line_total"].quantize(CENT)))
    subtotal = sum((line.gross for line in out), Decimal("0")).quantize(CENT)
    discount = sum((line.discount for line in out), Decimal("0")).quantize(CENT)
    total = (subtotal - discount).quantize(CENT)
    return Quote(customer_id, at, tuple(out), subtotal, discount, total, points_for(total, points_per_yuan))
