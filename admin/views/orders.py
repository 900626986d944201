"""Orders: list with search by number or phone, filters, and status changes only through the service.

The status field is never in a form. The "change status" page offers the
moves ``ORDER_TRANSITIONS`` allows from the current status and calls
``crm_core.services.orders.change_order_status``, which applies the stock and
points effects and refuses anything else with its own error, shown as is.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import DateTimeBetweenFilter, FilterEqual, FilterLike
from flask_admin.model.template import EndpointLinkRowAction
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import any_, func, select, union
from sqlalchemy.orm import joinedload, selectinload
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from admin.extensions import db
from admin.labels import code_label
from admin.forms import e164_filter, enum_choices
from admin.i18n import gettext, lazy_gettext as _l
from admin.views.base import SecureModelView
from admin.views.formatting import badge, fmt_datetime, fmt_money, table
from crm_core.enums import ORDER_TRANSITIONS, Channel, OrderStatus
from crm_core.models import Courier, CustomerPhone, Order, OrderItem
from crm_core.phones import try_e164
from crm_core.services.notifications import notify_status_change
from crm_core.services.orders import change_order_status

STATUS_BADGES = {"ordered": "primary", "shipped": "info", "delivered": "success", "settled": "dark",
                 "returned": "warning", "exchanged": "warning", "cancelled": "secondary"}


def next_statuses(status: str) -> list[str]:
    """The statuses an order in ``status`` may move to, in life-cycle order."""
    order = list(OrderStatus)
    return sorted((t.value for f, t in ORDER_TRANSITIONS if f.value == status), key=lambda v: order.index(v))


def _status(_view: Any, _ctx: Any, model: Order, name: str) -> Any:
    return badge(code_label(model.status), STATUS_BADGES.get(model.status, "secondary"), f"status-{model.status}")


def _items(_view: Any, _ctx: Any, model: Order, _name: str) -> Any:
    return table([gettext("Product"), gettext("Quantity"), gettext("Unit price"), gettext("Total")],
                 ((f"{i.product.sku} {i.product.name}", i.quantity, i.unit_price, i.line_total)
                  for i in model.items))


def _history(_view: Any, _ctx: Any, model: Order, _name: str) -> Any:
    return table([gettext("When"), gettext("From"), gettext("To"), gettext("By"), gettext("Reason")],
                 ((h.changed_at.strftime("%Y-%m-%d %H:%M"), h.from_status, h.to_status, h.changed_by, h.reason)
                  for h in model.history))


def active_courier_names() -> set[str]:
    """Names an order may ship with (empty when no courier is set up: then any name is taken as typed)."""
    return set(db.session.scalars(select(Courier.name).where(Courier.active.is_(True))))


class StatusForm(FlaskForm):
    # validate_choice=False: the service, not the form, is the judge of a move (its error is shown).
    to_status = SelectField(_l("New status"), validate_choice=False)
    courier = StringField(_l("Courier"), validators=[Optional(), Length(max=40)])
    waybill = StringField(_l("Waybill"), validators=[Optional(), Length(max=40)])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=255)])


class OrderView(SecureModelView):
    column_list = ("number", "customer", "status", "total", "channel", "media_source", "created_at")
    column_formatters = {"customer": lambda v, c, m, n: m.customer.name, "status": _status, "total": fmt_money,
                         "created_at": fmt_datetime}
    column_details_list = ("number", "customer", "status", "channel", "media_source", "delivery_method",
                           "payment_method", "ship_to_name", "ship_to_phone", "ship_to_address", "courier",
                           "waybill", "subtotal", "discount", "total", "points_earned", "special_requests",
                           "created_by", "created_at", "items", "history")
    column_formatters_detail = {**column_formatters, "items": _items, "history": _history,
                                "subtotal": fmt_money, "discount": fmt_money}
    column_labels = {"items": _l("Items"), "history": _l("Status history"), "ship_to_name": _l("Ship to"),
                     "ship_to_phone": _l("Ship to phone"), "ship_to_address": _l("Ship to address"),
                     "special_requests": _l("Special requests")}
    column_export_list = ("number", "customer", "status", "subtotal", "discount", "total", "channel",
                          "media_source", "delivery_method", "payment_method", "courier", "waybill", "created_at")
    column_formatters_export = {"customer": lambda v, c, m, n: m.customer.name}
    column_searchable_list = ("number", "customer.name")
    column_filters = (
        FilterEqual(Order.status, _l("Status"), options=enum_choices(OrderStatus)),
        FilterEqual(Order.channel, _l("Channel"), options=enum_choices(Channel)),
        FilterEqual(Order.media_source, _l("Media source")),
        FilterLike(Order.media_source, _l("Media source")),
        DateTimeBetweenFilter(Order.created_at, _l("Created")),
    )
    # sortable only on indexed columns (the list must stay fast with a million orders)
    column_sortable_list = ("number", "status", "media_source", "created_at")
    column_default_sort = ("id", True)
    form_columns = ("ship_to_name", "ship_to_phone", "ship_to_address", "special_requests", "urgent",
                    "want_invoice", "invoice_title")
    form_args = {"ship_to_phone": {"filters": [e164_filter]}}
    details_template = "admin/order_details.html"
    column_extra_row_actions = [EndpointLinkRowAction("fa fa-exchange-alt", ".status_view", title=_l("Change status"))]
    method_permissions = {"status_view": "status"}

    def get_query(self) -> Any:
        return super().get_query().options(joinedload(Order.customer))

    def get_count_query(self) -> Any:
        # a million orders: the pager counts at most COUNT_CAP + 1 rows (admin/views/paging.py)
        from admin.views.paging import CappedCount

        return CappedCount(super().get_count_query())

    def get_one(self, id: Any) -> Any:
        return db.session.scalars(
            select(Order).where(Order.id == int(id)).options(
                joinedload(Order.customer), selectinload(Order.items).joinedload(OrderItem.product),
                selectinload(Order.history))
        ).first()

    def _apply_search(self, query: Any, count_query: Any, joins: Any, count_joins: Any, search: str) -> Any:
        term = search.strip()
        digits = "".join(ch for ch in term if ch.isdigit())
        if len(digits) == 10 and digits == term:  # an order number: exact, uses the unique index
            cond = Order.number == digits
        else:
            e164 = try_e164(term) if len(digits) >= 7 else None
            if e164 is None:
                return super()._apply_search(query, count_query, joins, count_joins, search)
            # Two index look-ups joined by UNION, not ``customer_id IN (...) OR ship_to_phone = ...``: with
            # the OR, PostgreSQL walks the primary key backwards (ORDER BY id DESC LIMIT) filtering every
            # order until it has a page, which for a customer with few recent orders is most of the table.
            # On PostgreSQL the ids are collected first (``id = ANY(ARRAY(...))``, one InitPlan), so the
            # page is those rows fetched by primary key and sorted: even ``IN (UNION)`` may still be
            # merge-joined against the backward primary-key walk, as slow as the OR for old orders.
            owners = select(CustomerPhone.customer_id).where(CustomerPhone.e164 == e164)
            matching = union(select(Order.id).where(Order.customer_id.in_(owners)),
                             select(Order.id).where(Order.ship_to_phone == e164))
            if db.session.get_bind().dialect.name == "postgresql":
                cond = Order.id == any_(func.array(matching.scalar_subquery()))
            else:
                cond = Order.id.in_(select(matching.subquery().c.id))
        query = query.filter(cond)
        if count_query is not None:
            count_query = count_query.filter(cond)
        return query, count_query, joins, count_joins

    @expose("/status/<int:id>", methods=("GET", "POST"))
    def status_view(self, id: int) -> Any:
        order = self.get_one(id)
        if order is None:
            return redirect(url_for(".index_view"))
        form = StatusForm()
        form.to_status.choices = [(s, code_label(s)) for s in next_statuses(order.status)]
        back = url_for(".details_view", id=id)
        couriers = active_courier_names()
        if form.validate_on_submit():
            target, previous = form.to_status.data, order.status
            if target not in {s.value for s in OrderStatus}:
                flash(gettext("Unknown status %(status)s.", status=target), "error")
            elif form.courier.data and couriers and form.courier.data not in couriers:
                flash(gettext("Unknown courier %(name)s: choose one of %(names)s (Inventory → Couriers).",
                              name=form.courier.data, names=", ".join(sorted(couriers))), "error")
            elif self.service_call(
                "order-status", order,
                lambda: notify_status_change(db.session, change_order_status(
                    db.session, order.number, target, by=current_user.username, reason=form.reason.data or None,
                    courier=form.courier.data or None, waybill=form.waybill.data or None), by=current_user.username),
                from_status=previous, to_status=target, reason=form.reason.data or None,
            ):
                flash(gettext("Order %(number)s is now %(status)s.", number=order.number, status=code_label(target)),
                      "success")
                return redirect(back)
        title = gettext("Change the status of order %(number)s (now: %(status)s)", number=order.number,
                        status=code_label(order.status))
        return self.render("admin/service_form.html", form=form, return_url=back, title=title), \
            (400 if request.method == "POST" else 200)
