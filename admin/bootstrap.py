"""First-run users: documented demo users in demo mode, never a well-known password otherwise.

Demo mode creates one user per role with the passwords in ``DEMO_USERS``
(printed by the run command and listed in docs/admin.md). Outside demo mode,
when no active admin exists, an ``admin`` user is created with the password in
``HOTLINE_ADMIN_PASSWORD`` or a random one that is returned (to be printed
once) and never stored in clear.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.auth import hash_password
from crm_core.enums import AdminRole
from crm_core.models import AdminUser, Agent

PASSWORD_ENV = "HOTLINE_ADMIN_PASSWORD"

#: username -> (role, password): the demo install's users. Demo mode only.
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


def ensure_admin_user(
    session: Session, demo_mode: bool, env: Mapping[str, str] | None = None
) -> list[CreatedUser]:
    """Create the first users if missing (flushes, caller commits); returns who was created, to print."""
    env = os.environ if env is None else env
    created: list[CreatedUser] = []
    if demo_mode:
        existing = set(session.scalars(select(AdminUser.username).where(AdminUser.username.in_(DEMO_USERS))))
        for username, (role, password) in DEMO_USERS.items():
            if username not in existing:
                session.add(AdminUser(username=username, role=role.value, password_hash=hash_password(password)))
                created.append(CreatedUser(username, role.value, password))
        session.flush()
        _link_demo_agent(session)
        return created
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
