"""Demo catalogue: categories, suppliers, warehouses, 336 products with phone codes, stock and promotions.

Each base product of ``data/products.csv`` comes in the three variants of its
category (size, pack, edition), so the shop has a few hundred products with
Chinese and English names, and a TTS description in each language
(``description`` Chinese, ``description_en`` English).
Products are ordered so any scale keeps every category and the ad heroes.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from crm_core.demo import data
from crm_core.demo.context import DemoContext
from crm_core.demo.stamps import rng, stamped
from crm_core.enums import DiscountRule, ProductStatus
from crm_core.models import Category, Courier, Product, Promotion, Stock, StockAdjustment, Supplier, Warehouse
from crm_core.services.inventory import adjust_stock

FULL_PRODUCTS = 336
MIN_PRODUCTS = 24


@dataclass(frozen=True)
class ProductSpec:
    sku: str
    phone_code: str
    name: str
    name_en: str
    description: str
    description_en: str
    price: Decimal
    category: str
    supplier: str
    status: str
    health: str  # "ok", "low" or "out": which stock story the product tells
    stock: tuple[tuple[str, int, int], ...]  # (warehouse code, on hand, warning line)


def tv_price(value: float) -> Decimal:
    """A price the way TV shopping says it: 39.9, 359, 1799."""
    if value < 100:
        return Decimal(str(math.ceil(value) - 0.1)).quantize(Decimal("0.01"))
    if value < 1000:
        return Decimal(math.ceil(value / 10) * 10 - 1)
    return Decimal(math.ceil(value / 100) * 100 - 1)


def product_specs(seed: int, count: int) -> list[ProductSpec]:
    """The first ``count`` demo products, every category before any repeats."""
    shop = data.shop()
    categories = shop["categories"]
    by_category: dict[str, list[dict[str, str]]] = {}
    for row in data.base_products():
        by_category.setdefault(row["category"], []).append(row)
    keys = []
    for variant in range(3):
        for base in range(max(len(rows) for rows in by_category.values())):
            for cat in categories:
                if base < len(by_category[cat]):
                    keys.append((cat, base, variant))
    warehouses = list(shop["warehouses"])
    specs = []
    for position, (cat, base, variant) in enumerate(keys[:count]):
        row = by_category[cat][base]
        info = categories[cat]
        v_zh, v_en, factor = info["variants"][variant]
        r = rng(seed, "product", f"{cat}-{base}-{variant}")
        digit = info["digit"]
        code = f"{digit}{base + 1:02d}{variant + 1}"
        if base == 0 and variant == 0:
            code = shop["hero_codes"][cat]
        price = tv_price(float(row["price"]) * factor)
        name_en = f"{row['name_en']}, {v_en}"
        health = "out" if position % 40 == 19 else "low" if position % 25 == 7 else "ok"
        status = ProductStatus.INACTIVE.value if position % 60 == 45 else ProductStatus.ACTIVE.value
        expensive = price >= 1000
        chosen = warehouses if r.random() < 0.5 else r.sample(warehouses, 2)
        stock = []
        for wh in sorted(chosen, key=warehouses.index):
            warning = r.randint(3, 8) if expensive else r.randint(10, 30)
            if health == "out":
                on_hand = 0
            elif health == "low":
                on_hand = r.randint(1, max(1, warning // 2))
            else:
                on_hand = r.randint(40, 120) if expensive else r.randint(150, 500)
            stock.append((wh, on_hand, warning))
        specs.append(ProductSpec(
            sku=f"{cat[:3].upper()}-{digit}{base + 1:02d}{variant + 1}",
            phone_code=code,
            name=f"{row['name_zh']}（{v_zh}）",
            name_en=name_en[0].upper() + name_en[1:],
            description=f"{row['name_zh']}{v_zh}，{row['point_zh']}。",
            description_en=f"{name_en[0].upper() + name_en[1:]}: {row['point_en']}.",
            price=price,
            category=cat,
            supplier=info["suppliers"][base % len(info["suppliers"])],
            status=status,
            health=health,
            stock=tuple(stock),
        ))
    return specs


def load_reference(ctx: DemoContext) -> None:
    """Categories, suppliers, warehouses and couriers, keyed by name and code."""
    shop = data.shop()
    with ctx.transaction() as session, stamped(session, ctx.days_ago(95)):
        have = set(session.scalars(select(Category.name)))
        for info in shop["categories"].values():
            if info["zh"] not in have:
                session.add(Category(name=info["zh"]))
        have = set(session.scalars(select(Supplier.name)))
        for name, contact, phone, email in shop["suppliers"].values():
            if name not in have:
                session.add(Supplier(name=name, contact_name=contact, phone=phone, email=email))
        have = set(session.scalars(select(Warehouse.code)))
        for code, (name, address, priority) in shop["warehouses"].items():
            if code not in have:
                session.add(Warehouse(code=code, name=name, address=address, priority=priority))
        have = set(session.scalars(select(Courier.name)))
        for name, prefix, _digits in shop["couriers"]:
            if name not in have:
                session.add(Courier(name=name, code=str(prefix),
                                    tracking_url=f"https://track.example.cn/{prefix}?waybill={{waybill}}"))
    ctx.advance(1)


def _backfill_english(session, specs: list[ProductSpec]) -> int:  # type: ignore[no-untyped-def]
    """Give demo products loaded before the English columns existed their English text (one description each)."""
    by_sku = {spec.sku: spec for spec in specs}
    fixed = 0
    for product in session.scalars(select(Product).where(Product.sku.in_(list(by_sku)),
                                                          Product.description_en.is_(None))):
        spec = by_sku[product.sku]
        product.name_en = product.name_en or spec.name_en
        product.description_en = spec.description_en
        if product.description == f"{spec.description}\n{spec.description_en}":  # the old combined text
            product.description = spec.description
        fixed += 1
    return fixed


def load_products(ctx: DemoContext, specs: list[ProductSpec]) -> None:
    """Products by SKU, each stocked through an opening receipt (skips SKUs and phone codes already taken)."""
    shop = data.shop()
    with ctx.transaction() as session:
        categories = {c.name: c.id for c in session.scalars(select(Category))}
        suppliers = {s.name: s.id for s in session.scalars(select(Supplier))}
        warehouses = {w.code: w.id for w in session.scalars(select(Warehouse))}
        skus = set(session.scalars(select(Product.sku)))
        codes = set(session.scalars(select(Product.phone_code)))
        _backfill_english(session, specs)
    batch = 40
    for start in range(0, len(specs), batch):
        chunk = specs[start : start + batch]
        with ctx.transaction() as session:
            for spec in chunk:
                if spec.sku in skus:
                    continue
                if spec.phone_code in codes:
                    ctx.notes.append(f"product {spec.sku} skipped: phone code {spec.phone_code} is taken")
                    continue
                when = ctx.days_ago(92 - (start // batch))
                with stamped(session, when, StockAdjustment):
                    product = Product(
                        sku=spec.sku, phone_code=spec.phone_code, name=spec.name, name_en=spec.name_en,
                        description=spec.description, description_en=spec.description_en,
                        price=spec.price, status=spec.status,
                        category_id=categories.get(shop["categories"][spec.category]["zh"]),
                        supplier_id=suppliers.get(shop["suppliers"][spec.supplier][0]),
                    )
                    session.add(product)
                    session.flush()
                    for wh, on_hand, warning in spec.stock:
                        stock = Stock(product_id=product.id, warehouse_id=warehouses[wh], on_hand=0, reserved=0,
                                      warning_level=warning)
                        session.add(stock)
                        session.flush()
                        if on_hand:
                            adjust_stock(session, stock.id, on_hand, reason="期初入库 opening stock", by="demo")
                skus.add(spec.sku)
                codes.add(spec.phone_code)
        ctx.advance(len(chunk))


def load_promotions(ctx: DemoContext, specs: list[ProductSpec]) -> None:
    """Past, running and coming promotions over slices of the catalogue, keyed by name."""
    shop = data.shop()
    with ctx.transaction() as session:
        have = set(session.scalars(select(Promotion.name)))
        products = {p.sku: p for p in session.scalars(select(Product))}
        for item in shop["promotions"]:
            if item["name"] in have:
                continue
            if "category" in item:
                chosen = [s.sku for s in specs if s.category == item["category"]]
            else:
                chosen = [s.sku for i, s in enumerate(specs) if i % item["every"] == 0]
            day = ctx.now.replace(hour=0, minute=0, second=0, microsecond=0)
            promotion = Promotion(
                name=item["name"], rule=item["rule"], announcement=item["announcement"],
                starts_at=day + dt.timedelta(days=item["from"]), ends_at=day + dt.timedelta(days=item["to"]),
                products=[products[sku] for sku in chosen if sku in products],
            )
            if item["rule"] == DiscountRule.PERCENT:
                promotion.percent = Decimal(item["percent"])
            elif item["rule"] == DiscountRule.AMOUNT_OFF:
                promotion.amount_off = Decimal(item["amount_off"])
            else:
                promotion.buy_quantity, promotion.free_quantity = item["buy"], item["free"]
            promotion.created_at = min(promotion.starts_at, ctx.now) - dt.timedelta(days=3)
            session.add(promotion)
    ctx.advance(1)
