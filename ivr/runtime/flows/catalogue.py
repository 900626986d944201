"""Product lookup by phone code (price, stock, description, "press 1 to order") and promotions running now."""

from __future__ import annotations

from typing import Any

from ivr.runtime.flows.ordering import place_order
from ivr.runtime.flows.products import find_product, product_prompts
from ivr.runtime.session import LEFT, IvrSession

__all__ = ["find_product", "product_lookup", "product_prompts", "promotions"]

async def product_lookup(s: IvrSession, node: Any) -> str | None:
    while True:
        product = await find_product(s)
        if product is None:
            return await s.give_up()
        await s.say_all(product_prompts(product, s.lang))
        key = await s.choose("product_press_to_order", "12" + s.settings.back_key)
        if key == "1":
            result = await place_order(s, node, first=product)
            return LEFT if result == LEFT else None
        if key != "2":
            return None


async def promotions(s: IvrSession, node: Any) -> str | None:
    running = await s.gateway.promotions(s.now())
    if not running:
        await s.say("promotions_none")
        return None
    prompts: list[tuple[str, dict[str, Any]]] = [("promotions_intro", {})]
    prompts += [("promotion_item", {"words": p.announcement or p.name}) for p in running]
    await s.say_all(prompts)
    s.log_step("promotions", "ivr: promotions heard", count=len(running))
    return None
