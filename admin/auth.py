"""Logging in and out of the admin UI: Flask-Login over ``crm_core`` AdminUser, hashed passwords, throttled.

* The session holds ``<user id>:<password fingerprint>:<session version>``.
  The version is ``admin_users.session_version``: logout bumps it, and so
  does any change of the password, role or active flag, so the cookie (and
  every event-stream token issued with it, :func:`stream_token`) stops
  working at once, everywhere. The fingerprint also ends sessions when a
  password hash is replaced behind the ORM's back.
* Sessions also end after ``SESSION_IDLE_MINUTES`` without a request and
  ``SESSION_MAX_HOURS`` after the log-in, whatever the cookie says.
* Failed log-ins are throttled per account name and per client address
  (``crm_core.services.login_throttle``) and audited; a locked name or
  address is refused with 429 and ``Retry-After`` at once, without hashing
  or sleeping, so no WSGI pool thread is held. Unknown names cost one
  password hash like known ones (a dummy hash), so response times do not
  reveal which names exist.

Passwords are hashed with ``werkzeug.security`` (scrypt by default).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from admin.extensions import db, login_manager
from admin.i18n import gettext
from admin.i18n import lazy_gettext as _l
from admin.params import INT64_MAX
from admin.sse import make_stream_token
from crm_core.models import AdminUser
from crm_core.services.admin_sessions import end_sessions
from crm_core.services.login_throttle import (
    ThrottlePolicy,
    address_key,
    clear_account,
    record_failure,
    seconds_locked,
    user_key,
)
from crm_core.types import utcnow

bp = Blueprint("auth", __name__)

#: Shortest password the users form accepts.
MIN_PASSWORD_LENGTH = 8
#: Session keys: when the session was last used and when it logged in (epoch seconds).
SEEN_KEY, STARTED_KEY = "_hotline_seen", "_hotline_started"
#: The last-used time is rewritten at most this often (each rewrite re-sends the cookie).
SEEN_RESOLUTION_SECONDS = 60
#: Session keys kept when a session ends (the visitor's language, the form token of the page it is on).
KEPT_ON_LOGOUT = ("lang", "csrf_token")

DEFAULT_POLICY = ThrottlePolicy()


def hash_password(password: str) -> str:
    """A salted hash of ``password`` for ``AdminUser.password_hash``."""
    return generate_password_hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash."""
    try:
        return check_password_hash(password_hash, password)
    except ValueError:  # an unusable hash (e.g. a disabled account's '!')
        return False


_dummy_lock = threading.Lock()
_dummy_hash: str | None = None


def dummy_hash() -> str:
    """A hash of a random secret with today's parameters: what an unknown name's password is checked against."""
    global _dummy_hash
    with _dummy_lock:
        if _dummy_hash is None:
            _dummy_hash = hash_password(secrets.token_urlsafe(16))
        return _dummy_hash


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
    session_version: int = 0

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.fingerprint}:{self.session_version}"

    @classmethod
    def of(cls, user: AdminUser) -> LoggedInUser:
        return cls(user.id, user.username, user.role, user.agent_id, _fingerprint(user.password_hash),
                   user.session_version or 0)


@login_manager.user_loader
def load_user(user_id: str) -> LoggedInUser | None:
    """The user behind a session id; None when unknown, inactive, logged out or changed since."""
    parts = user_id.split(":")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[2].isdigit() or int(parts[0]) > INT64_MAX:
        return None
    pk, fingerprint, version = int(parts[0]), parts[1], int(parts[2])
    user = db.session.get(AdminUser, pk)
    if user is None or not user.active or _fingerprint(user.password_hash) != fingerprint \
            or (user.session_version or 0) != version:
        return None
    return LoggedInUser.of(user)


def authenticate(username: str, password: str) -> AdminUser | None:
    """The active user with this username and password, or None (always one password check, known or not)."""
    user = db.session.scalars(select(AdminUser).where(AdminUser.username == username.strip())).first()
    matches = verify_password(user.password_hash if user is not None else dummy_hash(), password)
    if user is None or not user.active or not matches:
        return None
    return user


