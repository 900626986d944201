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
    """A callback request's life: requested (stored ``pending``) -> scheduled -> in_progress -> completed
    (stored ``done``) | failed | cancelled. ``REQUESTED`` and ``COMPLETED`` are aliases of the stored values."""

    PENDING = "pending"
    SCHEDULED = "scheduled"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    IN_PROGRESS = "in_progress"
    REQUESTED = "pending"  # alias of PENDING
    COMPLETED = "done"  # alias of DONE


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
    NOT_READY = "not_ready"  # the reason column holds the reason code
    BREAK = "break"


class IvrOutcome(StrEnum):
    """How a call's self-service ended (``call_detail_records.ivr_outcome``)."""

    CONTAINED = "contained"  # served in the IVR and ended there
    TO_AGENT = "to_agent"  # handed to the ACD
    ABANDONED = "abandoned"  # the caller hung up in the IVR before being served
    HUNG_UP = "hung_up"  # the IVR ended the call unserved (hang-up node, rejected caller, failure)


class HangupSide(StrEnum):
    """Who ended a call (``call_detail_records.hangup_side``)."""

    CALLER = "caller"
    AGENT = "agent"
    SYSTEM = "system"


class AuditAction(StrEnum):
    """The usual actions of the admin audit log (the column is free text: views add their own, e.g. login)."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    OTHER = "other"


class CampaignMode(StrEnum):
    """How a campaign paces and what an answered call meets: an agent (the first four) or a script (``ivr``)."""

    PREVIEW = "preview"  # the agent sees the contact first and dials or skips
    PROGRESSIVE = "progressive"  # one call per free campaign agent
    RATIO = "ratio"  # a fixed number of calls per free agent (the naive baseline)
    PREDICTIVE = "predictive"  # paced from answer rate, handle times and agents about to free up
    IVR = "ivr"  # automated: an IVR script or a voice file, no agent


class CampaignStatus(StrEnum):
    """A campaign's life: draft -> scheduled -> running <-> paused -> completed | stopped."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    STOPPED = "stopped"


class AttemptResult(StrEnum):
    """How one dial attempt of a campaign contact ended (``blocked_*`` and ``skipped`` ones were never dialled)."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    MACHINE = "machine"
    ABANDONED = "abandoned"  # answered by a person, no agent within the connect deadline
    BLOCKED_DNC = "blocked_dnc"
    BLOCKED_HOURS = "blocked_hours"
    SKIPPED = "skipped"  # a preview agent skipped the contact (the cause is the agent's reason)


#: Attempt results of contacts nobody dialled: campaign figures do not count them as dialled.
NOT_DIALLED = frozenset({AttemptResult.BLOCKED_DNC.value, AttemptResult.BLOCKED_HOURS.value,
                         AttemptResult.SKIPPED.value})


class AmdPolicy(StrEnum):
    """What an answered campaign call does about answering machines."""

    OFF = "off"  # no detection: every answer is treated as a person
    HANGUP = "hangup"  # detect; hang up on machines
    LEAVE_MESSAGE = "leave_message"  # detect; wait for the beep, play the voice file, hang up
    TREAT_AS_LIVE = "live"  # detect and record, but handle machines like people


class BlendRule(StrEnum):
    """When an agent who also takes inbound calls may be given campaign calls."""

    DEDICATED = "dedicated"  # the campaign's agents take campaign calls whenever free
    SERVICE_LEVEL = "service_level"  # only while every inbound queue meets its service level
    NO_INBOUND_WAITING = "no_inbound_waiting"  # only while no inbound caller waits in the agent's queues


class ContactStatus(StrEnum):
    """A campaign contact: pending (due now or later) -> dialing (an attempt in flight) -> done | failed;
    skipped contacts are never dialled (``skip_reason`` says why)."""

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


#: Complaint life cycle: the moves ``change_complaint_status`` (and ``resolve_complaint``) will make.
COMPLAINT_TRANSITIONS: frozenset[tuple[ComplaintStatus, ComplaintStatus]] = frozenset(
    {
        (ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS),
        (ComplaintStatus.OPEN, ComplaintStatus.RESOLVED),
        (ComplaintStatus.IN_PROGRESS, ComplaintStatus.RESOLVED),
        (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED),
        (ComplaintStatus.RESOLVED, ComplaintStatus.IN_PROGRESS),  # reopened: the fix did not hold
    }
)

#: Callback request life cycle: the moves ``update_callback`` will make (in_progress -> scheduled is a retry).
CALLBACK_TRANSITIONS: frozenset[tuple[CallbackStatus, CallbackStatus]] = frozenset(
    {
        (CallbackStatus.PENDING, CallbackStatus.SCHEDULED),
        (CallbackStatus.PENDING, CallbackStatus.IN_PROGRESS),
        (CallbackStatus.PENDING, CallbackStatus.CANCELLED),
        (CallbackStatus.SCHEDULED, CallbackStatus.SCHEDULED),
        (CallbackStatus.SCHEDULED, CallbackStatus.IN_PROGRESS),
        (CallbackStatus.SCHEDULED, CallbackStatus.CANCELLED),
        (CallbackStatus.IN_PROGRESS, CallbackStatus.DONE),
        (CallbackStatus.IN_PROGRESS, CallbackStatus.FAILED),
        (CallbackStatus.IN_PROGRESS, CallbackStatus.SCHEDULED),
        (CallbackStatus.IN_PROGRESS, CallbackStatus.CANCELLED),
    }
)

#: Campaign life cycle: the moves ``crm_core.services.campaigns.change_campaign_status`` will make.
CAMPAIGN_TRANSITIONS: frozenset[tuple[CampaignStatus, CampaignStatus]] = frozenset(
    {
        (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED),
        (CampaignStatus.DRAFT, CampaignStatus.RUNNING),
        (CampaignStatus.SCHEDULED, CampaignStatus.DRAFT),  # unscheduled to edit it further
        (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING),
        (CampaignStatus.SCHEDULED, CampaignStatus.STOPPED),
        (CampaignStatus.RUNNING, CampaignStatus.PAUSED),
        (CampaignStatus.PAUSED, CampaignStatus.RUNNING),
        (CampaignStatus.RUNNING, CampaignStatus.COMPLETED),  # every contact done, failed or skipped
        (CampaignStatus.PAUSED, CampaignStatus.COMPLETED),
        (CampaignStatus.RUNNING, CampaignStatus.STOPPED),
        (CampaignStatus.PAUSED, CampaignStatus.STOPPED),
    }
)

class MessageStatus(StrEnum):
    """An outbox message's life: queued -> sending -> sent -> delivered, or failed / expired / cancelled."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


#: Statuses an outbox message never leaves.
FINAL_MESSAGE_STATUSES: frozenset[MessageStatus] = frozenset(
    {MessageStatus.DELIVERED, MessageStatus.FAILED, MessageStatus.EXPIRED, MessageStatus.CANCELLED}
)


class GatewayKind(StrEnum):
    """How a channel's messages leave: the adapters of ``messaging/``."""

    CAPTURE = "capture"
    HTTP = "http"
    SMPP = "smpp"
    SMTP = "smtp"
    FREESWITCH = "freeswitch"


class InboundKind(StrEnum):
    """What an inbound SMS (or e-mail) turned out to be."""

    REPLY = "reply"
    OPT_OUT = "opt_out"
    BOUNCE = "bounce"


class FaxStatus(StrEnum):
    RECEIVED = "received"
    FAILED = "failed"
