"""``hotline db``: migrate the CRM database (upgrade, downgrade, current) from the settings' URL.

Imports only SQLAlchemy and Alembic, so it runs without Twisted or Flask. A
database that cannot be reached is one clear line on stderr and exit code 1,
never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys

from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from hotline.settings import Settings, database_url, shown_database


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-actions: ``upgrade [REV]``, ``downgrade REV``, ``current``."""
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION")
    actions.required = True
    upgrade = actions.add_parser("upgrade", help="migrate to a newer schema (default: head)")
    upgrade.add_argument("rev", nargs="?", default="head", help="target revision (default: head)")
    downgrade = actions.add_parser("downgrade", help="migrate back to an older schema ('base' drops everything)")
    downgrade.add_argument("rev", help="target revision, e.g. base or -1")
    actions.add_parser("current", help="print the schema revision the database is at")


def _describe(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    text = " ".join(str(original).split())
    return text[:300] or type(original).__name__


def main(settings: Settings, args: argparse.Namespace) -> int:
    """Run the chosen migration action against ``settings.db.url``; 0 on success."""
    from crm_core import migrate

    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    url = database_url(settings)
    shown = shown_database(settings)  # as configured: no absolute server path in messages
    action = getattr(args, "db_action", None) or "current"
    try:
        if action == "upgrade":
            migrate.upgrade(url, args.rev)
            print(f"database {shown} is at revision {migrate.current(url) or 'base'}")
        elif action == "downgrade":
            migrate.downgrade(url, args.rev)
            print(f"database {shown} is at revision {migrate.current(url) or 'base'}")
        else:
            revision = migrate.current(url)
            head = migrate.head()
            state = "up to date" if revision == head else f"head is {head}"
            print(f"{revision or 'base (empty)'} ({state})")
    except DBAPIError as exc:
        print(f"hotline db: cannot use database {shown}: {_describe(exc)}", file=sys.stderr)
        return 1
    except (ArgumentError, NoSuchModuleError) as exc:
        print(f"hotline db: bad database URL {shown}: {_describe(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # alembic's CommandError (unknown revision) and friends
        if type(exc).__module__.startswith("alembic"):
            print(f"hotline db: {_describe(exc)}", file=sys.stderr)
            return 2
        raise
    return 0
