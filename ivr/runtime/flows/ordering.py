"""Phone ordering end to end: codes and quantities, address, payment, delivery, read-back, confirm, place.

Nothing is written until the caller confirms: ``crm_core.place_order`` then
writes the whole order (stock held, points earned) or nothing, so a caller who
hangs up mid-order leaves no partial order. The DNIS the call came in on is
the order's media source (which TV ad sold it).
"""

from __future__ import annotations

from typing import Any

from crm_core.exceptions import InsufficientStock, ProductUnavailable, QuoteChanged
from crm_core.services.pricing import Quote
from ivr.crm_gateway import ProductView
from ivr.runtime.flows.products import find_product
from ivr.runtime.session import LEFT, IvrSession

PAYMENT = {"1": "cod", "2": "wechat", "3": "alipay", "4": "card"}
DELIVERY = {"1": "courier", "2": "express"}


def readback_prompts(quote: Quote) -> list[tuple[str, dict[str, Any]]]:
    """What the caller hears before confirming: each line, each promotion by name with what it saves, the total and
    the points -- the figures of the order that will be stored (the quote is priced by the order's own code)."""
    prompts: list[tuple[str, dict[str, Any]]] = []
    for line in quote.lines:
        prompts.append(("ordering_readback", {"name": line.name, "quantity": line.quantity, "amount": line.gross}))
        if line.discount:
            prompts.append(("ordering_readback_promotion", {"promotion": line.promotion_name or "",
                                                             "discount": line.discount}))
    prompts.append(("ordering_readback_total", {"total": quote.total, "points": quote.points}))
    return prompts


async def _offer_alternative(s: IvrSession, product: ProductView) -> ProductView | str | None:
    """Sold out: offer an in-stock alternative; the chosen one, LEFT (to an agent) or None (try another)."""
    await s.say("ordering_out_of_stock", name=product.name)
    for other in await s.gateway.alternatives(product.code):
        key = await s.choose("ordering_alternative", "120", name=other.name, price=other.price)
        if key == "1":
            return other
        if key == "0":
            return await s.to_agent("out_of_stock", skills=("sales",))
        if key is None:
            return await s.give_up()
        return None
    return None


async def _quantity(s: IvrSession, product: ProductView) -> int | None:
    limit = min(s.config.max_order_quantity, product.available)
    for _ in range(3):
        text = await s.enter_digits("ordering_enter_quantity", 1, 3)
        if text is None:
            return None
        quantity = int(text)
        if 1 <= quantity <= limit:
            return quantity
        await s.say("ordering_quantity_too_large", max=limit)
    return None


async def _collect_lines(s: IvrSession, first: ProductView | None) -> list[tuple[ProductView, int]] | str:
    lines: list[tuple[ProductView, int]] = []
    product = first
    while True:
        if product is None:
            product = await find_product(s, "ordering_enter_code")
            if product is None:
                return await s.give_up()
        if not product.active or product.available <= 0:
            chosen = await _offer_alternative(s, product)
            if chosen == LEFT:
                return LEFT
            product = chosen if isinstance(chosen, ProductView) else None
            continue
        quantity = await _quantity(s, product)
        if quantity is None:
            return await s.give_up()
        lines.append((product, quantity))
        s.log_step("order_line", f"ivr: {quantity} x {product.code}", code=product.code, quantity=quantity)
        more = await s.choose("ordering_more", "12")
        if more is None:
            return await s.give_up()
        if more == "2":
            return lines
        product = None


async def place_order(s: IvrSession, node: Any, first: ProductView | None = None) -> str | None:
    if s.caller is None or not s.caller.address:
        return await s.to_agent("new_address", skills=("sales",), prompt="ordering_no_address")
    while True:
        lines = await _collect_lines(s, first)
        if lines == LEFT:
            return LEFT
        first = None
        key = await s.choose("ordering_address_confirm", "12", address=s.caller.address)
        if key is None:
            return await s.give_up()
        if key == "2":
            return await s.to_agent("new_address", skills=("sales",))
        payment = await s.choose("ordering_payment_method", "1234")
        delivery = await s.choose("ordering_delivery_method", "12") if payment else None
        if payment is None or delivery is None:
            return await s.give_up()
        placed = await _confirm_and_place(s, lines, PAYMENT[payment], DELIVERY[delivery])  # type: ignore[arg-type]
        if placed == AGAIN:
            continue
        return placed


#: ``_confirm_and_place``'s answer when the caller wants to choose again.
AGAIN = "again"


async def _confirm_and_place(s: IvrSession, lines: list[tuple[ProductView, int]], payment: str,
                             delivery: str) -> str | None:
    """Read the priced order back, confirm, place it at those prices; AGAIN to choose again, LEFT or None."""
    caller = s.caller
    assert caller is not None
    codes = [(p.code, q) for p, q in lines]
    while True:
        quote = await s.gateway.quote_order(caller.customer_id, codes)
        await s.say_all(readback_prompts(quote))
        s.log_step("order_readback", f"ivr: order read back, total {quote.total}", total=str(quote.total),
                   discount=str(quote.discount), points=quote.points)
        confirm = await s.choose("ordering_confirm", "12*")
        if confirm is None:
            return await s.give_up()
        if confirm == "2":
            return AGAIN
        if confirm == "*":
            s.log_step("order_cancelled", "ivr: order abandoned before confirmation")
            await s.say("ordering_cancelled")
            return None
        try:
            order = await s.gateway.place_order(
                caller.customer_id, codes, delivery_method=delivery, payment_method=payment,
                address_id=caller.address_id, ship_to_address=caller.address, media_source=s.media_source,
                call_uuid=s.uuid, quote=quote)
        except QuoteChanged:  # a price or promotion moved since the read-back: say so and read it again
            s.log_step("order_repriced", "ivr: prices changed since the read-back")
            await s.say("ordering_prices_changed")
            continue
        except (InsufficientStock, ProductUnavailable) as exc:
            s.log_step("order_refused", f"ivr: order refused ({exc.error_id})", error=exc.error_id)
            name = next((p.name for p, _ in lines if p.code == exc.details.get("code")), "")
            await s.say("ordering_out_of_stock", name=name)
            return await s.to_agent("out_of_stock", skills=("sales",), prompt=None)
        s.link("orders", order.number)
        await s.say("ordering_placed", order_no=order.number)  # the confirmation went out with the order
        return None
