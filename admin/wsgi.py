"""The admin app for a WSGI server on its own, e.g. ``gunicorn 'admin.wsgi:app'``.

Settings come from ``HOTLINE_CONFIG`` / ``HOTLINE_*``; first-run users are
created as in ``hotline run`` and any generated password is printed once.
"""

from __future__ import annotations

from admin.app import create_app
from admin.bootstrap import describe, ensure_admin_user
from admin.extensions import db
from hotline.settings import load_settings

settings = load_settings()
app = create_app(settings)

with app.app_context():
    created = ensure_admin_user(db.session, settings.admin.demo_mode)
    db.session.commit()
    if created:
        print(describe(created, "/admin/"), flush=True)
