"""``hotline admin``: create an admin user, or serve the admin UI on its own (without the engine).

Not yet listed in ``hotline.cli.COMMANDS`` (the lead wires it):
``"admin": ("hotline.admin_command:main", "admin UI: create-user, serve")`` and
``"admin": "hotline.admin_command:add_arguments"``.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from hotline.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="admin_command", metavar="ACTION")
    sub.required = True
    create = sub.add_parser("create-user", help="create or reset an admin UI user")
    create.add_argument("username")
    create.add_argument("--role", default="admin", choices=["admin", "supervisor", "campaign_manager", "agent"])
    create.add_argument("--password", help="(default: asked on the terminal)")
    sub.add_parser("serve", help="serve the admin UI alone with Twisted on admin.host:admin.port")


def main(settings: Settings, args: argparse.Namespace) -> int:
    """Run one admin action; returns the exit code."""
    from admin.app import create_app
    from admin.extensions import db

    app = create_app(settings)
    if args.admin_command == "create-user":
        from sqlalchemy import select

        from admin.auth import MIN_PASSWORD_LENGTH, hash_password
        from crm_core.models import AdminUser

        password = args.password or getpass.getpass(f"password for {args.username}: ")
        if len(password) < MIN_PASSWORD_LENGTH:
            print(f"hotline: a password needs at least {MIN_PASSWORD_LENGTH} characters", file=sys.stderr)
            return 2
        with app.app_context():
            user = db.session.scalars(select(AdminUser).where(AdminUser.username == args.username)).first()
            if user is None:
                user = AdminUser(username=args.username)
                db.session.add(user)
            user.role, user.active, user.password_hash = args.role, True, hash_password(password)
            db.session.commit()
        print(f"user {args.username!r} ({args.role}) saved")
        return 0
    return _serve(settings, app)


def _serve(settings: Settings, app: object) -> int:
    from twisted.internet import reactor

    from admin.bootstrap import describe, ensure_admin_user
    from admin.extensions import db
    from admin.web import build_site

    with app.app_context():  # type: ignore[attr-defined]
        created = ensure_admin_user(db.session, settings.admin.demo_mode)
        db.session.commit()
    url = f"http://{settings.admin.host}:{settings.admin.port}/admin/"
    print(describe(created, url), flush=True)
    reactor.listenTCP(settings.admin.port, build_site(reactor, reactor.getThreadPool(), app),  # type: ignore[attr-defined]
                      interface=settings.admin.host)
    reactor.run()  # type: ignore[attr-defined]
    return 0
