"""The Flask extension objects, created unbound and bound to an app by ``create_app``.

``db`` is Flask-SQLAlchemy over crm_core's own ``Base.metadata``: the CRM
models stay plain SQLAlchemy 2.0 classes (no ``db.Model``), Flask-SQLAlchemy
only supplies the request-scoped session and the engine, and the engine is
made by ``crm_core.db.make_engine`` so the admin gets the same SQLite
hardening (foreign keys, busy timeout, WAL, BEGIN IMMEDIATE) and PostgreSQL
pooling as the engine process.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from crm_core.db import Base, make_engine


class HotlineSQLAlchemy(SQLAlchemy):
    """Flask-SQLAlchemy whose engines come from ``crm_core.db.make_engine``."""

    def _make_engine(self, bind_key: str | None, options: dict[str, Any], app: Flask) -> sa.Engine:
        # Flask-SQLAlchemy documents engine creation as internal; this is its one hook.
        # tests/admin/test_app.py pins the behaviour (PRAGMA foreign_keys is on).
        options = dict(options)
        url = options.pop("url")
        return make_engine(url, **options)


db = HotlineSQLAlchemy(metadata=Base.metadata, session_options={"expire_on_commit": False})
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
