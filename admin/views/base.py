"""The secured base classes every admin view derives from.

Each view asks ``admin.roles`` on every request: ``is_accessible`` for the
view as a whole (anonymous users go to the login page, others get 403),
``_handle_view`` for the endpoint inside it (create, edit, delete, export,
the view's own actions), and ``can_create``/``can_edit``/... are properties
of the same matrix so Flask-Admin hides what a role may not use. Changes made
through a model form are audited in the same transaction.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.contrib.sqla import ModelView
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from admin import audit, params, roles
from admin.exports import spreadsheet_safe
from admin.extensions import db
from admin.forms import AdminBaseForm, HotlineFilterConverter, HotlineModelConverter, make_datetimes_aware
from admin.i18n import gettext
from admin.labels import COMMON_LABELS
from crm_core.exceptions import CrmError

log = logging.getLogger(__name__)

try:
    import tablib  # noqa: F401

    EXPORT_TYPES = ["csv", "xlsx"]
except ImportError:  # xlsx export needs tablib[xlsx]
    EXPORT_TYPES = ["csv"]

#: Flask-Admin's built-in view methods -> the permission each needs.
BUILTIN_PERMISSIONS = {
    "index_view": "view",
    "details_view": "view",
    "ajax_lookup": "view",
    "ajax_update": "edit",
    "create_view": "create",
    "edit_view": "edit",
    "delete_view": "delete",
    "export": "export",
    "action_view": "view",  # each action is checked by is_action_allowed
}


def current_role() -> str | None:
    """The logged-in user's role, None for anonymous visitors."""
    return current_user.role if current_user.is_authenticated else None


def login_redirect() -> Any:
    """Send an anonymous visitor to the login page, coming back here afterwards."""
    target = request.full_path.rstrip("?")
    return redirect(url_for("auth.login", next=target))


class SecuredMixin:
    """``is_accessible`` / ``inaccessible_callback`` / per-method checks from the roles matrix."""

    #: extra exposed methods of the view -> the permission each needs
    method_permissions: ClassVar[dict[str, str]] = {}
    endpoint: str

    def permitted(self, permission: str) -> bool:
        """Whether the current user holds ``permission`` on this view."""
        return roles.allowed(current_role(), self.endpoint, permission)

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and self.permitted("view")

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_redirect()
        abort(403)

    def _handle_view(self, name: str, **kwargs: Any) -> Any:
        refused = super()._handle_view(name, **kwargs)  # type: ignore[misc]
        if refused is not None:
            return refused
        permission = self.method_permissions.get(name) or BUILTIN_PERMISSIONS.get(name)
        if permission is None:
            log.error("view %s method %s has no permission in the matrix: refused", self.endpoint, name)
            abort(403)
        if not self.permitted(permission):
            abort(403)
        self.check_request_numbers()
        return None

    def check_request_numbers(self) -> None:
        """Refuse malformed ids and page numbers with a 400 before the view reads them (``admin.params``)."""


class SecureBaseView(SecuredMixin, BaseView):
    """A custom (non-model) admin page, secured like the model views."""


class SecureModelView(SecuredMixin, ModelView):
    """A model view whose create/edit/delete/export follow the matrix, with audit and friendly errors."""

    form_base_class = AdminBaseForm
    model_form_converter = HotlineModelConverter
    filter_converter = HotlineFilterConverter()
    form_excluded_columns: Any = ("created_at", "updated_at")
    can_view_details = True
    export_types = EXPORT_TYPES
    page_size = 50
    can_set_page_size = True
    column_display_pk = False

    def check_request_numbers(self) -> None:
        params.check_model_request(self.model)

    def __init__(self, model: Any, session: Any = db, **kwargs: Any) -> None:
        self.column_labels = {**COMMON_LABELS, **(getattr(self, "column_labels", None) or {})}
        super().__init__(model, session, **kwargs)

    # permissions as properties, so the templates hide what the role may not do
    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return self.permitted("create")

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return self.permitted("edit")

    @property
    def can_delete(self) -> bool:  # type: ignore[override]
        return self.permitted("delete")

    @property
    def can_export(self) -> bool:  # type: ignore[override]
        return self.permitted("export")

    def is_action_allowed(self, name: str) -> bool:
        permission = "delete" if name == "delete" else name
        return self.permitted(permission) and super().is_action_allowed(name)

    # hooks
    def prepare_model(self, form: Any, model: Any, is_created: bool) -> None:
        """Subclasses: adjust the model before it is saved (hash a password, normalise a number)."""

    def on_model_change(self, form: Any, model: Any, is_created: bool) -> None:
        session = db.session
        self.prepare_model(form, model, is_created)
        touched = [(model, "create" if is_created else "update")]
        touched += [(obj, "create") for obj in session.new if obj is not model]
        touched += [(obj, "update") for obj in session.dirty if obj is not model]
        for obj, _ in touched:  # the row and its inline children
            make_datetimes_aware(obj)
        pending = [(obj, action, audit.changed_fields(obj)) for obj, action in touched
                   if action == "create" or obj is model or session.is_modified(obj)]
        removed = [(obj.__table__.name, audit.primary_key(obj)) for obj in session.deleted]
        session.flush()  # primary keys of new rows; constraint errors surface here
        for obj, action, changes in pending:
            audit.record(action, obj.__table__.name, audit.primary_key(obj), changes)
        for table_name, pk in removed:
            audit.record("delete", table_name, pk)

    def get_export_value(self, model: Any, name: Any) -> Any:
        """Each CSV / xlsx export cell, never a live spreadsheet formula (``admin.exports``)."""
        return spreadsheet_safe(super().get_export_value(model, name))

    def on_model_delete(self, model: Any) -> None:
        audit.record("delete", model.__table__.name, audit.primary_key(model), {"was": str(model)[:200]})

    def handle_view_exception(self, exc: Exception) -> bool:
        if isinstance(exc, CrmError):
            flash(gettext("Refused: %(message)s", message=exc.message), "error")
            return True
        if isinstance(exc, IntegrityError):
            detail = str(exc.orig).splitlines()[0] if exc.orig is not None else ""
            flash(gettext("The database refused the change (%(detail)s).", detail=detail[:200]), "error")
            return True
        return super().handle_view_exception(exc)

    def service_call(self, action: str, model: Any, fn: Any, **details: Any) -> bool:
        """Run a crm_core service for a view action: commit with an audit entry, or flash its error."""
        try:
            fn()
            audit.record(action, model.__table__.name, audit.primary_key(model), details)
            db.session.commit()
        except CrmError as exc:
            db.session.rollback()
            flash(gettext("Refused: %(message)s", message=exc.message), "error")
            return False
        return True


class HomeView(SecuredMixin, AdminIndexView):
    """The admin start page: open to every logged-in user, it says what their role can reach."""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def _handle_view(self, name: str, **kwargs: Any) -> Any:
        if not self.is_accessible():
            return self.inaccessible_callback(name, **kwargs)
        return None

    @expose("/")
    def index(self) -> Any:
        return self.render("admin/hotline_index.html", endpoints=roles.endpoints_for(current_user.role))


def blacklist_threshold() -> int:
    """Active marks that blacklist a customer: the one setting, ``crm.blacklist_threshold``."""
    from crm_core.services.customers import DEFAULT_BLACKLIST_THRESHOLD

    return int(current_app.config.get("BLACKLIST_THRESHOLD", DEFAULT_BLACKLIST_THRESHOLD))
