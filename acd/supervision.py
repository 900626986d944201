"""Supervisor listen / whisper / barge / conference on an agent's live call.

The supervisor's phone is rung with ``originate user/<ext> &eavesdrop(<agent leg>)``
(mod_dptools): the supervisor hears both sides of the agent's call. The mode
is set at the start with ``eavesdrop_whisper_aleg/bleg`` and changed later
with the eavesdrop DTMF keys, sent to the supervisor's channel with
``uuid_recv_dtmf`` (or pressed on the supervisor's own phone). The target is
the *agent* leg, so in FreeSWITCH's terms (switch_ivr_eavesdrop_session):

===================== ========== ========================= =====================
mode                  key        flags                     who hears the supervisor
===================== ========== ========================= =====================
``listen``            ``0``      none                      nobody
``whisper``           ``2``      ED_MUX_WRITE (whisper_bleg) the agent only
``talk_to_customer``  ``1``      ED_MUX_READ (whisper_aleg)  the customer only
``barge``             ``3``      both                      agent and customer
===================== ========== ========================= =====================

``conference`` rings the supervisor with ``&three_way(<agent leg>)`` (mod_dptools:
eavesdrop with MUX_READ|MUX_WRITE, no DTMF control): a three-way call for
the rest of the agent's call. ``*`` (or :meth:`Supervision.stop`) ends an
eavesdrop; the supervisor's leg hangs up with the agent's call.
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from typing import Any, Callable

from twisted.internet import defer

from acd import events
from acd.exceptions import SwitchCommandFailed, TargetUnavailable, UnknownSupervisionMode
from acd.lifecycle import CallerLifecycle
from acd.queues import WaitingCaller

log = logging.getLogger(__name__)

#: mode -> DTMF key of mod_dptools' eavesdrop loop (target = the agent leg)
KEYS = {"listen": "0", "talk_to_customer": "1", "whisper": "2", "barge": "3"}
#: mode -> originate variables that start the eavesdrop in that mode
START_VARS: dict[str, dict[str, str]] = {
    "listen": {},
    "talk_to_customer": {"eavesdrop_whisper_aleg": "true"},
    "whisper": {"eavesdrop_whisper_bleg": "true"},
    "barge": {"eavesdrop_whisper_aleg": "true", "eavesdrop_whisper_bleg": "true"},
}
MODES = frozenset(KEYS) | {"conference"}


class Supervision:
    """One supervisor on one agent call; ``ended`` fires with the hang-up cause of the supervisor's leg."""

    def __init__(self, supervisors: "Supervisors", supervisor_ext: str, agent_id: int, agent_leg: str,
                 call_uuid: str, mode: str, switch: Any) -> None:
        self.supervisors, self.switch = supervisors, switch
        self.supervisor_ext, self.agent_id, self.agent_leg, self.call_uuid = supervisor_ext, agent_id, agent_leg, call_uuid
        self.mode = mode
        self.uuid = str(uuidlib.uuid4())  # the supervisor's leg (origination_uuid)
        self.modes: list[str] = [mode]
        self.active = False
        self.ended: defer.Deferred = defer.Deferred()

    def view(self) -> dict[str, Any]:
        return {"supervision_id": self.uuid, "supervisor_ext": self.supervisor_ext, "agent_id": self.agent_id,
                "agent_leg_uuid": self.agent_leg, "call_uuid": self.call_uuid, "mode": self.mode}

    def set_mode(self, mode: str) -> defer.Deferred:
        """Switch between listen / whisper / talk_to_customer / barge (the eavesdrop DTMF keys)."""
        if mode not in KEYS or self.mode == "conference":
            return defer.fail(UnknownSupervisionMode(f"cannot switch to {mode!r} here", mode=mode))
        if not self.active:
            return defer.fail(SwitchCommandFailed("supervision is over", supervision_id=self.uuid))

        def sent(_r: object) -> "Supervision":
            self.mode = mode
            self.modes.append(mode)
            self.supervisors.bus.publish(events.SUPERVISION_MODE, self.view())
            return self

        return self.switch.api(f"uuid_recv_dtmf {self.uuid} {KEYS[mode]}").addCallback(sent)

    def stop(self) -> defer.Deferred:
        """Hang up the supervisor's leg."""
        return self.switch.uuid_kill(self.uuid, "NORMAL_CLEARING").addErrback(lambda _f: None)


class Supervisors:
    """Starts and tracks supervisions; the switch's CHANNEL_HANGUP ends them."""

    def __init__(self, lifecycle: CallerLifecycle, bus: events.EventBus,
                 switch_for: Callable[[WaitingCaller], Any]) -> None:
        self.lifecycle = lifecycle
        self.bus = bus
        self.switch_for = switch_for  # the switch to send a caller's commands to (SwitchCommandFailed if none)
        self.active: dict[str, Supervision] = {}
        self._subscribed: Any = None

    def supervise(self, supervisor_ext: str, agent_id: int, mode: str = "listen") -> defer.Deferred:
        """Ring the supervisor into the agent's call; fires with the :class:`Supervision` once answered."""
        try:
            if mode not in MODES:
                raise UnknownSupervisionMode(f"unknown supervision mode {mode!r}", mode=mode)
            agent, caller = self.lifecycle.live_call(agent_id)
            switch = self.switch_for(caller)
        except Exception:
            return defer.fail()
        sup = Supervision(self, supervisor_ext, agent.id, agent.agent_leg_uuid or "", caller.uuid, mode, switch)
        self._subscribe(switch)
        self.active[sup.uuid] = sup
        app = f"&three_way({sup.agent_leg})" if mode == "conference" else f"&eavesdrop({sup.agent_leg})"
        variables = {"origination_caller_id_name": f"{mode} {agent.name or agent.extension}",
                     "origination_caller_id_number": agent.extension, "hotline_supervised_agent": agent.id,
                     "hotline_call_uuid": caller.uuid, **START_VARS.get(mode, {})}
        log.info("call %s: supervisor %s %s agent %s", caller.uuid, supervisor_ext, mode, agent.id)

        def answered(_uuid: str) -> Supervision:
            sup.active = True
            self.bus.publish(events.SUPERVISION_STARTED, sup.view())
            return sup

        def failed(failure: Any) -> None:
            self.active.pop(sup.uuid, None)
            cause = failure.getErrorMessage().replace("-ERR", "").strip()
            raise TargetUnavailable(f"supervisor {supervisor_ext} unavailable: {cause}", target=supervisor_ext,
                                    cause=cause)

        d = switch.originate(f"user/{supervisor_ext}", app, variables, 30, sup.uuid)
        return d.addCallbacks(answered, failed)

    def _subscribe(self, switch: Any) -> None:
        if self._subscribed is not switch:
            switch.subscribe("CHANNEL_HANGUP", self._on_hangup)
            self._subscribed = switch

    def _on_hangup(self, event: Any) -> None:
        sup = self.active.pop(event.get("Unique-ID") or "", None)
        if sup is None:
            return
        was_active, sup.active = sup.active, False
        cause = event.get("Hangup-Cause") or "NORMAL_CLEARING"
        if was_active:
            self.bus.publish(events.SUPERVISION_ENDED, {**sup.view(), "cause": cause})
        if not sup.ended.called:
            sup.ended.callback(cause)

    def for_agent(self, agent_id: int) -> list[Supervision]:
        return [s for s in self.active.values() if s.agent_id == agent_id]
