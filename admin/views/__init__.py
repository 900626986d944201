"""All admin views, registered in one place with their endpoint (the key of the roles matrix) and menu."""

from __future__ import annotations

from flask_admin import Admin

from admin.i18n import lazy_gettext as _l
from admin.views.acd import AgentView, QueueView, SkillMatrixView, SkillView
from admin.views.audit_log import AuditLogView
from admin.views.catalogue import CategoryView, CourierView, ProductView, PromotionView, SupplierView
from admin.views.desk import DeskQuestionsView, DeskView
from admin.views.customers import BlacklistView, CustomerView, InteractionView, PointsLedgerView
from admin.views.inventory import StockView, WarehouseView
from admin.views.marketing import MediaPlanView
from admin.views.orders import OrderView
from admin.views.service import ComplaintView, KnowledgeView, VoicemailView
from admin.views.users import UserView
from crm_core.models import (
    Agent,
    AdminUser,
    AuditEntry,
    BlacklistMark,
    Category,
    Complaint,
    Courier,
    Customer,
    Interaction,
    KnowledgeArticle,
    MediaPlan,
    Order,
    PointsEntry,
    Product,
    Promotion,
    Queue,
    Skill,
    Stock,
    Supplier,
    Voicemail,
    Warehouse,
)


def register_reports_and_campaigns(admin: Admin, marketing: object) -> None:
    """Campaigns, contacts and the do-not-call list (marketing); reports and the wallboard (a menu of their own)."""
    from admin.views.campaign_console import CampaignConsoleView
    from admin.views.campaigns import CampaignAttemptView, CampaignContactView, CampaignView, DoNotCallView, SegmentView
    from admin.views.reports import ReportsView
    from admin.views.wallboard import WallboardView
    from crm_core.models import Campaign, CampaignAttempt, CampaignContact, CustomerSegment, DoNotCall

    admin.add_view(CampaignView(Campaign, name=_l("Campaigns"), endpoint="campaigns", category=marketing))
    admin.add_view(CampaignConsoleView(name=_l("Campaign console"), endpoint="campaign_console", category=marketing))
    admin.add_view(CampaignContactView(CampaignContact, name=_l("Campaign contacts"), endpoint="campaign_contacts",
                                       category=marketing))
    admin.add_view(DoNotCallView(DoNotCall, name=_l("Do-not-call list"), endpoint="do_not_call", category=marketing))
    admin.add_view(CampaignAttemptView(CampaignAttempt, name=_l("Campaign attempts"), endpoint="campaign_attempts",
                                       category=marketing))
    admin.add_view(SegmentView(CustomerSegment, name=_l("Customer segments"), endpoint="segments",
                               category=marketing))
    reports = _l("Reports")
    admin.add_view(ReportsView(name=_l("Reports"), endpoint="reports", category=reports))
    admin.add_view(WallboardView(name=_l("Wallboard"), endpoint="wallboard", category=reports))


def register_ivr(admin: Admin) -> None:
    """The IVR editor and the test-call page (menu "IVR")."""
    from admin.views.ivr_editor import IvrEditorView
    from admin.views.test_call import TestCallView

    ivr = _l("IVR")
    admin.add_view(IvrEditorView(name=_l("Menu editor"), endpoint="ivr_editor", category=ivr))
    admin.add_view(TestCallView(name=_l("Test call"), endpoint="test_call", category=ivr))


