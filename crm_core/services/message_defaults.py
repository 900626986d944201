"""The messages Hotline sends out of the box: their merge fields and default text in Chinese and English.

Each built-in template name lists the merge fields its callers always supply
(``FIELDS``); the admin may reword a template but may only use those fields,
so a saved template can never ask for data nobody gives it. Default texts
become ``message_templates`` rows at start (``ensure_default_templates``) and
are never written over once an admin edited them.

E-mail gets the text as the plain part and, unless a template says
otherwise, an HTML part made of the same paragraphs; fax and voice use the
text as the page and the spoken words.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_CHANNELS = ("sms", "email", "fax", "voice")


@dataclass(frozen=True)
class BuiltinTemplate:
    """A message kind: its merge fields, channels, and default subject/text per language."""

    name: str
    fields: frozenset[str]
    channels: tuple[str, ...]
    texts: dict[str, tuple[str | None, str]]  # language -> (subject, text)
    description: str


def _t(name: str, fields: str, channels: tuple[str, ...], description: str,
       zh: tuple[str | None, str], en: tuple[str | None, str]) -> BuiltinTemplate:
    return BuiltinTemplate(name, frozenset(f for f in fields.split() if f), channels, {"zh": zh, "en": en},
                           description)


BUILTIN_TEMPLATES: dict[str, BuiltinTemplate] = {t.name: t for t in (
    _t("order_created", "customer_name order_no total items", ALL_CHANNELS, "order placed (phone, desk, IVR)",
       ("订单已确认 {order_no}", "{customer_name}您好，您的订单{order_no}已确认：{items}，合计{total}元。感谢惠顾！"),
       ("Order {order_no} confirmed",
        "Dear {customer_name}, your order {order_no} is confirmed: {items}, total {total} yuan. Thank you!")),
    _t("order_shipped", "customer_name order_no courier waybill", ALL_CHANNELS, "order handed to the courier",
       ("订单已发货 {order_no}", "{customer_name}您好，您的订单{order_no}已由{courier}发出，运单号{waybill}。"),
       ("Order {order_no} shipped",
        "Dear {customer_name}, your order {order_no} is on its way with {courier}, waybill {waybill}.")),
    _t("order_delivered", "customer_name order_no", ALL_CHANNELS, "order delivered",
       ("订单已签收 {order_no}", "{customer_name}您好，您的订单{order_no}已签收。如有问题请致电我们的热线。"),
       ("Order {order_no} delivered",
        "Dear {customer_name}, your order {order_no} has been delivered. Questions? Call our hotline.")),
    _t("order_return_received", "customer_name order_no total", ALL_CHANNELS, "returned goods received",
       ("退货已收到 {order_no}", "{customer_name}您好，我们已收到订单{order_no}的退货，将退款{total}元。"),
       ("Return received for order {order_no}",
        "Dear {customer_name}, we received the return of order {order_no}; {total} yuan will be refunded.")),
    _t("order_details", "order_no status courier waybill", ("sms", "email"), "order status asked for in the IVR",
       ("订单{order_no}", "订单{order_no}：{status} {courier} {waybill}"),
       ("Order {order_no}", "Order {order_no}: {status} {courier} {waybill}")),
    _t("opt_out_confirmation", "", ("sms",), "reply to TD / 退订 / STOP",
       (None, "您已成功退订短信通知，将不再收到我们的短信。"),
       (None, "You have been unsubscribed and will receive no more text messages from us.")),
    _t("fax_catalogue", "date products", ("fax",), "IVR fax-back: the product catalogue",
       ("商品目录", "商品目录（{date}）\n\n{products}\n\n订购请拨打我们的热线。"),
       ("Product catalogue", "Product catalogue ({date})\n\n{products}\n\nTo order, call our hotline.")),
    _t("fax_product_sheet", "code name price description", ("fax", "email"), "one product's sheet",
       ("商品资料 {name}", "商品资料\n\n{name}（代码{code}）\n价格：{price}元\n\n{description}"),
       ("Product sheet {name}", "Product sheet\n\n{name} (code {code})\nPrice: {price} yuan\n\n{description}")),
    _t("fax_order_confirmation", "customer_name order_no items total address date", ("fax", "email"),
       "order confirmation document",
       ("订单确认 {order_no}", "订单确认\n\n日期：{date}\n客户：{customer_name}\n订单号：{order_no}\n"
                             "商品：{items}\n合计：{total}元\n收货地址：{address}"),
       ("Order confirmation {order_no}", "Order confirmation\n\nDate: {date}\nCustomer: {customer_name}\n"
                                         "Order: {order_no}\nItems: {items}\nTotal: {total} yuan\n"
                                         "Ship to: {address}")),
    _t("fax_return_policy", "", ("fax", "email"), "the returns policy page",
       ("退换货政策", "退换货政策\n\n签收后七天内可无理由退货，十五天内质量问题可换货。\n"
                    "请保留原包装与发票，并先致电热线登记。"),
       ("Returns policy", "Returns policy\n\nReturn any item within 7 days of delivery, or exchange a faulty one "
                          "within 15 days.\nKeep the original packaging and invoice, and call our hotline "
                          "first.")),
)}

#: Documents the IVR's fax-back may send (``fax_request`` node ``document`` parameter) -> template name.
FAX_DOCUMENTS = {"catalogue": "fax_catalogue", "product_sheet": "fax_product_sheet",
                 "order_confirmation": "fax_order_confirmation", "return_policy": "fax_return_policy"}
