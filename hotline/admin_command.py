"""``hotline admin``: create an admin user (or give one a new password), or serve the admin UI on its own.

``create-user NAME`` is also how the first admin of a real install is made,
and how an account loaded by ``hotline demo-data`` gets a password of its own.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from hotline.settings import Settings, database_url
from hotline.startup import StartupError, listening, refuse_demo_passwords, require_schema


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="admin_command", metavar="ACTION")
    sub.required = True
    create = sub.add_parser("create-user", help="create an admin UI user, or set a new password (ends its sessions, "
                                                "lifts a log-in lock-out)")
    create.add_argument("username")
    create.add_argument("--role", default=None, choices=["admin", "supervisor", "campaign_manager", "agent"],
                        help="(default: admin for a new user; an existing user keeps its role)")
    create.add_argument("--password", help="(default: asked on the terminal)")
    sub.add_parser("serve", help="serve the admin UI alone with Twisted on admin.host:admin.port")


def main(settings: Settings, args: argparse.Namespace) -> int:
    """Run one admin action; returns the exit code."""
    from admin.extensions import db
    from hotline.admin_config import create_admin_app

    try:
        require_schema(database_url(settings))
    except StartupError as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    app = create_admin_app(settings)
    if args.admin_command == "create-user":
        from sqlalchemy import select

        from admin.auth import MIN_PASSWORD_LENGTH, hash_password
        from crm_core.models import AdminUser
        from crm_core.services.login_throttle import clear_account

        password = args.password or getpass.getpass(f"password for {args.username}: ")
        if len(password) < MIN_PASSWORD_LENGTH:
            print(f"hotline: a password needs at least {MIN_PASSWORD_LENGTH} characters", file=sys.stderr)
            return 2
        with app.app_context():
            user = db.session.scalars(select(AdminUser).where(AdminUser.username == args.username)).first()
            if user is None:
                user = AdminUser(username=args.username, role=args.role or "admin")
                db.session.add(user)
            elif args.role:
                user.role = args.role
            user.active, user.password_hash = True, hash_password(password)
            clear_account(db.session, args.username)
            db.session.commit()
            role = user.role
        print(f"user {args.username!r} ({role}) saved")
        return 0
    try:
        return _serve(settings, app)
    except StartupError as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2


def _serve(settings: Settings, app: object) -> int:
    from sqlalchemy.orm import sessionmaker
    from twisted.internet import reactor

    from admin.bootstrap import describe, ensure_admin_user
    from admin.extensions import db
    from admin.web import build_site

    with app.app_context():  # type: ignore[attr-defined]
        refuse_demo_passwords(sessionmaker(db.engine), settings.admin.demo_mode)
        created = ensure_admin_user(db.session)
        db.session.commit()
    admin = settings.admin
    site = build_site(reactor, reactor.getThreadPool(), app)
    port = listening("the admin UI", "admin.port", admin.host, admin.port,
                     lambda: reactor.listenTCP(admin.port, site, interface=admin.host))  # type: ignore[attr-defined]
    url = f"http://{admin.host}:{port.getHost().port}/admin/"
    print(describe(created, url), flush=True)
    reactor.run()  # type: ignore[attr-defined]
    return 0
