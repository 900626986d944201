"""First-run users, and the demo users that exist only when demo data was loaded on purpose.

* :func:`create_demo_users` makes one user per role with the well-known
  passwords in ``DEMO_USERS``; only ``hotline demo-data`` calls it.
* :func:`ensure_admin_user` runs at every start: when no active admin exists
  it creates ``admin`` with the password in ``HOTLINE_ADMIN_PASSWORD`` or a
  random one that is returned (to be printed once) and never stored in clear.
  It never creates a well-known password.
* :func:`refuse_demo_passwords`: outside demo mode (``admin.demo_mode``
  false, the default) the engine and the stand-alone admin refuse to start
  while any account still has its demo password, with one line naming the fix.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.auth import hash_password, verify_password
from crm_core.demo.passwords import ITERATIONS as CRM_DEMO_ITERATIONS
from crm_core.enums import AdminRole
from crm_core.models import AdminUser, Agent

PASSWORD_ENV = "HOTLINE_ADMIN_PASSWORD"
#: How crm_core's demo loader hashes the passwords it sets.
CRM_DEMO_HASH_PREFIX = f"pbkdf2:sha256:{CRM_DEMO_ITERATIONS}$"

#: username -> (role, password): the demo users ``hotline demo-data`` creates (docs/admin.md lists them).
DEMO_USERS: dict[str, tuple[AdminRole, str]] = {
    "admin": (AdminRole.ADMIN, "admin-demo"),
    "supervisor": (AdminRole.SUPERVISOR, "supervisor-demo"),
    "campaign": (AdminRole.CAMPAIGN_MANAGER, "campaign-demo"),
    "agent": (AdminRole.AGENT, "agent-demo"),
}


@dataclass(frozen=True)
class CreatedUser:
    """A user made by ``ensure_admin_user``; ``password`` is None when it came from the environment."""

    username: str
    role: str
    password: str | None


def _link_demo_agent(session: Session) -> None:
    """Give the demo ``agent`` user a desk: link it to the first agent (by extension) when unlinked."""
    user = session.scalars(select(AdminUser).where(AdminUser.username == "agent")).first()
    if user is None or user.agent_id is not None:
        return
    first = session.scalars(select(Agent).order_by(Agent.extension, Agent.id).limit(1)).first()
    if first is not None:
        user.agent_id = first.id
        session.flush()


def create_demo_users(session: Session) -> list[CreatedUser]:
    """The demo users with their well-known passwords, where missing (flushes, caller commits): demo data only."""
    created: list[CreatedUser] = []
    existing = set(session.scalars(select(AdminUser.username).where(AdminUser.username.in_(DEMO_USERS))))
    for username, (role, password) in DEMO_USERS.items():
        if username not in existing:
            session.add(AdminUser(username=username, role=role.value, password_hash=hash_password(password)))
            created.append(CreatedUser(username, role.value, password))
    session.flush()
    _link_demo_agent(session)
    return created


def _demo_passwords(username: str, password_hash: str) -> list[str]:
    """The well-known passwords an account of this name may still have (the hashes are checked, not compared)."""
    candidates = [DEMO_USERS[username][1]] if username in DEMO_USERS else []
    if password_hash.startswith(CRM_DEMO_HASH_PREFIX):  # made by crm_core's demo loader
        from crm_core.demo.contact_center import admin_user_table

        candidates += [password for name, _, password, _ in admin_user_table() if name == username]
    return candidates


def demo_password_accounts(session: Session) -> list[str]:
    """Usernames (active or not) whose password is still a documented demo password."""
    from crm_core.demo.contact_center import admin_user_table

    names = set(DEMO_USERS) | {name for name, _, _, _ in admin_user_table()}
    rows = session.execute(select(AdminUser.username, AdminUser.password_hash)
                           .where(AdminUser.username.in_(names)).order_by(AdminUser.id)).all()
    return [name for name, stored in rows
            if any(verify_password(stored, password) for password in _demo_passwords(name, stored))]


class DemoPasswordsLeft(RuntimeError):
    """Outside demo mode, accounts still have their well-known demo passwords."""


def refuse_demo_passwords(session: Session, demo_mode: bool) -> list[str]:
    """Outside demo mode raise DemoPasswordsLeft naming the accounts; in demo mode return them (to print)."""
    accounts = demo_password_accounts(session)
    if accounts and not demo_mode:
        raise DemoPasswordsLeft(
            f"admin account(s) {', '.join(accounts)} still have their demo passwords (from `hotline demo-data`) "
            "and the engine starts with them only in demo mode: set a new password for each with "
            "`hotline admin create-user NAME`, or run the demo with HOTLINE_ADMIN_DEMO_MODE=true "
            "(admin.demo_mode = true), as `make run` does")
    return accounts


def ensure_admin_user(session: Session, env: Mapping[str, str] | None = None) -> list[CreatedUser]:
    """The first admin when no active admin exists (flushes, caller commits); returns it, to print once."""
    env = os.environ if env is None else env
    created: list[CreatedUser] = []
    has_admin = session.scalar(
        select(AdminUser.id).where(AdminUser.role == AdminRole.ADMIN.value, AdminUser.active.is_(True)).limit(1)
    )
    if has_admin is not None:
        return created
    from_env = env.get(PASSWORD_ENV) or None
    password = from_env or secrets.token_urlsafe(12)
    user = session.scalars(select(AdminUser).where(AdminUser.username == "admin")).first()
    if user is None:
        user = AdminUser(username="admin")
        session.add(user)
    user.role, user.active, user.password_hash = AdminRole.ADMIN.value, True, hash_password(password)
    session.flush()
    created.append(CreatedUser("admin", AdminRole.ADMIN.value, None if from_env else password))
    return created


def describe(created: list[CreatedUser], url: str) -> str:
    """The lines the run command prints about the admin UI and the users it just created."""
    lines = [f"admin UI: {url}"]
    for user in created:
        secret = user.password if user.password is not None else f"(from ${PASSWORD_ENV})"
        lines.append(f"  created {user.role} user {user.username!r}, password: {secret}")
    if any(u.password and u.username == "admin" and u.role == "admin" for u in created) and len(created) == 1:
        lines.append("  (this password is shown only once: change it under System → Users)")
    return "\n".join(lines)
