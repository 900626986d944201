"""The admin app for a WSGI server on its own, e.g. ``gunicorn 'hotline.wsgi:app'``.

Settings come from ``HOTLINE_CONFIG`` / ``HOTLINE_*``. Like the engine it
refuses to load (one line, via ``SystemExit``) on a database without this
version's schema, or outside demo mode while an account keeps its demo
password; first-run users are created as in ``hotline run`` and any
generated password is printed once. The request-size limits of ``admin.web``
are the front server's job here (e.g. nginx ``client_max_body_size``);
Flask's own ``MAX_CONTENT_LENGTH`` still applies. It lives in the composition
root because the admin package does not read Hotline's settings.
"""

from __future__ import annotations

from admin.bootstrap import DemoPasswordsLeft, describe, ensure_admin_user, refuse_demo_passwords
from admin.extensions import db
from crm_core.migrate import SchemaNotCurrent, require_head
from hotline.admin_config import create_admin_app
from hotline.settings import database_url, load_settings

settings = load_settings()
try:
    require_head(database_url(settings))
except SchemaNotCurrent as exc:
    raise SystemExit(f"hotline: {exc}: run `hotline db upgrade` first") from None
app = create_admin_app(settings)

with app.app_context():
    try:
        refuse_demo_passwords(db.session, settings.admin.demo_mode)
    except DemoPasswordsLeft as exc:
        raise SystemExit(f"hotline: {exc}") from None
    created = ensure_admin_user(db.session)
    db.session.commit()
    if created:
        print(describe(created, "/admin/"), flush=True)
