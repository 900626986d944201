"""What the agent desk asks of the ACD, run on the reactor thread through ``engine_bridge().call``.

Kept apart from the Flask views: these functions touch the live ACD objects
and may only run where the reactor runs; the views only pass them along.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer

from acd.agents import AgentState
from acd.exceptions import ConsultationState, NotAMember


def agent_view(acd: Any, agent_id: int) -> dict[str, Any]:
    view = acd.board.get(agent_id).view()
    view["all_queues"] = sorted(acd.queues)
    consultation = current_consultation(acd, agent_id)
    view["consultation"] = consultation.state if consultation is not None else None
    return view


def change_state(acd: Any, agent_id: int, action: str, reason: str | None, queues: list[str]) -> dict[str, Any]:
    agent = acd.board.get(agent_id)
    done = True
    if action == "login":
        names = queues or [name for name, cq in acd.queues.items() if agent.qualifies(cq.config.required_skills)]
        if not names:
            raise NotAMember(f"agent {agent_id} has the skills of no queue", agent_id=agent_id)
        acd.login(agent_id, names, state=AgentState.NOT_READY)
    elif action == "logout":
        acd.logout(agent_id, queues or None)
    elif action == "ready":
        if agent.state is AgentState.WRAP_UP:
            acd.ready(agent_id)
        else:
            done = acd.set_state(agent_id, AgentState.AVAILABLE)
    elif action == "not_ready":
        done = acd.set_state(agent_id, AgentState.NOT_READY, reason or "other")
    elif action == "break":
        done = acd.set_state(agent_id, AgentState.BREAK, reason or "break")
    view = agent_view(acd, agent_id)
    view["applied"] = done
    return view


def current_consultation(acd: Any, agent_id: int) -> Any:
    for consultation in list(getattr(acd.transfers, "consultations", {}).values()):
        if consultation.agent.id == agent_id and consultation.state in ("ringing", "talking"):
            return consultation
    return None


def transfer(acd: Any, agent_id: int, action: str, target: str) -> Any:
    if action == "blind":
        return acd.transfer_blind(agent_id, target).addCallback(lambda _r: {"state": "transferred"})
    if action == "consult":
        dest: int | str = target
        if target.startswith("agent:") and target[6:].isdigit():
            dest = int(target[6:])
        consultation = acd.consult(agent_id, dest)
        consultation.ready.addErrback(lambda _f: None)  # the desk hears the outcome through the bus
        return {"state": consultation.state, "consult_uuid": consultation.leg_uuid}
    consultation = current_consultation(acd, agent_id)
    if consultation is None:
        return defer.fail(ConsultationState("no consultation in progress", agent_id=agent_id))
    d = consultation.complete() if action == "consult_complete" else consultation.cancel()
    return d.addCallback(lambda c: {"state": c.state})


def claim(acd: Any, request_id: int, agent_id: int) -> Any:
    return acd.callbacks.claim(request_id, agent_id)


def complete(acd: Any, request_id: int, agent_id: int, success: bool, note: str | None) -> Any:
    return acd.callbacks.complete(request_id, agent_id, success, note)


def supervise(acd: Any, ext: str, agent_id: int, mode: str) -> Any:
    for supervision in acd.supervisors.for_agent(agent_id):
        if supervision.supervisor_ext == ext and supervision.active:
            return supervision.set_mode(mode).addCallback(lambda s: s.view())
    return acd.supervise(ext, agent_id, mode).addCallback(lambda s: s.view())
