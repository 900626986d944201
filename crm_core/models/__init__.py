"""All models, imported together so ``Base.metadata`` is complete and relationships resolve."""

from crm_core.models.admin import AdminUser
from crm_core.models.audit import AuditEntry
from crm_core.models.campaign_attempts import CampaignAnswer, CampaignAttempt, CampaignQuestion
from crm_core.models.campaigns import Campaign, CampaignContact, CustomerSegment, DoNotCall, MediaAirTime, MediaPlan
from crm_core.models.catalogue import Category, Product, Promotion, Supplier, promotion_products
from crm_core.models.contact_center import (
    Agent,
    AgentQueue,
    AgentSkill,
    AgentStateChange,
    CallDetailRecord,
    Queue,
    QueueSkill,
    Skill,
)
from crm_core.models.dialer_status import DialerStatus
from crm_core.models.customers import Address, BlacklistMark, Customer, CustomerPhone, CustomerTag, PointsEntry
from crm_core.models.ivr_menus import IvrMenu, IvrMenuVersion
from crm_core.models.login_throttle import LoginThrottle
from crm_core.models.inventory import (
    Stock,
    StockAdjustment,
    StockCount,
    StockReservation,
    StockTransfer,
    Warehouse,
)
from crm_core.models.messaging import (
    CapturedMessage,
    InboundFax,
    InboundMessage,
    MessageGateway,
    MessageOptOut,
    MessageTemplate,
    OutboxMessage,
)
from crm_core.models.orders import Courier, Order, OrderItem, OrderStatusChange, OrderStatusTransition
from crm_core.models.service import CallbackRequest, Complaint, Interaction, KnowledgeArticle, Voicemail

__all__ = [
    "Address",
    "AdminUser",
    "Agent",
    "AgentQueue",
    "AgentSkill",
    "AgentStateChange",
    "AuditEntry",
    "BlacklistMark",
    "CapturedMessage",
    "CallDetailRecord",
    "CallbackRequest",
    "Campaign",
    "CampaignAnswer",
    "CampaignAttempt",
    "CampaignContact",
    "CampaignQuestion",
    "Category",
    "Complaint",
    "Courier",
    "DialerStatus",
    "Customer",
    "CustomerPhone",
    "CustomerSegment",
    "CustomerTag",
    "DoNotCall",
    "InboundFax",
    "InboundMessage",
    "Interaction",
    "IvrMenu",
    "IvrMenuVersion",
    "KnowledgeArticle",
    "LoginThrottle",
    "MediaAirTime",
    "MediaPlan",
    "MessageGateway",
    "MessageOptOut",
    "MessageTemplate",
    "Order",
    "OrderItem",
    "OrderStatusChange",
    "OrderStatusTransition",
    "OutboxMessage",
    "PointsEntry",
    "Product",
    "Promotion",
    "Queue",
    "QueueSkill",
    "Skill",
    "Stock",
    "StockAdjustment",
    "StockCount",
    "StockReservation",
    "StockTransfer",
    "Supplier",
    "Voicemail",
    "Warehouse",
    "promotion_products",
]