def register_messaging(admin: Admin) -> None:
    """The outbox, what came in (faxes, SMS), templates and gateways (menu "Messaging")."""
    from admin.views.messaging_inbox import FaxFileView, FaxInboxView, InboundSmsView
    from admin.views.messaging_outbox import CapturedMessageView, OutboxView
    from admin.views.messaging_setup import GatewayView, MessageTemplateView
    from crm_core.models import CapturedMessage, InboundFax, InboundMessage, MessageGateway, MessageTemplate, \
        OutboxMessage

    messaging = _l("Messaging")
    admin.add_view(OutboxView(OutboxMessage, name=_l("Outbox"), endpoint="outbox", category=messaging))
    admin.add_view(FaxInboxView(InboundFax, name=_l("Fax inbox"), endpoint="fax_inbox", category=messaging))
    admin.add_view(InboundSmsView(InboundMessage, name=_l("Inbound SMS and bounces"), endpoint="inbound_messages",
                                  category=messaging))
    admin.add_view(MessageTemplateView(MessageTemplate, name=_l("Message templates"), endpoint="message_templates",
                                       category=messaging))
    admin.add_view(GatewayView(MessageGateway, name=_l("Gateways"), endpoint="message_gateways", category=messaging))
    admin.add_view(CapturedMessageView(CapturedMessage, name=_l("Capture gateway mailbox"),
                                       endpoint="captured_messages", category=messaging))
    admin.add_view(FaxFileView(name=_l("Fax documents"), endpoint="fax_files"))


def register_views(admin: Admin) -> None:
    """Add every back-office view to ``admin`` (endpoints must match ``admin.roles.MATRIX``)."""
    customers, catalogue, stock, service = _l("Customers"), _l("Catalogue"), _l("Inventory"), _l("Service")
    acd, marketing, system = _l("Contact center"), _l("Marketing"), _l("System")
    admin.add_view(DeskView(name=_l("Agent desk"), endpoint="desk"))
    admin.add_view(DeskQuestionsView(name=_l("Agent questions"), endpoint="desk_questions"))
    admin.add_view(OrderView(Order, name=_l("Orders"), endpoint="orders"))
    admin.add_view(CourierView(Courier, name=_l("Couriers"), endpoint="couriers", category=stock))
    admin.add_view(CustomerView(Customer, name=_l("Customers"), endpoint="customers", category=customers))
    admin.add_view(PointsLedgerView(PointsEntry, name=_l("Points ledger"), endpoint="points", category=customers))
    admin.add_view(BlacklistView(BlacklistMark, name=_l("Blacklist marks"), endpoint="blacklist",
                                 category=customers))
    admin.add_view(InteractionView(Interaction, name=_l("Interactions"), endpoint="interactions",
                                   category=customers))
    admin.add_view(ProductView(Product, name=_l("Products"), endpoint="products", category=catalogue))
    admin.add_view(CategoryView(Category, name=_l("Categories"), endpoint="categories", category=catalogue))
    admin.add_view(SupplierView(Supplier, name=_l("Suppliers"), endpoint="suppliers", category=catalogue))
    admin.add_view(PromotionView(Promotion, name=_l("Promotions"), endpoint="promotions", category=catalogue))
    admin.add_view(StockView(Stock, name=_l("Stock"), endpoint="stock", category=stock))
    admin.add_view(WarehouseView(Warehouse, name=_l("Warehouses"), endpoint="warehouses", category=stock))
    admin.add_view(ComplaintView(Complaint, name=_l("Complaints"), endpoint="complaints", category=service))
    admin.add_view(VoicemailView(Voicemail, name=_l("Voicemails"), endpoint="voicemails", category=service))
    admin.add_view(KnowledgeView(KnowledgeArticle, name=_l("Knowledge base"), endpoint="knowledge",
                                 category=service))
    admin.add_view(MediaPlanView(MediaPlan, name=_l("Media plans"), endpoint="media_plans", category=marketing))
    register_reports_and_campaigns(admin, marketing)
    admin.add_view(QueueView(Queue, name=_l("Queues"), endpoint="queues", category=acd))
    admin.add_view(SkillView(Skill, name=_l("Skills"), endpoint="skills", category=acd))
    admin.add_view(AgentView(Agent, name=_l("Agents"), endpoint="agents", category=acd))
    admin.add_view(SkillMatrixView(name=_l("Agents × skills"), endpoint="skill_matrix", category=acd))
    register_ivr(admin)
    register_messaging(admin)
    admin.add_view(UserView(AdminUser, name=_l("Users"), endpoint="users", category=system))
    admin.add_view(AuditLogView(AuditEntry, name=_l("Audit log"), endpoint="audit", category=system))
