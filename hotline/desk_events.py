"""From the ACD's event bus to the agent desks' server-sent event topics.

The ACD publishes on its in-process bus (reactor thread). For each desk this
bridge publishes to the EventHub topic ``desk:<agent_id>``:

* ``screen_pop`` -- when the ACD chooses the agent for a call (``acd.screen_pop``,
  before the phone rings): the call (uuid, queue, ANI/DNIS, IVR path, wait)
  and the customer's card (profile, member level, points, VIP / blacklist
  flags, recent orders, complaints, interactions), read from crm_core on the
  ACD's database pool (``ThreadPoolGateway``), never on the reactor thread.
  The call part goes out at once as ``screen_pop_call`` so the desk reacts even
  before the database answers;
* ``agent_state`` -- every state change of the agent (``acd.agent_state``);
* ``transfer`` / ``supervision`` -- the ACD's transfer and supervision events.

Supervisors' desks listen on ``desk:supervisors`` (agents' questions, published
by the desk views) and ``desk:all`` (every agent's state, for the agent list).
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from acd import events

log = logging.getLogger(__name__)

SUPERVISORS_TOPIC = "desk:supervisors"
ALL_AGENTS_TOPIC = "desk:all"


def desk_topic(agent_id: int | str) -> str:
    """The EventHub topic of one agent's desk."""
    return f"desk:{agent_id}"


class DeskEvents:
    """Subscribes to the ACD bus; publishes desk events to ``hub``; loads pop data through ``gateway``."""

    def __init__(self, bus: events.EventBus, hub: Any, gateway: Any,
                 card: Callable[[Any, dict[str, Any]], dict[str, Any]] | None = None) -> None:
        if card is None:
            from admin.views.desk_data import screen_pop_card

            card = screen_pop_card
        self.bus, self.hub, self.gateway, self.card = bus, hub, gateway, card
        self._unsubscribe: list[Callable[[], None]] = []
        self.pops: list[dict[str, Any]] = []  # recent full pops (tests, diagnostics)

    def start(self) -> "DeskEvents":
        subscribe = self.bus.subscribe
        self._unsubscribe = [subscribe(events.SCREEN_POP, self._screen_pop),
                             subscribe(events.AGENT_STATE, self._agent_state)]
        for topic in (events.TRANSFER_STARTED, events.TRANSFER_COMPLETED, events.TRANSFER_CANCELLED,
                      events.TRANSFER_FAILED):
            self._unsubscribe.append(subscribe(topic, self._transfer))
        for topic in (events.SUPERVISION_STARTED, events.SUPERVISION_MODE, events.SUPERVISION_ENDED):
            self._unsubscribe.append(subscribe(topic, self._supervision))
        return self

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []

    def _screen_pop(self, _topic: str, pop: dict[str, Any]) -> None:
        agent_id = pop.get("agent_id")
        if agent_id is None:
            return
        topic = desk_topic(agent_id)
        self.hub.publish(topic, "screen_pop_call", {k: v for k, v in pop.items() if k != "customer"})
        d = self.gateway.run(lambda session: self.card(session, pop))

        def loaded(card: dict[str, Any]) -> None:
            self.pops.append(card)
            del self.pops[:-50]
            self.hub.publish(topic, "screen_pop", card)

        def failed(failure: Any) -> None:
            log.error("call %s: screen pop for agent %s failed: %s", pop.get("call_uuid"), agent_id,
                      failure.getErrorMessage())
            self.hub.publish(topic, "screen_pop", {"call_uuid": pop.get("call_uuid"), "ani": pop.get("ani"),
                                                   "ivr_path": pop.get("ivr_path"), "queue": pop.get("queue"),
                                                   "customer": None, "error": "customer data unavailable"})

        d.addCallbacks(loaded, failed)

    def _agent_state(self, _topic: str, view: dict[str, Any]) -> None:
        agent_id = view.get("agent_id")
        if agent_id is None:
            return
        self.hub.publish(desk_topic(agent_id), "agent_state", view)
        self.hub.publish(ALL_AGENTS_TOPIC, "agent_state", view)

    def _transfer(self, topic: str, payload: dict[str, Any]) -> None:
        if payload.get("agent_id") is not None:
            self.hub.publish(desk_topic(payload["agent_id"]), "transfer", {"event": topic, **payload})

    def _supervision(self, topic: str, payload: dict[str, Any]) -> None:
        if payload.get("agent_id") is not None:
            self.hub.publish(SUPERVISORS_TOPIC, "supervision", {"event": topic, **payload})


def attach(engine: Any, service: Any) -> DeskEvents | None:
    """Wire the desk events of ``engine`` (its EventHub) to the ACD ``service`` (its bus and DB gateway)."""
    hub = getattr(engine, "events", None)
    if hub is None:
        return None
    desk = DeskEvents(service.acd.bus, hub, service.gateway).start()
    service.stops.append(desk.stop)
    service.desk_events = desk
    return desk
