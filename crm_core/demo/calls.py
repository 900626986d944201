"""A demo call on the record as the engine would leave it: its CDR (media plan, self-service outcome, who hung up)
and, when an agent took it, the agent's ringing -> on call -> wrap-up -> available changes, so reports of occupancy
and talk time describe the same calls."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.enums import AgentState, Direction, IvrOutcome
from crm_core.models import AgentStateChange
from crm_core.services.agents import log_agent_state
from crm_core.services.calls import CallUpdate, write_call_updates

RING = dt.timedelta(seconds=6)


def demo_call(session: Session, *, uuid: str, ani: str, dnis: str, customer_id: int | None, entered: dt.datetime,
              ended: dt.datetime, disposition: str, path: str, queue_id: int | None = None,
              agent_id: int | None = None, queued: dt.datetime | None = None, answered: dt.datetime | None = None,
              wrapup_ended: dt.datetime | None = None, media_source: str | None = None,
              hangup_cause: str = "NORMAL_CLEARING") -> None:
    """Write one inbound call's CDR (through the CDR service) and its agent's state changes."""
    outcome = IvrOutcome.TO_AGENT if queue_id else (
        IvrOutcome.CONTAINED if disposition in ("self_service", "order_placed") else IvrOutcome.ABANDONED)
    side = "caller" if hangup_cause == "ORIGINATOR_CANCEL" or not answered else "agent" if agent_id else "caller"
    values = {"entered_at": entered, "direction": Direction.INBOUND.value, "ani": ani, "dnis": dnis,
              "media_source": media_source or dnis, "customer_id": customer_id, "queue_id": queue_id,
              "agent_id": agent_id if answered else None, "queued_at": queued, "answered_at": answered,
              "ended_at": ended, "wrapup_ended_at": wrapup_ended, "disposition": disposition,
              "hangup_cause": hangup_cause, "hangup_side": side, "ivr_path": path, "ivr_outcome": outcome.value,
              "ivr_exit_node": path.split(">")[-1] if path else None}
    write_call_updates(session, [CallUpdate(uuid, values, opened=True)])
    if agent_id is not None and answered is not None:
        ring = answered - RING
        before, reason = _state_at(session, agent_id, ring)
        back = max(wrapup_ended or ended, ended) + dt.timedelta(seconds=10)
        for state, why, at in ((AgentState.RINGING, None, ring), (AgentState.ON_CALL, None, answered),
                               (AgentState.WRAP_UP, None, ended), (before, reason, back)):
            log_agent_state(session, agent_id, state, reason=why, call_uuid=uuid if why is None else None, at=at)


def _state_at(session: Session, agent_id: int, at: dt.datetime) -> tuple[str, str | None]:
    """The agent's state (and reason) in force at ``at``: where the agent goes back to after the call (a call
    outside the shift log is still on the record; the agent returns to being logged out)."""
    row = session.execute(select(AgentStateChange.state, AgentStateChange.reason)
                          .where(AgentStateChange.agent_id == agent_id, AgentStateChange.at <= at)
                          .order_by(AgentStateChange.at.desc(), AgentStateChange.id.desc()).limit(1)).first()
    if row is None or row.state in (AgentState.RINGING.value, AgentState.ON_CALL.value, AgentState.WRAP_UP.value):
        return (AgentState.LOGGED_OUT.value if row is None else AgentState.AVAILABLE.value), None
    return row.state, row.reason
