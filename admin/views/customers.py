"""Customers with their phones, addresses, points ledger, blacklist marks and interactions timeline.

Points change only through ``crm_core.services.points.adjust_points`` (the
ledger and the cached balance move together); blacklist marks go through
``mark_blacklist`` so the threshold rule applies.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_admin import expose
from markupsafe import Markup, escape
from flask_admin.model.form import InlineFormAdmin
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, ValidationError

from admin.extensions import db
from admin.forms import e164_filter, enum_choices
from admin.i18n import gettext, lazy_gettext as _l
from admin.views.base import SecureModelView, blacklist_threshold
from admin.views.formatting import fmt_datetime, table
from crm_core.enums import Channel, Direction, MemberLevel, NotifyChannel, PhoneKind
from crm_core.models import Address, Customer, CustomerPhone, InboundFax, Interaction, Order, OutboxMessage, \
    PointsEntry
from crm_core.phones import try_e164
from crm_core.services.customers import mark_blacklist
from crm_core.services.points import adjust_points

TIMELINE_LIMIT = 50


class PhoneInline(InlineFormAdmin):
    form_columns = ("id", "e164", "kind", "is_primary")
    form_label = _l("Phone")
    form_args = {"e164": {"label": _l("Phone number"), "filters": [e164_filter],
                          "validators": [DataRequired()]}}
    form_choices = {"kind": enum_choices(PhoneKind)}


class AddressInline(InlineFormAdmin):
    form_columns = ("id", "recipient", "phone", "province", "city", "district", "line1", "line2", "postcode",
                    "is_default")
    form_label = _l("Address")
    form_args = {"phone": {"filters": [e164_filter]}}


def _phones(_view: Any, _ctx: Any, model: Customer, _name: str) -> str:
    return ", ".join(p.e164 for p in model.phones)


def _timeline(_view: Any, _ctx: Any, model: Customer, _name: str) -> Any:
    rows = db.session.scalars(
        select(Interaction).where(Interaction.customer_id == model.id)
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc()).limit(TIMELINE_LIMIT)
    )
    return table([gettext("When"), gettext("Channel"), gettext("Direction"), gettext("Summary")],
                 ((i.occurred_at.strftime("%Y-%m-%d %H:%M"), i.channel, i.direction, i.summary) for i in rows))


def _orders(_view: Any, _ctx: Any, model: Customer, _name: str) -> Any:
    rows = db.session.scalars(
        select(Order).where(Order.customer_id == model.id).order_by(Order.created_at.desc()).limit(20)
    )
    return table([gettext("Number"), gettext("Status"), gettext("Total"), gettext("Created")],
                 ((o.number, o.status, o.total, o.created_at.strftime("%Y-%m-%d %H:%M")) for o in rows))


def _faxes(_view: Any, _ctx: Any, model: Customer, _name: str) -> Any:
    rows = db.session.scalars(select(InboundFax).where(InboundFax.customer_id == model.id)
                              .order_by(InboundFax.id.desc()).limit(20)).all()
    if not rows:
        return table([], [])
    links = "".join(
        f"<tr><td>{escape(f.received_at.strftime('%Y-%m-%d %H:%M'))}</td><td>{escape(f.status)}</td>"
        f"<td>{f.pages}</td><td>{escape(f.error or f.result_text or '')}</td><td>"
        + (f"<a href='{escape(url_for('fax_files.fax_file', id=f.id, kind='pdf'))}'>PDF</a>" if f.pdf_path else "")
        + f" <a href='{escape(url_for('fax_inbox.details_view', id=f.id))}'>#{f.id}</a></td></tr>" for f in rows)
    head = "".join(f"<th>{escape(h)}</th>" for h in (gettext("Received"), gettext("Status"), gettext("Pages"),
                                                     gettext("Result"), ""))
    return Markup(f"<table class='table table-sm table-striped mb-0' id='customer-faxes'><thead><tr>{head}</tr>"
                  f"</thead><tbody>{links}</tbody></table>")


def _messages(_view: Any, _ctx: Any, model: Customer, _name: str) -> Any:
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.customer_id == model.id)
                              .order_by(OutboxMessage.id.desc()).limit(20))
    return table([gettext("When"), gettext("Channel"), gettext("Status"), gettext("Template"), gettext("Text")],
                 ((m.created_at.strftime("%Y-%m-%d %H:%M"), m.channel, m.status, m.template or "",
                   (m.subject or m.body)[:60]) for m in rows))


def _ledger(_view: Any, _ctx: Any, model: Customer, _name: str) -> Any:
    rows = db.session.scalars(
        select(PointsEntry).where(PointsEntry.customer_id == model.id).order_by(PointsEntry.id.desc()).limit(20)
    )
    return table([gettext("When"), gettext("Kind"), gettext("Change"), gettext("Balance after"), gettext("Reason")],
                 ((e.created_at.strftime("%Y-%m-%d %H:%M"), e.kind, e.delta, e.balance_after, e.reason)
                  for e in rows))


def _customer_link(_view: Any, _ctx: Any, model: Any, name: str) -> Any:
    pk = getattr(model, name)
    if pk is None:
        return ""
    return Markup(f"<a href='{escape(url_for('customers.details_view', id=pk))}'>#{pk}</a>")


class PointsAdjustForm(FlaskForm):
    delta = IntegerField(_l("Change (+/-)"), validators=[DataRequired(), NumberRange(-1_000_000, 1_000_000)])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=255)])

    def validate_delta(self, field: IntegerField) -> None:
        if field.data == 0:
            raise ValidationError(gettext("The change cannot be zero."))


class CustomerView(SecureModelView):
    column_list = ("name", "phones", "member_level", "points_balance", "is_blacklisted", "created_at")
    column_details_list = ("name", "name_phonetic", "phones", "email", "birthday", "language", "notify_channel",
                           "member_level", "points_balance", "is_blacklisted", "notes", "created_at",
                           "orders", "points_ledger", "timeline", "faxes", "messages")
    column_formatters = {"phones": _phones, "created_at": fmt_datetime}
    column_formatters_detail = {"phones": _phones, "timeline": _timeline, "orders": _orders,
                                "points_ledger": _ledger, "created_at": fmt_datetime, "faxes": _faxes,
                                "messages": _messages}
    column_labels = {"timeline": _l("Interactions"), "orders": _l("Orders"), "points_ledger": _l("Points ledger"),
                     "faxes": _l("Faxes received"), "messages": _l("Messages sent")}
    column_searchable_list = ("name", "name_phonetic", "email")
    column_filters = ("member_level", "is_blacklisted", "language", "created_at")
    column_sortable_list = ("name", "member_level", "points_balance", "created_at")
    column_default_sort = ("id", True)
    column_export_list = ("id", "name", "phones", "email", "member_level", "points_balance", "is_blacklisted",
                          "created_at")
    column_formatters_export = {"phones": _phones}
    form_columns = ("name", "name_phonetic", "email", "birthday", "language", "notify_channel", "member_level",
                    "is_blacklisted", "notes", "phones", "addresses")
    form_choices = {"member_level": enum_choices(MemberLevel), "notify_channel": enum_choices(NotifyChannel),
                    "language": [("zh", "中文"), ("en", "English")]}
    inline_models = (PhoneInline(CustomerPhone), AddressInline(Address))
    details_template = "admin/customer_details.html"
    method_permissions = {"points_view": "points"}

    def get_query(self) -> Any:
        return super().get_query().options(selectinload(Customer.phones))

    def _apply_search(self, query: Any, count_query: Any, joins: Any, count_joins: Any, search: str) -> Any:
        e164 = try_e164(search.strip()) if any(ch.isdigit() for ch in search) else None
        if e164 is None:
            return super()._apply_search(query, count_query, joins, count_joins, search)
        owners = select(CustomerPhone.customer_id).where(CustomerPhone.e164 == e164)
        query = query.filter(Customer.id.in_(owners))
        if count_query is not None:
            count_query = count_query.filter(Customer.id.in_(owners))
        return query, count_query, joins, count_joins

    @expose("/points/<int:id>", methods=("GET", "POST"))
    def points_view(self, id: int) -> Any:
        customer = db.session.get(Customer, id)
        if customer is None:
            return redirect(url_for(".index_view"))
        form = PointsAdjustForm()
        back = url_for(".details_view", id=id)
        if form.validate_on_submit():
            ok = self.service_call(
                "points-adjust", customer,
                lambda: adjust_points(db.session, id, form.delta.data, reason=form.reason.data,
                                      by=current_user.username),
                delta=form.delta.data, reason=form.reason.data,
            )
            if ok:
                flash(gettext("Points adjusted."), "success")
                return redirect(back)
        return self.render("admin/service_form.html", form=form, return_url=back,
                           title=gettext("Adjust points of %(name)s (balance %(balance)s)",
                                         name=customer.name, balance=customer.points_balance)), \
            (400 if request.method == "POST" else 200)


class PointsLedgerView(SecureModelView):
    """The points ledger: read-only here, rows are written by the points services."""

    column_list = ("customer", "kind", "delta", "balance_after", "reason", "created_by", "created_at")
    column_filters = ("kind", "created_at", "customer_id")
    column_sortable_list = ("created_at",)
    column_default_sort = ("id", True)
    column_formatters = {"customer": lambda v, c, m, n: m.customer.name, "created_at": fmt_datetime}


class BlacklistView(SecureModelView):
    """Blacklist marks: adding one goes through ``mark_blacklist`` (the threshold rule applies)."""

    column_list = ("customer", "marked_by", "reason", "created_at")
    column_formatters = {"customer": lambda v, c, m, n: m.customer.name, "created_at": fmt_datetime}
    column_default_sort = ("id", True)
    form_columns = ("customer", "reason")  # list relations are joined-loaded by Flask-Admin itself
    form_ajax_refs = {"customer": {"fields": ("name",), "page_size": 10}}

    def create_model(self, form: Any) -> Any:
        customer = form.customer.data
        if customer is None:
            flash(gettext("Choose a customer."), "error")
            return False
        ok = self.service_call(
            "blacklist-mark", customer,
            lambda: mark_blacklist(db.session, customer.id, marked_by=current_user.username, reason=form.reason.data,
                                   threshold=blacklist_threshold()),
            reason=form.reason.data,
        )
        return customer if ok else False


class InteractionView(SecureModelView):
    """Every touch with a customer, newest first (read-only: the engine writes them)."""

    column_list = ("occurred_at", "customer_id", "channel", "direction", "address", "summary")
    column_filters = ("channel", "direction", "occurred_at", "customer_id")
    column_searchable_list = ("summary", "address")
    column_sortable_list = ("occurred_at",)
    column_default_sort = ("id", True)
    column_formatters = {"customer_id": _customer_link, "occurred_at": fmt_datetime}
    column_labels = {"customer_id": _l("Customer")}
    form_choices = {"channel": enum_choices(Channel), "direction": enum_choices(Direction)}
