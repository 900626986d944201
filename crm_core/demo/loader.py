"""Load the demo shop: plan everything from the seed, then apply each section, skipping what exists.

``plan_demo`` is pure (no database): it fixes products, customers and orders
from the seed and the scale. ``load_demo`` applies the sections in
dependency order, each in short transactions, reporting progress units.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from crm_core.demo import data
from crm_core.demo.catalogue import (
    FULL_PRODUCTS,
    MIN_PRODUCTS,
    ProductSpec,
    load_products,
    load_promotions,
    load_reference,
    product_specs,
)
from crm_core.demo.contact_center import load_admin_users, load_agents, load_media
from crm_core.demo.context import DemoContext, DemoOptions
from crm_core.demo.customers import FULL_CUSTOMERS, MIN_CUSTOMERS, CustomerSpec, customer_specs, load_customers
from crm_core.demo.orders import FULL_ORDERS, MIN_ORDERS, OrderSpec, event_count, load_orders, order_specs
from crm_core.demo.service import (
    load_campaign,
    load_delivery_care,
    load_knowledge,
    load_service,
    service_event_count,
)
from crm_core.types import utcnow

FIXED_UNITS = 9  # reference, agents, media, admin users, promotions, knowledge, two campaigns, + 1 spare


@dataclass(frozen=True)
class DemoPlan:
    products: list[ProductSpec]
    customers: list[CustomerSpec]
    orders: list[OrderSpec]
    units: int  # progress units ``load_demo`` will report


def story_now(options: DemoOptions) -> dt.datetime:
    """The moment the demo's story ends: ``options.now`` or now, to the minute."""
    return (options.now or utcnow()).replace(second=0, microsecond=0)


def plan_demo(options: DemoOptions) -> DemoPlan:
    """Everything the demo will hold, fixed by the seed and the scale (no database needed)."""
    ctx = DemoContext(factory=None, options=options, now=story_now(options))  # type: ignore[arg-type]
    products = product_specs(options.seed, min(FULL_PRODUCTS, options.count(FULL_PRODUCTS, MIN_PRODUCTS)))
    customers = customer_specs(options.seed, options.count(FULL_CUSTOMERS, MIN_CUSTOMERS),
                               options.blacklist_threshold)
    orders = order_specs(ctx, options.count(FULL_ORDERS, MIN_ORDERS), customers, products)
    units = (FIXED_UNITS + len(products) + len(customers) + event_count(orders) + service_event_count(ctx))
    return DemoPlan(products, customers, orders, units)


def load_demo(
    factory: sessionmaker[Session],
    options: DemoOptions,
    *,
    plan: DemoPlan | None = None,
    advance: Callable[[int], None] = lambda n: None,
) -> list[str]:
    """Load (or complete) the demo shop in the database behind ``factory``; returns notes on anything skipped."""
    plan = plan or plan_demo(options)
    ctx = DemoContext(factory=factory, options=options, now=story_now(options), advance=advance)
    load_reference(ctx)
    load_agents(ctx)
    load_media(ctx)
    load_admin_users(ctx)
    load_products(ctx, plan.products)
    load_promotions(ctx, plan.products)
    load_knowledge(ctx)
    marked_by = list(data.shop()["agents"])[2::2]
    load_customers(ctx, plan.customers, marked_by)
    load_orders(ctx, plan.orders)
    load_service(ctx, plan.customers, plan.orders)
    load_campaign(ctx, plan.customers)
    load_delivery_care(ctx)
    advance(1)
    return ctx.notes
