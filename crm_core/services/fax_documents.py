"""The documents Hotline faxes (catalogue, product sheet, order confirmation, returns policy) as merge data.

The page text comes from the template (``fax_<document>``, editable in the
admin UI); this module gathers the data it is filled with, so the IVR's
fax-back, the agent desk and order notifications send the same documents.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.exceptions import InvalidInput
from crm_core.models import Product
from crm_core.services.catalogue import product_by_phone_code
from crm_core.services.message_defaults import FAX_DOCUMENTS
from crm_core.services.notifications import items_text
from crm_core.services.orders import order_by_number
from crm_core.types import utcnow

#: most products a faxed catalogue lists (about three pages)
CATALOGUE_LINES = 90


def fax_document(session: Session, document: str, **params: Any) -> tuple[str, dict[str, str]]:
    """(template name, merge data) of a document; InvalidInput for an unknown one or missing parameter."""
    template = FAX_DOCUMENTS.get(document)
    if template is None:
        raise InvalidInput(f"unknown fax document {document!r}; known: {', '.join(sorted(FAX_DOCUMENTS))}",
                           document=document)
    today = utcnow().date().isoformat()
    if document == "catalogue":
        products = session.scalars(select(Product).where(Product.status == "active")
                                   .order_by(Product.phone_code).limit(CATALOGUE_LINES))
        lines = [f"{p.phone_code}  {p.name}  {p.price:.2f}" for p in products]
        return template, {"date": today, "products": "\n".join(lines) or "-"}
    if document == "product_sheet":
        code = params.get("code")
        if not code:
            raise InvalidInput("a product sheet needs a product code", document=document)
        product = product_by_phone_code(session, str(code))
        return template, {"code": product.phone_code, "name": product.name, "price": f"{product.price:.2f}",
                          "description": product.description or ""}
    if document == "order_confirmation":
        number = params.get("order_no")
        if not number:
            raise InvalidInput("an order confirmation needs an order number", document=document)
        order = order_by_number(session, str(number))
        return template, {"customer_name": order.customer.name, "order_no": order.number, "items": items_text(order),
                          "total": f"{order.total:.2f}", "address": order.ship_to_address or "", "date": today}
    return template, {}
