"""Start-up checks that turn the usual deployment mistakes into one line naming the fix.

A database that was never migrated (or is behind this version), a port that
another program holds, accounts still carrying demo passwords: each stops
``hotline run`` / ``hotline admin serve`` with a :class:`StartupError` whose
message is printed as one line, and a non-zero exit, instead of a traceback.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from twisted.internet.error import CannotListenError

T = TypeVar("T")


class StartupError(Exception):
    """The engine cannot start as configured; the message says what to do."""


def require_schema(url: str) -> None:
    """StartupError unless the database has this version's schema (``hotline db upgrade`` fixes it)."""
    import logging

    from crm_core.migrate import SchemaNotCurrent, require_head

    logging.getLogger("alembic").setLevel(logging.WARNING)  # its per-connection INFO lines say nothing here
    try:
        require_head(url)
    except SchemaNotCurrent as exc:
        fix = ("run `hotline db upgrade` first" if exc.known else
               "run the Hotline version that migrated it, or restore a matching backup")
        raise StartupError(f"{exc}: {fix}") from None


def listening(what: str, setting: str, host: str, port: int, listen: Callable[[], T]) -> T:
    """``listen()``, or a StartupError naming the address, what wanted it and the setting that moves it."""
    try:
        return listen()
    except CannotListenError as exc:
        reason = getattr(exc.socketError, "strerror", None) or str(exc.socketError)
        env = "HOTLINE_" + setting.replace(".", "_").upper()
        raise StartupError(f"cannot listen on {host}:{port} for {what}: {reason}; stop the program that holds it "
                           f"or choose another port with {setting} ({env})") from None


def refuse_demo_passwords(session_factory: Any, demo_mode: bool) -> list[str]:
    """StartupError outside demo mode while accounts keep demo passwords; in demo mode, those accounts."""
    from admin.bootstrap import DemoPasswordsLeft, refuse_demo_passwords as refuse
    from crm_core.db import transaction

    try:
        with transaction(session_factory) as session:
            return refuse(session, demo_mode)
    except DemoPasswordsLeft as exc:
        raise StartupError(str(exc)) from None
