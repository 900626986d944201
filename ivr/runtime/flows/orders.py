"""Order status: a keyed order number or the caller's recent orders, spoken naturally, with an SMS offer (key 9)."""

from __future__ import annotations

from typing import Any

from crm_core.exceptions import InvalidRecipient, UnknownOrder
from ivr.crm_gateway import OrderView
from ivr.runtime.session import LEFT, IvrSession

MAX_LOOKUPS = 3


def status_prompt(order: OrderView, local_date: Any = lambda moment: moment.date()) -> tuple[str, dict[str, Any]]:
    """The catalogue prompt and values that say where an order is (dates as ``local_date`` gives them: the
    center's calendar)."""
    number = order.number
    if order.status == "shipped":
        return "order_status_shipped", {"order_no": number, "courier": order.courier or "",
                                        "waybill": order.waybill or ""}
    if order.status == "delivered":
        return "order_status_delivered", {"order_no": number, "date": local_date(order.updated_at)}
    if order.status in ("settled", "returned"):
        return f"order_status_{order.status}", {"order_no": number, "amount": order.total}
    if order.status == "exchanged":
        return "order_status_exchanged", {"order_no": number}
    if order.status == "cancelled":
        return "order_status_cancelled", {"order_no": number}
    return "order_status_ordered", {"order_no": number, "date": local_date(order.created_at)}


def sms_data(order: OrderView) -> dict[str, str]:
    """The merge data of the ``order_details`` SMS."""
    return {"order_no": order.number, "status": order.status, "courier": order.courier or "",
            "waybill": order.waybill or ""}


async def _text_details(s: IvrSession, orders: list[OrderView]) -> str:
    """Queue one SMS per order to the caller's number; the prompt that says how it went."""
    for order in orders:
        try:
            await s.gateway.request_message("sms", s.call.ani, template="order_details", data=sms_data(order),
                                            customer_id=s.customer_id, call_uuid=s.uuid, kind="order_details",
                                            language=s.lang, key=f"ivr-{s.uuid}-order-{order.number}")
        except InvalidRecipient as exc:
            s.log_step("order_sms_refused", "ivr: order details not texted", reason=exc.details.get("reason"))
            return "order_sms_unavailable"
    s.log_step("order_sms", "ivr: order details texted", orders=[o.number for o in orders])
    return "order_sms_sent"


async def _keyed_order(s: IvrSession) -> OrderView | str | None:
    for _ in range(MAX_LOOKUPS):
        number = await s.enter_digits("order_enter_number", 6, 12)
        if number is None:
            return await s.give_up()
        try:
            return await s.gateway.order_by_number(number)
        except UnknownOrder:
            s.log_step("order_not_found", "ivr: order not found", number=number)
            await s.say("order_not_found", order_no=number)
    return await s.give_up()


async def order_status(s: IvrSession, node: Any) -> str | None:
    """Main entry of the order-status flow."""
    while True:
        choice = await s.choose("order_number_choice", "12")
        if choice is None:
            return await s.give_up()
        if choice == "1":
            found = await _keyed_order(s)
            if found == LEFT:
                return LEFT
            orders = [found]
        else:
            orders = await s.gateway.recent_orders(s.call.ani)
            if not orders:
                await s.say("order_none_for_caller")
                return None
            await s.say("order_recent_intro")
        while True:
            await s.say_all([status_prompt(o, s.local_date) for o in orders])  # type: ignore[arg-type]
            s.log_step("order_status", "ivr: order status heard", orders=[o.number for o in orders])  # type: ignore[union-attr]
            key = await s.ask(await s.files("order_sms_offer") + await s.files("order_status_menu"),
                              s.config.input_timeout)
            if key == "9":
                await s.say(await _text_details(s, orders))  # type: ignore[arg-type]
                key = await s.ask(await s.files("order_status_menu"), s.config.input_timeout)
            if key == "1":
                continue
            if key == "2":
                break
            if key == "0":
                return await s.to_agent("caller_choice", skills=("after_sales",))
            return None  # star (back) or nothing: back to the menu
