"""The admin app for a WSGI server on its own, e.g. ``gunicorn 'admin.wsgi:app'``.

Settings come from ``HOTLINE_CONFIG`` / ``HOTLINE_*``. Outside demo mode it
refuses to load while an account keeps its demo password, like the engine;
first-run users are created as in ``hotline run`` and any generated password
is printed once. The request-size limits of ``admin.web`` are the WSGI
server's job here (e.g. nginx ``client_max_body_size``); Flask's own
``MAX_CONTENT_LENGTH`` still applies.
"""

from __future__ import annotations

from admin.app import create_app
from admin.bootstrap import describe, ensure_admin_user, refuse_demo_passwords
from admin.extensions import db
from hotline.settings import load_settings

settings = load_settings()
app = create_app(settings)

with app.app_context():
    refuse_demo_passwords(db.session, settings.admin.demo_mode)
    created = ensure_admin_user(db.session)
    db.session.commit()
    if created:
        print(describe(created, "/admin/"), flush=True)
