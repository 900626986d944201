"""The admin application factory: Flask + Flask-Admin over the CRM database, secured and bilingual.

``create_app`` takes a mapping of Flask config: ``hotline.admin_config`` makes
it from the Hotline settings (``hotline run``, ``hotline admin``, the WSGI
entry ``hotline.wsgi``), tests pass their own. The admin package does not know
the composition root's settings. Views are registered on a fresh ``Admin`` per
app, so tests can build as many apps as they like.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, render_template
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

from admin import params
from admin.extensions import babel, csrf, db, login_manager
from admin.labels import code_label
from admin.i18n import DOMAIN, TRANSLATIONS_DIR, current_language, language_url, lazy_gettext as _l, select_locale
from admin.views import register_views
from admin.views.base import HomeView
from admin.web import install_flask_limits

log = logging.getLogger(__name__)

SECRET_KEY_FILE = "admin-secret-key"


def persistent_secret_key(var_dir: str | os.PathLike[str]) -> str:
    """A random secret key kept in ``var_dir`` (mode 0600), so sessions survive restarts."""
    path = Path(var_dir) / SECRET_KEY_FILE
    if path.is_file():
        key = path.read_text().strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def body_limits(max_request: int, max_upload: int) -> dict[str, Any]:
    """Flask's own request-size limits, matching what the web layer lets through (``admin.web``)."""
    return {"MAX_CONTENT_LENGTH": max(max_request, max_upload), "MAX_FORM_MEMORY_SIZE": max_request,
            "HOTLINE_MAX_REQUEST_BYTES": max_request, "HOTLINE_MAX_UPLOAD_BYTES": max_upload}


DEFAULTS: dict[str, Any] = {
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "SESSION_IDLE_MINUTES": 60,
    "SESSION_MAX_HOURS": 12,
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    "WTF_CSRF_TIME_LIMIT": None,  # token lives as long as the session (no expiry mid-edit)
    "FLASK_ADMIN_SWATCH": "default",
    "HOTLINE_DEMO_MODE": False,
    "VOICEMAIL_DIRS": [],
    **body_limits(1024 * 1024, 20 * 1024 * 1024),
    "FAX_DIRS": [],
}


def create_app(config: Mapping[str, Any]) -> Flask:
    """Build the admin app for a Flask config mapping (``hotline.admin_config.config_from_settings`` makes one)."""
    app = Flask(__name__)
    app.config.update(DEFAULTS)
    app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        log.warning("no SECRET_KEY configured: using a random one (sessions end when the process stops)")
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        raise ValueError("create_app needs SQLALCHEMY_DATABASE_URI")

    proxies = int(app.config.get("HOTLINE_TRUSTED_PROXIES") or 0)
    if proxies:  # the client's address and scheme as the proxies in front report them
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    params.install(app)  # bounded <int:> routes and 400s for bad numbers, before any view is registered
    install_flask_limits(app)  # request-size limits, before CSRFProtect reads a form
    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_domain=DOMAIN,
                   default_translation_directories=str(TRANSLATIONS_DIR))
    app.jinja_env.globals["hotline_language"] = current_language
    app.jinja_env.globals["language_url"] = language_url
    app.jinja_env.globals["code_label"] = code_label  # codes (on_call, cod, product_quality...) as words

    from admin.auth import bp as auth_bp

    app.register_blueprint(auth_bp)

    admin = Admin(
        name="Hotline",
        theme=Bootstrap4Theme(swatch=app.config["FLASK_ADMIN_SWATCH"], fluid=True,
                              base_template="admin/hotline_master.html"),
        index_view=HomeView(name=_l("Home"), url="/admin"),
    )
    register_views(admin)
    admin.init_app(app)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        return render_template("errors/csrf.html", reason=exc.description), 400

    @app.route("/")
    def root() -> Any:
        from flask import redirect, url_for

        return redirect(url_for("admin.index"))

    return app
