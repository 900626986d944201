"""Warehouses and stock: low rows (available at or under the warning line) are highlighted.

``on_hand`` changes only through ``adjust_stock`` (each change logged with
who and why); the stock form edits just the warning line of an existing row.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.model.template import EndpointLinkRowAction
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy.orm import joinedload
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, ValidationError

from admin.extensions import db
from admin.i18n import gettext, lazy_gettext as _l
from admin.views.base import SecureModelView
from admin.views.formatting import badge, fmt_datetime
from crm_core.models import Stock
from crm_core.services.inventory import adjust_stock


class WarehouseView(SecureModelView):
    column_list = ("code", "name", "address", "priority", "active")
    column_searchable_list = ("code", "name")
    column_filters = ("active",)
    column_sortable_list = ("code", "name", "priority")
    form_columns = ("code", "name", "address", "priority", "active")
    form_args = {"priority": {"validators": [NumberRange(min=0)]}}
    column_labels = {"code": _l("Code"), "address": _l("Address"), "priority": _l("Priority")}


def _available(_view: Any, _ctx: Any, model: Stock, _name: str) -> Any:
    if model.is_low:
        return badge(str(model.available), "danger", "low-stock")
    return Markup(str(model.available))


class StockAdjustForm(FlaskForm):
    delta = IntegerField(_l("Change (+/-)"), validators=[DataRequired(), NumberRange(-1_000_000, 1_000_000)])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=255)])

    def validate_delta(self, field: IntegerField) -> None:
        if field.data == 0:
            raise ValidationError(gettext("The change cannot be zero."))


class StockView(SecureModelView):
    column_list = ("product", "warehouse", "on_hand", "reserved", "available", "warning_level", "updated_at")
    column_formatters = {"product": lambda v, c, m, n: f"{m.product.sku} {m.product.name}",
                         "warehouse": lambda v, c, m, n: m.warehouse.code,
                         "available": _available, "updated_at": fmt_datetime}
    column_formatters_export = {"product": lambda v, c, m, n: m.product.sku,
                                "warehouse": lambda v, c, m, n: m.warehouse.code,
                                "available": lambda v, c, m, n: m.available}
    column_export_list = ("product", "warehouse", "on_hand", "reserved", "available", "warning_level")
    column_filters = ("warehouse.code", "product.sku", "on_hand", "warning_level")
    column_searchable_list = ("product.sku", "product.name")
    column_sortable_list = ("on_hand", "warning_level")
    column_default_sort = ("id", False)
    form_columns = ("product", "warehouse", "on_hand", "warning_level")
    form_args = {"on_hand": {"validators": [NumberRange(min=0)]},
                 "warning_level": {"validators": [NumberRange(min=0)]}}
    form_ajax_refs = {"product": {"fields": ("sku", "name"), "page_size": 10}}
    column_extra_row_actions = [EndpointLinkRowAction("fa fa-balance-scale", ".adjust_view", title=_l("Adjust"))]
    method_permissions = {"adjust_view": "adjust"}

    def get_query(self) -> Any:
        return super().get_query().options(joinedload(Stock.product), joinedload(Stock.warehouse))

    def edit_form(self, obj: Any = None) -> Any:
        form = super().edit_form(obj)
        for name in ("product", "warehouse", "on_hand"):  # an existing row: only the warning line is edited
            delattr(form, name)
        return form

    @expose("/adjust/<int:id>", methods=("GET", "POST"))
    def adjust_view(self, id: int) -> Any:
        stock = db.session.get(Stock, id)
        if stock is None:
            return redirect(url_for(".index_view"))
        form = StockAdjustForm()
        back = url_for(".index_view")
        if form.validate_on_submit():
            ok = self.service_call(
                "stock-adjust", stock,
                lambda: adjust_stock(db.session, id, form.delta.data, reason=form.reason.data,
                                     by=current_user.username),
                delta=form.delta.data, reason=form.reason.data,
            )
            if ok:
                flash(gettext("Stock adjusted."), "success")
                return redirect(back)
        title = gettext("Adjust stock of %(sku)s in %(wh)s (on hand %(n)s)",
                        sku=stock.product.sku, wh=stock.warehouse.code, n=stock.on_hand)
        return self.render("admin/service_form.html", form=form, return_url=back, title=title), \
            (400 if request.method == "POST" else 200)
