"""Domain services: plain functions taking a Session, shared by IVR, ACD and the admin desk.

They flush but never commit: the caller's ``crm_core.db.transaction`` decides.
Failures raise the typed errors of ``crm_core.exceptions``.
"""

from crm_core.services.catalogue import active_promotions, product_by_code, product_by_phone_code, search_products
from crm_core.services.customers import (
    add_phone,
    create_customer,
    find_customer_by_phone,
    is_blacklisted,
    mark_blacklist,
)
from crm_core.services.inventory import adjust_stock, low_stock, record_stock_count, stock_available, transfer_stock
from crm_core.services.orders import (
    change_order_status,
    new_order_number,
    order_by_number,
    place_order,
    recent_orders_for_caller,
)
from crm_core.services.points import (
    adjust_points,
    earn_points,
    expire_points,
    points_balance,
    recent_points,
    redeem_points,
)
from crm_core.services.support import (
    file_complaint,
    log_interaction,
    record_voicemail,
    request_callback,
    search_knowledge,
)

__all__ = [
    "active_promotions",
    "add_phone",
    "adjust_points",
    "adjust_stock",
    "change_order_status",
    "create_customer",
    "earn_points",
    "expire_points",
    "file_complaint",
    "find_customer_by_phone",
    "is_blacklisted",
    "log_interaction",
    "low_stock",
    "mark_blacklist",
    "new_order_number",
    "order_by_number",
    "place_order",
    "points_balance",
    "product_by_code",
    "product_by_phone_code",
    "recent_orders_for_caller",
    "recent_points",
    "record_stock_count",
    "record_voicemail",
    "redeem_points",
    "request_callback",
    "search_knowledge",
    "search_products",
    "stock_available",
    "transfer_stock",
]
