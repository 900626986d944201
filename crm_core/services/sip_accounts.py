"""Agents' SIP phone accounts: extension, agent id and a password of their own, kept on the agent's row.

FreeSWITCH authenticates every phone against a directory; the database is
the record of which extension belongs to which agent, so the directory is
generated from here (``hotline freeswitch directory``). Each active agent
gets a random password the first time it is needed; ``rotate`` replaces
chosen ones (a lost phone, a leaver's desk). Passwords are generated, never
typed, so they are long and contain only characters safe in a SIP header
and in FreeSWITCH's XML. Every generated password is audited (without the
password itself).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.exceptions import UnknownAgent
from crm_core.models import Agent
from crm_core.services.audit import record_audit

#: bytes of randomness per password (24 URL-safe characters)
PASSWORD_BYTES = 18


@dataclass(frozen=True)
class SipAccount:
    """One agent phone as the switch's directory needs it."""

    agent_id: int
    extension: str
    name: str
    password: str


def new_sip_password() -> str:
    """A random password of URL-safe characters (A-Z a-z 0-9 - _)."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def sip_accounts(session: Session, *, rotate: Iterable[str] = (), by: str = "hotline") -> list[SipAccount]:
    """Accounts of all active agents by extension; missing passwords generated, ``rotate`` extensions renewed."""
    agents = session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.extension)).all()
    renew = {str(extension) for extension in rotate}
    unknown = renew - {agent.extension for agent in agents}
    if unknown:
        raise UnknownAgent(f"no active agent on extension {', '.join(sorted(unknown))}")
    accounts = []
    for agent in agents:
        if not agent.sip_password or agent.extension in renew:
            reason = "rotated" if agent.sip_password else "generated"
            agent.sip_password = new_sip_password()
            record_audit(session, "sip_password", "Agent", agent.id,
                         {"extension": agent.extension, "password": reason}, username=by)
        accounts.append(SipAccount(agent.id, agent.extension, agent.name, agent.sip_password))
    session.flush()
    return accounts
