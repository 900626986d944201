"""Small factories for CRM test data: each makes one valid row with unique keys and flushes it.

Plain functions taking a Session, so they work in the rolled-back ``db_session``
and in tests that commit real data on their own database.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy.orm import Session

from crm_core.enums import DiscountRule
from crm_core.models import Agent, Customer, Product, Promotion, Queue, Stock, Warehouse
from crm_core.services.customers import create_customer

_serial = itertools.count(1)


def next_serial() -> int:
    """A number never handed out before in this test run."""
    return next(_serial)


def new_mobile() -> str:
    """A valid, unused Chinese mobile number in national format (138...)."""
    return f"138{next_serial():08d}"


def make_customer(
    session: Session, *, name: str | None = None, phones: Iterable[str] | None = None, points: int = 0
) -> Customer:
    """A customer with one fresh mobile number (or the given ones) and an optional starting balance."""
    customer = create_customer(session, name or f"Customer {next_serial()}", phones or [new_mobile()])
    if points:
        from crm_core.services.points import earn_points

        earn_points(session, customer.id, points, reason="opening balance")
    return customer


def make_warehouse(session: Session, *, code: str | None = None, priority: int = 100) -> Warehouse:
    """An active warehouse."""
    serial = next_serial()
    warehouse = Warehouse(code=code or f"WH{serial}", name=f"Warehouse {serial}", priority=priority)
    session.add(warehouse)
    session.flush()
    return warehouse


def make_product(
    session: Session,
    *,
    price: Decimal | str = "99.00",
    stock: int | None = 10,
    warehouse: Warehouse | None = None,
    phone_code: str | None = None,
    sku: str | None = None,
    name: str | None = None,
    warning_level: int = 0,
    status: str = "active",
    description: str | None = None,
) -> Product:
    """A product with a unique phone code and SKU, stocked in one warehouse unless ``stock`` is None."""
    serial = next_serial()
    product = Product(
        sku=sku or f"SKU-{serial}",
        phone_code=phone_code or str(10_000 + serial),
        name=name or f"Product {serial}",
        description=description or f"Product number {serial}",
        price=Decimal(price),
        status=status,
    )
    session.add(product)
    session.flush()
    if stock is not None:
        add_stock(session, product, stock, warehouse=warehouse, warning_level=warning_level)
    return product


def add_stock(
    session: Session, product: Product, on_hand: int, *, warehouse: Warehouse | None = None, warning_level: int = 0
) -> Stock:
    """Put ``on_hand`` units of a product in a (new, unless given) warehouse."""
    warehouse = warehouse or make_warehouse(session)
    stock = Stock(product_id=product.id, warehouse_id=warehouse.id, on_hand=on_hand, reserved=0,
                  warning_level=warning_level)
    session.add(stock)
    session.flush()
    return stock


def make_promotion(
    session: Session,
    products: Iterable[Product],
    *,
    rule: str = DiscountRule.PERCENT,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    percent: Decimal | str | None = None,
    amount_off: Decimal | str | None = None,
    buy_quantity: int | None = None,
    free_quantity: int | None = None,
    announcement: str | None = None,
) -> Promotion:
    """A promotion over some products during a window."""
    promotion = Promotion(
        name=f"Promotion {next_serial()}",
        rule=str(rule),
        starts_at=starts_at,
        ends_at=ends_at,
        percent=Decimal(percent) if percent is not None else None,
        amount_off=Decimal(amount_off) if amount_off is not None else None,
        buy_quantity=buy_quantity,
        free_quantity=free_quantity,
        announcement=announcement,
        products=list(products),
    )
    session.add(promotion)
    session.flush()
    return promotion


def make_agent(session: Session, *, login: str | None = None, name: str | None = None) -> Agent:
    """An active agent with a unique login and extension."""
    serial = next_serial()
    agent = Agent(login=login or f"agent{serial}", name=name or f"Agent {serial}", extension=str(20_000 + serial),
                  password_hash="x")
    session.add(agent)
    session.flush()
    return agent


def make_queue(session: Session, *, name: str | None = None) -> Queue:
    """An active queue with a unique name."""
    queue = Queue(name=name or f"queue{next_serial()}")
    session.add(queue)
    session.flush()
    return queue
