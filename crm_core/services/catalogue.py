"""Product look-ups the IVR and the desk use (by phone code, SKU or name) and promotions in force."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from crm_core.enums import ProductStatus
from crm_core.exceptions import UnknownProduct
from crm_core.models import Product, Promotion, promotion_products
from crm_core.types import utcnow


def product_by_phone_code(session: Session, phone_code: str) -> Product:
    """The product a caller keyed in; UnknownProduct when no product has that code."""
    product = session.scalars(select(Product).where(Product.phone_code == phone_code.strip())).first()
    if product is None:
        raise UnknownProduct(f"no product with phone code {phone_code!r}", code=phone_code)
    return product


def product_by_code(session: Session, code: str) -> Product:
    """A product by phone code or SKU (the desk accepts either)."""
    code = code.strip()
    product = session.scalars(
        select(Product).where(or_(Product.phone_code == code, Product.sku == code)).limit(1)
    ).first()
    if product is None:
        raise UnknownProduct(f"no product with code or SKU {code!r}", code=code)
    return product


def products_by_codes(session: Session, codes: Iterable[str]) -> dict[str, Product]:
    """Many products in one query, keyed by each code given (phone code or SKU)."""
    wanted = {c.strip() for c in codes}
    if not wanted:
        return {}
    rows = session.scalars(select(Product).where(or_(Product.phone_code.in_(wanted), Product.sku.in_(wanted))))
    found: dict[str, Product] = {}
    for product in rows:
        for key in (product.phone_code, product.sku):
            if key in wanted:
                found[key] = product
    return found


def search_products(session: Session, text: str, *, limit: int = 10, active_only: bool = True) -> list[Product]:
    """Products whose name or description contains ``text`` (case-insensitive), names matches first."""
    pattern = f"%{text.strip().lower()}%"
    name_hit = func.lower(Product.name).like(pattern)
    stmt = select(Product).where(or_(name_hit, func.lower(Product.description).like(pattern)))
    if active_only:
        stmt = stmt.where(Product.status == ProductStatus.ACTIVE.value)
    stmt = stmt.order_by(name_hit.desc(), Product.name, Product.id).limit(limit)
    return list(session.scalars(stmt))


def active_promotions(
    session: Session, at: dt.datetime | None = None, *, product_ids: Iterable[int] | None = None
) -> list[Promotion]:
    """Promotions running at ``at`` (default now), optionally only those covering some products."""
    at = at or utcnow()
    stmt = (
        select(Promotion)
        .where(Promotion.active.is_(True), Promotion.starts_at <= at, Promotion.ends_at > at)
        .options(selectinload(Promotion.products))
        .order_by(Promotion.starts_at, Promotion.id)
    )
    if product_ids is not None:
        ids = list(product_ids)
        if not ids:
            return []
        covered = select(promotion_products.c.promotion_id).where(promotion_products.c.product_id.in_(ids))
        stmt = stmt.where(Promotion.id.in_(covered))
    return list(session.scalars(stmt).unique())
