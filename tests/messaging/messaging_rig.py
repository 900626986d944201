"""Shared helpers of the messaging tests: a migrated database with its gateway, bounded polling.

A module of its own, not conftest, so test files import it by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from twisted.internet import reactor

from engine_rig import wait_for

from crm_core.db import make_engine, session_factory, transaction
from crm_core.models import OutboxMessage


@dataclass
class OutboxDb:
    url: str
    engine: Any
    sessions: sessionmaker[Session]
    gateway: Any

    @classmethod
    def create(cls, url: str) -> "OutboxDb":
        from crm_core.migrate import upgrade
        from crm_core.services.message_templates import ensure_default_templates
        from hotline.db_gateway import ThreadPoolGateway

        upgrade(url)
        engine = make_engine(url)
        sessions = session_factory(engine)
        with transaction(sessions) as s:
            ensure_default_templates(s)
        gateway = ThreadPoolGateway(sessions, reactor, max_threads=4)
        gateway.start()
        return cls(url, engine, sessions, gateway)

    def close(self) -> None:
        self.gateway.stop()
        self.engine.dispose()

    def do(self, fn: Callable[[Session], Any]) -> Any:
        with transaction(self.sessions) as s:
            return fn(s)

    def message(self, message_id: int) -> OutboxMessage:
        return self.do(lambda s: s.get(OutboxMessage, message_id))

    def messages(self) -> list[OutboxMessage]:
        return self.do(lambda s: list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))))


__all__ = ["OutboxDb", "wait_for"]  # wait_for: the engine tests' bounded polling (tests/engine_rig.py)
