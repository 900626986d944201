"""Catalogue: products (with their IVR phone codes), categories, suppliers, couriers and promotions."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import joinedload
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from admin.forms import Translated, e164_filter, enum_choices
from admin.i18n import lazy_gettext as _l
from admin.views.base import SecureModelView
from admin.views.formatting import fmt_datetime, fmt_money, fmt_relation
from crm_core.enums import DiscountRule, ProductStatus
from crm_core.models import Product


class ProductView(SecureModelView):
    column_list = ("sku", "phone_code", "name", "category", "supplier", "price", "status", "updated_at")
    column_formatters = {"price": fmt_money, "category": fmt_relation("name"), "supplier": fmt_relation("name"),
                         "updated_at": fmt_datetime}
    column_searchable_list = ("sku", "phone_code", "name", "name_en")
    column_filters = ("status", "category.name", "supplier.name", "price")
    column_labels = {"name_en": _l("Name (English)"), "description_en": _l("Description (English)")}
    column_sortable_list = ("sku", "phone_code", "name", "price")
    column_default_sort = ("id", True)
    column_export_list = ("id", "sku", "phone_code", "name", "category", "supplier", "price", "status")
    column_formatters_export = {"category": fmt_relation("name"), "supplier": fmt_relation("name")}
    form_columns = ("sku", "phone_code", "name", "name_en", "description", "description_en", "category", "supplier",
                    "price", "status")
    form_choices = {"status": enum_choices(ProductStatus)}
    form_args = {
        "price": {"validators": [Translated(NumberRange(min=0), _l("The price cannot be negative."))]},
        "phone_code": {"validators": [Translated(Regexp(r"^\d{1,8}$"), _l("1 to 8 digits a caller can key in."))]},
    }

    def get_query(self) -> Any:
        return super().get_query().options(joinedload(Product.category), joinedload(Product.supplier))


class CategoryView(SecureModelView):
    column_list = ("name", "parent_id")
    column_searchable_list = ("name",)
    column_sortable_list = ("name",)
    form_columns = ("name", "parent_id")
    column_labels = {"parent_id": _l("Parent category id")}


def _has_waybill_slot(form: Any, field: Any) -> None:
    """A tracking address must say where the waybill goes, or every parcel would get the same page."""
    if field.data and "{waybill}" not in field.data:
        raise ValidationError(_l("Put {waybill} where the waybill number goes."))


class SupplierView(SecureModelView):
    column_list = ("name", "contact_name", "phone", "email", "active")
    column_searchable_list = ("name", "contact_name", "phone")
    column_filters = ("active",)
    column_sortable_list = ("name",)
    form_columns = ("name", "contact_name", "phone", "email", "active")
    form_args = {"phone": {"filters": [e164_filter]}}
    column_labels = {"contact_name": _l("Contact")}


class CourierView(SecureModelView):
    """Delivery companies: the names offered when an order ships, and their tracking pages."""

    column_list = ("name", "code", "phone", "tracking_url", "active")
    column_searchable_list = ("name", "code")
    column_filters = ("active",)
    column_sortable_list = ("name", "code")
    form_columns = ("name", "code", "phone", "tracking_url", "active")
    form_args = {"name": {"validators": [DataRequired(), Length(max=40)]},
                 "tracking_url": {"validators": [Optional(), URL(require_tld=False), _has_waybill_slot]}}
    column_labels = {"tracking_url": _l("Tracking page ({waybill} is replaced)")}


class PromotionView(SecureModelView):
    column_list = ("name", "rule", "percent", "amount_off", "starts_at", "ends_at", "active")
    column_formatters = {"starts_at": fmt_datetime, "ends_at": fmt_datetime, "amount_off": fmt_money}
    column_searchable_list = ("name",)
    column_filters = ("rule", "active", "starts_at", "ends_at")
    column_sortable_list = ("name", "starts_at")
    column_default_sort = ("starts_at", True)
    form_columns = ("name", "rule", "percent", "amount_off", "buy_quantity", "free_quantity", "starts_at", "ends_at",
                    "announcement", "active", "products")
    form_choices = {"rule": enum_choices(DiscountRule)}
    form_args = {
        "percent": {"validators": [Optional(), NumberRange(min=0.01, max=100)]},
        "amount_off": {"validators": [Optional(), NumberRange(min=0.01)]},
        "buy_quantity": {"validators": [Optional(), NumberRange(min=1)]},
        "free_quantity": {"validators": [Optional(), NumberRange(min=1)]},
    }
    form_ajax_refs = {"products": {"fields": ("sku", "name", "phone_code"), "page_size": 10}}
    column_labels = {"percent": _l("Percent off"), "amount_off": _l("Amount off"),
                     "announcement": _l("IVR announcement"), "products": _l("Products")}

    def prepare_model(self, form: Any, model: Any, is_created: bool) -> None:
        if model.starts_at and model.ends_at and model.ends_at <= model.starts_at:
            from crm_core.exceptions import InvalidInput

            raise InvalidInput("a promotion must end after it starts")
