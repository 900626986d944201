"""Ports for the record: the call recorder the ACD reports to, and the previous-agent history.

The ACD does not own any call's CDR: it reports each caller's steps (queued,
answered, ended, wrapup_ended, linked) to the engine's call recorder through
crm_core's :class:`~crm_core.call_events.CallReporter` interface (``CdrSink``
here is that interface, ``CdrEvent`` its event). :class:`History` answers
"who served this customer last". The memory versions serve the ACD on its own
and keep what they were told for inspection.
"""

from __future__ import annotations

from typing import Any, Protocol

from twisted.internet import defer

from crm_core.call_events import CallEvent as CdrEvent
from crm_core.call_events import CallReporter as CdrSink

__all__ = ["CdrEvent", "CdrSink", "History", "MemoryCdr", "MemoryHistory"]


class MemoryCdr:
    """Keeps the reported events in order, and the merged record per call."""

    def __init__(self) -> None:
        self.events: list[CdrEvent] = []
        self.records: dict[str, dict[str, Any]] = {}

    def report(self, event: CdrEvent) -> None:
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
