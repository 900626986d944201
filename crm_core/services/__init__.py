"""Domain services: plain functions taking a Session, shared by IVR, ACD and the admin desk.

They flush but never commit: the caller's ``crm_core.db.transaction`` decides.
Failures raise the typed errors of ``crm_core.exceptions``.
"""

from crm_core.services.audit import record_audit
from crm_core.services.catalogue import active_promotions, product_by_code, product_by_phone_code, search_products
from crm_core.services.customers import (
    add_phone,
    create_customer,
    find_customer_by_phone,
    active_marks,
    is_blacklisted,
    mark_blacklist,
    unmark_blacklist,
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
from crm_core.services.queues import join_queue, leave_queue, memberships, queue_members
from crm_core.services.support import (
    change_complaint_status,
    file_complaint,
    log_interaction,
    log_interactions,
    record_voicemail,
    request_callback,
    resolve_complaint,
    search_knowledge,
    update_callback,
)

__all__ = [
    "active_marks",
    "active_promotions",
    "add_phone",
    "adjust_points",
    "adjust_stock",
    "change_complaint_status",
    "change_order_status",
    "create_customer",
    "earn_points",
    "expire_points",
    "file_complaint",
    "find_customer_by_phone",
    "is_blacklisted",
    "join_queue",
    "leave_queue",
    "log_interaction",
    "log_interactions",
    "low_stock",
    "mark_blacklist",
    "memberships",
    "new_order_number",
    "order_by_number",
    "place_order",
    "points_balance",
    "product_by_code",
    "product_by_phone_code",
    "queue_members",
    "recent_orders_for_caller",
    "recent_points",
    "record_audit",
    "record_stock_count",
    "record_voicemail",
    "redeem_points",
    "request_callback",
    "resolve_complaint",
    "search_knowledge",
    "search_products",
    "stock_available",
    "transfer_stock",
    "unmark_blacklist",
    "update_callback",
]
