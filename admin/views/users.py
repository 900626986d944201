"""Admin users (admins only): the password is set through a form field and stored hashed, never shown.

Changing a user's password, role or active flag ends that user's sessions and
event streams (``crm_core.models.admin``); an admin who changes their own
stays signed in on the browser they did it from.
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask_login import current_user, login_user
from sqlalchemy import func, inspect, select
from wtforms import PasswordField
from wtforms.validators import Optional

from admin.auth import MIN_PASSWORD_LENGTH, LoggedInUser, end_streams, hash_password
from admin.extensions import db
from admin.forms import enum_choices
from admin.i18n import lazy_gettext as _l
from admin.views.base import SecureModelView
from admin.views.formatting import fmt_datetime
from crm_core.enums import AdminRole
from crm_core.exceptions import InvalidInput
from crm_core.models import AdminUser
from crm_core.models.admin import SESSION_ENDING_FIELDS


def set_password(form: Any, model: Any, is_created: bool) -> None:
    """Hash the form's new password into ``model.password_hash``; required on create, optional on edit."""
    password = form.password.data or ""
    if password:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidInput(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
        model.password_hash = hash_password(password)
    elif is_created:
        raise InvalidInput("a new user needs a password")


class UserView(SecureModelView):
    column_list = ("username", "role", "active", "agent_id", "last_login_at", "created_at")
    column_formatters = {"last_login_at": fmt_datetime, "created_at": fmt_datetime}
    column_details_exclude_list = ("password_hash",)
    column_export_exclude_list = ("password_hash",)
    column_searchable_list = ("username",)
    column_filters = ("role", "active")
    column_sortable_list = ("username", "role", "last_login_at")
    column_labels = {"agent_id": _l("Agent id"), "last_login_at": _l("Last login"), "password": _l("New password")}
    form_columns = ("username", "role", "active", "agent_id", "password")
    form_extra_fields = {"password": PasswordField(_l("New password"), validators=[Optional()])}
    form_choices = {"role": enum_choices(AdminRole)}

    def prepare_model(self, form: Any, model: AdminUser, is_created: bool) -> None:
        set_password(form, model, is_created)
        state = inspect(model)
        g.user_sessions_ended = not is_created and any(
            state.attrs[name].history.has_changes() for name in SESSION_ENDING_FIELDS)
        with db.session.no_autoflush:  # count the other admins as stored, then add this one as edited
            others = db.session.scalar(
                select(func.count()).select_from(AdminUser)
                .where(AdminUser.role == AdminRole.ADMIN.value, AdminUser.active.is_(True), AdminUser.id != model.id)
            ) if model.id is not None else 1
        if not others and not (model.role == AdminRole.ADMIN.value and model.active):
            raise InvalidInput("this change would leave no active admin")

    def after_model_change(self, form: Any, model: AdminUser, is_created: bool) -> None:
        if not g.pop("user_sessions_ended", False):
            return
        end_streams(model.id)
        if model.id == current_user.id and model.active:
            login_user(LoggedInUser.of(model))  # this browser's session carries the new session version

    def on_model_delete(self, model: AdminUser) -> None:
        if model.id == current_user.id:
            raise InvalidInput("you cannot delete your own user")
        super().on_model_delete(model)
        end_streams(model.id)