def stream_token(topics: Iterable[str]) -> str:
    """An event-stream token for the current user, valid only as long as this session (see ``admin.sse``)."""
    return make_stream_token(current_app.config["SECRET_KEY"], current_user.username, topics,
                             session=(current_user.id, current_user.session_version))


def end_streams(user_id: int) -> None:
    """Close the user's open event streams when the admin runs inside the engine (no-op otherwise)."""
    from admin.bridge import EXTENSION_KEY

    bridge = current_app.extensions.get(EXTENSION_KEY)
    hub = getattr(bridge, "hub", None)
    if hub is not None:
        hub.close_user(user_id)


def _epoch() -> float:
    """Now, for the session clocks (a function, so tests can move time)."""
    return time.time()


def _clear_session() -> None:
    kept = {key: session[key] for key in KEPT_ON_LOGOUT if key in session}
    session.clear()
    session.update(kept)


@bp.before_app_request
def enforce_session_limits() -> None:
    """End a session idle longer than SESSION_IDLE_MINUTES or older than SESSION_MAX_HOURS."""
    if "_user_id" not in session:
        return
    now = _epoch()
    seen, started = session.get(SEEN_KEY), session.get(STARTED_KEY)
    idle = current_app.config.get("SESSION_IDLE_MINUTES", 60) * 60
    longest = current_app.config.get("SESSION_MAX_HOURS", 12) * 3600
    if not isinstance(seen, (int, float)) or not isinstance(started, (int, float)) \
            or now - seen > idle or now - started > longest:
        logout_user()
        _clear_session()
        flash(gettext("Your session has ended: please log in again."), "info")
        return
    if now - seen >= SEEN_RESOLUTION_SECONDS:
        session[SEEN_KEY] = int(now)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=40)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    """Only same-site relative targets, so the login page cannot be used as an open redirect."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("admin.index")


def _too_many(form: LoginForm, seconds: int) -> Any:
    form.password.errors.append(
        gettext("Too many failed log-ins: try again in %(seconds)s seconds.", seconds=seconds))
    response = current_app.make_response((render_template("auth/login.html", form=form), 429))
    response.headers["Retry-After"] = str(seconds)
    return response


def _sign_in(user: AdminUser) -> None:
    user.last_login_at = utcnow()
    clear_account(db.session, user.username)
    db.session.commit()
    login_user(LoggedInUser.of(user))
    now = int(_epoch())
    session[SEEN_KEY], session[STARTED_KEY] = now, now
    from admin.audit import record

    record("login", AdminUser.__tablename__, user.id)
    db.session.commit()


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    """The login page; on success go to ``next`` (same site only); throttled per name and address."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        username, address = (form.username.data or "").strip(), request.remote_addr
        policy: ThrottlePolicy = current_app.config.get("LOGIN_THROTTLE") or DEFAULT_POLICY
        now = utcnow()
        wait = seconds_locked(db.session, [user_key(username), address_key(address)], now)
        if wait:
            db.session.rollback()
            current_app.logger.info("log-in as %r from %s refused: locked for %s s", username, address, wait)
            return _too_many(form, wait)
        user = authenticate(username, form.password.data or "")
        if user is None:
            known = db.session.scalar(select(AdminUser.id).where(AdminUser.username == username))
            locked = record_failure(db.session, policy, username, address, now, user_id=known)
            db.session.commit()
            if locked:
                return _too_many(form, locked)
            form.password.errors.append(str(_l("Wrong username or password.")))
        else:
            _sign_in(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form), (400 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
def logout():  # type: ignore[no-untyped-def]
    """Log out (POST with the CSRF token): this user's sessions and stream tokens end everywhere."""
    if current_user.is_authenticated:
        user_id = current_user.id
        end_sessions(db.session, user_id)
        db.session.commit()
        end_streams(user_id)
    logout_user()
    _clear_session()
    flash(str(_l("You have been logged out.")), "info")
    return redirect(url_for("auth.login"))


login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to open this page.")
login_manager.login_message_category = "info"
