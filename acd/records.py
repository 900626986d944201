"""Ports for the record: call detail records and the previous-agent history.

The ACD tells a :class:`CdrSink` what happened to each caller as it happens
(the DB writer is :class:`acd.store.DbCdr`); :class:`History` answers "who
served this customer last". The memory versions serve the demo without a
database and keep what they were told for inspection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from twisted.internet import defer


@dataclass
class CdrEvent:
    """One CDR update: ``kind`` is queued, answered, ended, wrapup_ended."""

    kind: str
    call_uuid: str
    at: float
    fields: dict[str, Any] = field(default_factory=dict)


class CdrSink(Protocol):
    def write(self, event: CdrEvent) -> Any: ...


class MemoryCdr:
    """Keeps CDR events in order, and the merged record per call."""

    def __init__(self) -> None:
        self.events: list[CdrEvent] = []
        self.records: dict[str, dict[str, Any]] = {}

    def write(self, event: CdrEvent) -> None:
        self.events.append(event)
        record = self.records.setdefault(event.call_uuid, {"uuid": event.call_uuid})
        record.update(event.fields)
        record[f"{event.kind}_at"] = event.at


class History(Protocol):
    def previous_agent(self, customer_id: int | None, ani: str, since: float) -> defer.Deferred: ...


class MemoryHistory:
    """Previous agents from served calls this process saw (customer id or number -> (agent, when))."""

    def __init__(self) -> None:
        self.served: dict[object, tuple[int, float]] = {}

    def remember(self, customer_id: int | None, ani: str, agent_id: int, at: float) -> None:
        for key in (("customer", customer_id), ("ani", ani)):
            if key[1]:
                self.served[key] = (agent_id, at)

    def previous_agent(self, customer_id: int | None, ani: str, since: float) -> defer.Deferred:
        for key in (("customer", customer_id), ("ani", ani)):
            hit = self.served.get(key) if key[1] else None
            if hit is not None and hit[1] >= since:
                return defer.succeed(hit[0])
        return defer.succeed(None)
