"""Logging in and out of the admin UI: Flask-Login over ``crm_core`` AdminUser with hashed passwords.

The session holds ``<user id>:<password fingerprint>``, so changing a
password (or deactivating the user) ends every other session of that user.
Passwords are hashed with ``werkzeug.security`` (scrypt by default).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from admin.extensions import db, login_manager
from admin.i18n import lazy_gettext as _l
from crm_core.models import AdminUser
from crm_core.types import utcnow

bp = Blueprint("auth", __name__)

#: Shortest password the users form accepts.
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    """A salted hash of ``password`` for ``AdminUser.password_hash``."""
    return generate_password_hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash."""
    try:
        return check_password_hash(password_hash, password)
    except ValueError:  # an unusable hash (e.g. a disabled account's '!')
        return False


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class LoggedInUser:
    """What Flask-Login keeps for the current request: a detached snapshot, not an ORM row."""

    id: int
    username: str
    role: str
    agent_id: int | None
    fingerprint: str

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.fingerprint}"

    @classmethod
    def of(cls, user: AdminUser) -> LoggedInUser:
        return cls(user.id, user.username, user.role, user.agent_id, _fingerprint(user.password_hash))


@login_manager.user_loader
def load_user(user_id: str) -> LoggedInUser | None:
    """The user behind a session id, None when unknown, inactive or the password changed since."""
    pk, _, fingerprint = user_id.partition(":")
    if not pk.isdigit():
        return None
    user = db.session.get(AdminUser, int(pk))
    if user is None or not user.active or _fingerprint(user.password_hash) != fingerprint:
        return None
    return LoggedInUser.of(user)


def authenticate(username: str, password: str) -> AdminUser | None:
    """The active user with this username and password, or None."""
    user = db.session.scalars(select(AdminUser).where(AdminUser.username == username.strip())).first()
    if user is None or not user.active or not verify_password(user.password_hash, password):
        return None
    return user


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=40)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


def _safe_next(target: str | None) -> str:
    """Only same-site relative targets, so the login page cannot be used as an open redirect."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    """The login page; on success go to ``next`` (same site only)."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data or "", form.password.data or "")
        if user is None:
            form.password.errors.append(str(_l("Wrong username or password.")))
        else:
            user.last_login_at = utcnow()
            db.session.commit()
            login_user(LoggedInUser.of(user))
            from admin.audit import record

            record("login", AdminUser.__tablename__, user.id)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form), (400 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
def logout():  # type: ignore[no-untyped-def]
    """Log out (POST with the CSRF token, so another site cannot log a user out)."""
    logout_user()
    flash(str(_l("You have been logged out.")), "info")
    return redirect(url_for("auth.login"))


login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to open this page.")
login_manager.login_message_category = "info"
