"""Pre-built Core reads for the order hot path (``place_order``), compiled once and reused.

Phone ordering is the busiest write of the shop; building ORM queries costs
more Python time than the database work itself, so the hot path runs these
statements on the session's own connection (same transaction). The writes
are in ``order_writes``.
"""

from __future__ import annotations

from sqlalchemy import and_, bindparam, or_, select

from crm_core.models import (
    Customer,
    Order,
    Product,
    Promotion,
    promotion_products,
)
from crm_core.types import UTCDateTime

customers = Customer.__table__
orders = Order.__table__
products = Product.__table__
promotions = Promotion.__table__

#: The customer's flags that can refuse an order.
CUSTOMER_FLAGS = select(customers.c.is_blacklisted).where(customers.c.id == bindparam("customer_id"))

#: Products by phone code or SKU, each with the promotions running at ``at`` (one row per pair, or NULLs),
#: and the customer's blacklist flag (NULL: no such customer) so one round trip checks everything.
PRODUCTS_WITH_PROMOTIONS = (
    select(
        products.c.id, products.c.phone_code, products.c.sku, products.c.name, products.c.price, products.c.status,
        promotions.c.id.label("promotion_id"), promotions.c.name.label("promotion_name"), promotions.c.rule,
        promotions.c.percent, promotions.c.amount_off, promotions.c.buy_quantity, promotions.c.free_quantity,
        CUSTOMER_FLAGS.scalar_subquery().label("customer_blacklisted"),
    )
    .select_from(
        products.outerjoin(promotion_products, promotion_products.c.product_id == products.c.id).outerjoin(
            promotions,
            and_(
                promotions.c.id == promotion_products.c.promotion_id,
                promotions.c.active.is_(True),
                promotions.c.starts_at <= bindparam("at", type_=UTCDateTime()),
                promotions.c.ends_at > bindparam("at", type_=UTCDateTime()),
            ),
        )
    )
    .where(
        or_(
            products.c.phone_code.in_(bindparam("codes", expanding=True)),
            products.c.sku.in_(bindparam("skus", expanding=True)),
        )
    )
)

#: Whether an order number is already used (imports bringing their own numbers).
ORDER_NUMBER_USED = select(orders.c.id).where(orders.c.number == bindparam("number"))
