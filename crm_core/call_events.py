"""What happens on a call, in the words the IVR, the ACD and the dialer use to tell the call recorder.

Every call has one CDR, owned by one call recorder (not by the IVR or the
ACD). The parts that see the call report to it through this small interface:
a :class:`CallEvent` (kind, call uuid, time, fields) given to a
:class:`CallReporter`. :func:`update_for` says what each event changes on the
call's row, as a :class:`crm_core.services.calls.CallUpdate`.

It lives in ``crm_core`` because every reporter may import ``crm_core`` and
none may import another (``ivr`` and ``acd`` are strangers; ``hotline`` builds
the recorder and hands it to both). It names no Twisted type.

Kinds and their fields (all optional unless said):

=================  ==============================================================================
``entered``        the first event: ``direction``, ``ani``, ``dnis``, ``media_source``, ``campaign_id`` and
                   ``customer_id`` (an outbound campaign call's), ``leg`` (opens the row)
``identified``     ``customer_id`` -- who the caller is
``ivr_node``       ``node`` -- a menu node the caller reached
``ivr_outcome``    ``outcome`` (contained / to_agent / abandoned / hung_up), ``exit_node``
``queued``         ``queue_id``, ``queue``, ``entered_at``, ``ani``, ``dnis``, ``customer_id``,
                   ``direction``, ``leg`` + ``parent_uuid`` (a transferred caller's next segment),
                   ``overflow_from`` (opens the row if it is new)
``answered``       ``agent_id``, ``agent_leg_uuid``, ``decisions`` (the routing so far)
``ended``          the ACD is done: ``disposition``, ``hangup_cause``, ``hangup_side``, ``agent_id``,
                   ``decisions``
``wrapup_ended``   the agent finished after-call work
``linked``         ``kind`` (orders, complaints, callbacks, voicemails, recordings, transfers,
                   agent_legs, campaign_attempts) and ``value`` -- something the call created or touched
``hangup``         the channel hung up: ``cause``, ``side`` (caller, agent, system); closes the row
                   unless the ACD already ended it (then only what is still unknown is filled in)
=================  ==============================================================================
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol

from crm_core.enums import Direction, IvrOutcome
from crm_core.services.calls import LINK_KINDS, CallUpdate

UTC = dt.timezone.utc

ENTERED = "entered"
IDENTIFIED = "identified"
IVR_NODE = "ivr_node"
IVR_OUTCOME = "ivr_outcome"
QUEUED = "queued"
ANSWERED = "answered"
ENDED = "ended"
WRAPUP_ENDED = "wrapup_ended"
LINKED = "linked"
HANGUP = "hangup"
KINDS = frozenset({ENTERED, IDENTIFIED, IVR_NODE, IVR_OUTCOME, QUEUED, ANSWERED, ENDED, WRAPUP_ENDED, LINKED,
                   HANGUP})
#: The disposition of a call that ended in the IVR, by its self-service outcome.
IVR_DISPOSITIONS = {IvrOutcome.CONTAINED.value: "self_service", IvrOutcome.ABANDONED.value: "ivr_abandoned",
                    IvrOutcome.HUNG_UP.value: "ivr_hung_up"}


@dataclass(frozen=True)
class CallEvent:
    """One thing that happened on one call (``call_uuid`` is the CDR row's key: a segment's own uuid)."""

    kind: str
    call_uuid: str
    at: float  # epoch seconds (the reporter's clock)
    fields: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown call event {self.kind!r}")


class CallReporter(Protocol):
    """Takes call events (never blocks, never raises for a bad write: the recorder logs it)."""

    def report(self, event: CallEvent) -> None: ...


class NullReporter:
    """A reporter that keeps nothing (a part run without a recorder)."""

    def report(self, event: CallEvent) -> None:
        """Nothing."""


class MemoryReporter:
    """Keeps every event in order (tests, and the ACD standalone)."""

    def __init__(self) -> None:
        self.events: list[CallEvent] = []

    def report(self, event: CallEvent) -> None:
        self.events.append(event)

    def of(self, call_uuid: str, kind: str | None = None) -> list[CallEvent]:
        """The events of one call (of one kind)."""
        return [e for e in self.events if e.call_uuid == call_uuid and (kind is None or e.kind == kind)]


def ts(seconds: float) -> dt.datetime:
    """Epoch seconds as an aware UTC datetime."""
    return dt.datetime.fromtimestamp(seconds, UTC)


def _present(fields: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {name: fields[name] for name in names if fields.get(name) not in (None, "")}


def update_for(event: CallEvent) -> CallUpdate:
    """What ``event`` changes on its call's row (appends for the growing columns)."""
    f, at, uuid = event.fields, ts(event.at), event.call_uuid
    kind = event.kind
    if kind == ENTERED:
        values = {"entered_at": at, "direction": f.get("direction") or Direction.INBOUND.value,
                  **_present(f, "ani", "dnis", "media_source", "leg", "parent_uuid", "campaign_id", "customer_id")}
        return CallUpdate(uuid, values, opened=True)
    if kind == IDENTIFIED:
        return CallUpdate(uuid, _present(f, "customer_id"))
    if kind == IVR_NODE:
        return CallUpdate(uuid, {}, {"ivr_path": [str(f["node"])]})
    if kind == IVR_OUTCOME:
        outcome = IvrOutcome(f["outcome"]).value
        values = {"ivr_outcome": outcome, **({"ivr_exit_node": str(f["exit_node"])} if f.get("exit_node") else {})}
        disposition = IVR_DISPOSITIONS.get(outcome)  # a call handed to the ACD gets the ACD's disposition
        return CallUpdate(uuid, values, fill={"disposition": disposition} if disposition else {})
    if kind == QUEUED:
        values = {"queued_at": at, "entered_at": ts(f["entered_at"]) if f.get("entered_at") else at,
                  "direction": f.get("direction") or Direction.INBOUND.value,
                  **_present(f, "queue_id", "ani", "dnis", "customer_id", "media_source")}
        for key in ("leg", "parent_uuid"):
            if f.get(key):
                values[key] = str(f[key])
        return CallUpdate(uuid, values, opened=True)
    if kind == ANSWERED:
        values = {"answered_at": at, "agent_id": f.get("agent_id")}
        if f.get("decisions") is not None:
            values["routing"] = list(f["decisions"])
        appends = {"links": {"agent_legs": [f["agent_leg_uuid"]]}} if f.get("agent_leg_uuid") else {}
        return CallUpdate(uuid, values, appends)
    if kind == ENDED:
        values = {"ended_at": at, "disposition": (f.get("disposition") or None),
                  "hangup_cause": f.get("hangup_cause") or None}
        values.update(_present(f, "agent_id", "hangup_side"))
        if f.get("decisions") is not None:
            values["routing"] = list(f["decisions"])
        return CallUpdate(uuid, values)
    if kind == WRAPUP_ENDED:
        return CallUpdate(uuid, {"wrapup_ended_at": at})
    if kind == LINKED:
        link = str(f["kind"])
        if link not in LINK_KINDS:
            raise ValueError(f"call {uuid}: cannot link a {link!r}")
        return CallUpdate(uuid, {}, {"links": {link: [f["value"]]}})
    # HANGUP: fills what is still unknown (the ACD may have ended the row already)
    return CallUpdate(uuid, fill={"ended_at": at, "hangup_cause": f.get("cause") or None,
                                  "hangup_side": f.get("side") or None})
