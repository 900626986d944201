"""The fixed vocabularies of the record, one ``StrEnum`` each, shared by models, checks and services."""

from __future__ import annotations

from enum import StrEnum


class MemberLevel(StrEnum):
    NORMAL = "normal"
    SILVER = "silver"
    GOLD = "gold"
    PLATINUM = "platinum"
    DIAMOND = "diamond"


class NotifyChannel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    FAX = "fax"
    VOICE = "voice"


class PhoneKind(StrEnum):
    MOBILE = "mobile"
    HOME = "home"
    WORK = "work"
    FAX = "fax"


class PointsKind(StrEnum):
    EARN = "earn"
    REDEEM = "redeem"
    EXPIRE = "expire"
    ADJUST = "adjust"


class ProductStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    DISCONTINUED = "discontinued"


class DiscountRule(StrEnum):
    PERCENT = "percent"
    AMOUNT_OFF = "amount_off"
    BUY_X_GET_Y = "buy_x_get_y"


class ReservationStatus(StrEnum):
    HELD = "held"
    RELEASED = "released"
    CONSUMED = "consumed"


class TransferStatus(StrEnum):
    REQUESTED = "requested"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class OrderStatus(StrEnum):
    ORDERED = "ordered"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    SETTLED = "settled"
    RETURNED = "returned"
    EXCHANGED = "exchanged"
    CANCELLED = "cancelled"


class DeliveryMethod(StrEnum):
    COURIER = "courier"
    EXPRESS = "express"
    PICKUP = "pickup"
    POST = "post"


class PaymentMethod(StrEnum):
    COD = "cod"
    CARD = "card"
    ALIPAY = "alipay"
    WECHAT = "wechat"
    BANK_TRANSFER = "bank_transfer"
    POINTS = "points"


class Channel(StrEnum):
    """Where a touch happened (orders, complaints, interactions)."""

    CALL = "call"
    IVR = "ivr"
    AGENT = "agent"
    IM = "im"
    EMAIL = "email"
    SMS = "sms"
    FAX = "fax"
    WEB = "web"


class ComplaintCategory(StrEnum):
    PRODUCT_QUALITY = "product_quality"
    SERVICE = "service"
    LOGISTICS = "logistics"
    OTHER = "other"


class ComplaintStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class CallbackStatus(StrEnum):
    PENDING = "pending"
    SCHEDULED = "scheduled"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    BREAK = "break"


class CampaignMode(StrEnum):
    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"
    IVR = "ivr"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"


class ContactStatus(StrEnum):
    PENDING = "pending"
    DIALING = "dialing"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


class MediaKind(StrEnum):
    TV = "tv"
    RADIO = "radio"
    PRINT = "print"
    SMS = "sms"
    WEB = "web"


class AdminRole(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    CAMPAIGN_MANAGER = "campaign_manager"
    AGENT = "agent"


#: The order life cycle: the only moves ``change_order_status`` will make.
#: The database holds the same pairs in ``order_status_transitions`` and every
#: status-history row references one of them.
ORDER_TRANSITIONS: frozenset[tuple[OrderStatus, OrderStatus]] = frozenset(
    {
        (OrderStatus.ORDERED, OrderStatus.SHIPPED),
        (OrderStatus.ORDERED, OrderStatus.CANCELLED),
        (OrderStatus.SHIPPED, OrderStatus.DELIVERED),
        (OrderStatus.SHIPPED, OrderStatus.RETURNED),
        (OrderStatus.DELIVERED, OrderStatus.SETTLED),
        (OrderStatus.DELIVERED, OrderStatus.RETURNED),
        (OrderStatus.DELIVERED, OrderStatus.EXCHANGED),
        (OrderStatus.EXCHANGED, OrderStatus.SHIPPED),
    }
)
