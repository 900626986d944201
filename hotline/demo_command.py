"""``hotline demo-data``: load the demo shop into the settings' database, idempotently, with a progress bar.

Migrates the schema first when it is behind (and says so). Creates the admin
UI's demo users, whose passwords are published: the engine accepts them only
in demo mode (``admin.demo_mode``, which ``make run`` sets). A database that
cannot be reached is one clear line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from hotline.settings import Settings, database_url, shown_database


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--scale, --seed, --no-progress."""
    from crm_core.demo import DEFAULT_SEED

    parser.add_argument("--scale", type=float, default=1.0,
                        help="size of the shop relative to the full demo (e.g. 0.1 for tests; default 1.0)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _describe(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return " ".join(str(original).split())[:300] or type(original).__name__


def _admin_bootstraps_users() -> bool:
    """Whether the admin package creates its own users (then the demo does not)."""
    try:
        return importlib.util.find_spec("admin.bootstrap") is not None
    except ImportError:
        return False


def _create_demo_users(factory: Any, demo_mode: bool) -> list[str]:
    """The admin UI's demo users (one per role, well-known passwords) and what to print about them."""
    from admin.bootstrap import DEMO_USERS, create_demo_users
    from crm_core.db import transaction

    with transaction(factory) as session:
        created = {user.username for user in create_demo_users(session)}
    users = ", ".join(f"{name} / {password} ({role})" + ("" if name in created else " [kept]")
                      for name, (role, password) in DEMO_USERS.items())
    lines = [f"  admin users: {users}"]
    if not demo_mode:
        lines.append("  note: these passwords are published; `hotline run` accepts them only in demo mode "
                     "(HOTLINE_ADMIN_DEMO_MODE=true, as `make run` sets) - outside it, give each account a password "
                     "of its own with `hotline admin create-user NAME`")
    return lines


DEMO_MENU = Path(__file__).resolve().parents[1] / "menus" / "demo.yaml"
#: the script of the demo's automated campaign "发货关怀 delivery care" (a campaign menu)
DEMO_SCRIPT = Path(__file__).resolve().parents[1] / "menus" / "delivery_care.yaml"


def _publish_demo_menu(factory: Any, path: Path = DEMO_MENU) -> str:
    """Publish a demo IVR menu unless a menu of that name is already published (admins' edits win)."""
    from crm_core.db import transaction
    from ivr.menu.store import import_and_publish, published_version_id
    from ivr.menu.yaml_io import load_yaml

    definition = load_yaml(path)
    with transaction(factory) as session:
        if published_version_id(session, definition.name) is not None:
            return f"  IVR menu {definition.name!r}: already published (left as it is)"
        menu = import_and_publish(session, definition, by="demo-data")
    return f"  IVR menu {definition.name!r}: version {menu.version} published from {path.name}"


def main(settings: Settings, args: argparse.Namespace) -> int:
    """Load the demo shop; 0 on success, 1 when the database cannot be used, 2 on bad options."""
    from tqdm import tqdm

    from crm_core import migrate
    from crm_core.db import make_engine, session_factory
    from crm_core.demo import DemoOptions, load_demo, plan_demo, summary_lines

    scale = getattr(args, "scale", 1.0)
    if not 0 < scale <= 10:
        print(f"hotline demo-data: --scale must be above 0 and at most 10, got {scale}", file=sys.stderr)
        return 2
    url = database_url(settings)
    shown = shown_database(settings)  # as configured: no absolute server path in messages
    admin_users = not _admin_bootstraps_users()
    options = DemoOptions(scale=scale, seed=getattr(args, "seed", None) or DemoOptions.seed,
                          blacklist_threshold=settings.crm.blacklist_threshold,
                          points_per_yuan=settings.crm.points_per_yuan, admin_users=admin_users)
    started = time.monotonic()
    engine = None
    try:
        revision, head = migrate.current(url), migrate.head()
        if revision != head:
            print(f"database {shown} is at {revision or 'an empty schema'}; upgrading to {head} first")
            migrate.upgrade(url)
        engine = make_engine(url, pool_size=settings.db.pool_size)
        plan = plan_demo(options)
        with tqdm(total=plan.units, desc="demo data", unit="step", disable=getattr(args, "no_progress", False),
                  file=sys.stderr, leave=False) as bar:
            notes = load_demo(session_factory(engine), options, plan=plan, advance=bar.update)
        menu_lines = [_publish_demo_menu(session_factory(engine), path) for path in (DEMO_MENU, DEMO_SCRIPT)]
        user_lines = [] if admin_users else _create_demo_users(session_factory(engine), settings.admin.demo_mode)
        with session_factory(engine)() as session:
            lines = summary_lines(session, admin_users=admin_users)
        lines += menu_lines
        lines += user_lines
    except DBAPIError as exc:
        print(f"hotline demo-data: cannot use database {shown}: {_describe(exc)}", file=sys.stderr)
        return 1
    except (ArgumentError, NoSuchModuleError) as exc:
        print(f"hotline demo-data: bad database URL {shown}: {_describe(exc)}", file=sys.stderr)
        return 2
    finally:
        if engine is not None:
            engine.dispose()
    for note in notes[:10]:
        print(f"note: {note}")
    if len(notes) > 10:
        print(f"note: ... and {len(notes) - 10} more")
    print("\n".join(lines))
    print(f"demo data ready in {shown} ({time.monotonic() - started:.1f} s)")
    return 0
