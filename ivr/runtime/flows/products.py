"""Finding a product by its phone code and what the caller hears about it (product lookup and phone ordering)."""

from __future__ import annotations

from typing import Any

from crm_core.exceptions import UnknownProduct
from ivr.crm_gateway import ProductView
from ivr.runtime.session import IvrSession

LOW_STOCK = 5


def product_prompts(product: ProductView, lang: str = "zh") -> list[tuple[str, dict[str, Any]]]:
    """What the caller hears about a product, the description in the caller's language when there is one."""
    prompts: list[tuple[str, dict[str, Any]]] = [("product_info", {"name": product.name, "price": product.price})]
    description = product.description_for(lang)
    if description:
        prompts.append(("product_description", {"words": description}))
    if not product.active or product.available <= 0:
        prompts.append(("product_out_of_stock", {}))
    elif product.available < LOW_STOCK:
        prompts.append(("product_low_stock", {"quantity": product.available}))
    else:
        prompts.append(("product_in_stock", {}))
    return prompts


async def find_product(s: IvrSession, prompt: str = "product_enter_code") -> ProductView | None:
    """Ask for a phone code until it names a product (None after the retries)."""
    for _ in range(3):
        code = await s.enter_digits(prompt, 1, 8)
        if code is None:
            return None
        s.stats.product(code)
        s.log_step("product", f"ivr: product {code} enquired", code=code)
        try:
            return await s.gateway.product(code)
        except UnknownProduct:
            await s.say("product_not_found")
    return None
