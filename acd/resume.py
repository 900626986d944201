"""After an engine restart: waiting callers back in line in their place, open callbacks back in the queue.

Memory dies with the engine; the switch and the database do not. So:

* when a caller enters a line its :class:`QueuePlace` (queue, entry time,
  priority, skills, customer, IVR path, language) is written on its channel
  as ``hotline_acd_*`` variables, and cleared when an agent answers or the
  caller leaves the line (``BridgeLeg.keep_place`` -> ``uuid_setvar_multi``);
* when the engine dies the outbound socket closes. A caller between two apps
  goes straight on in the dialplan to ``hotline_reconnect`` (one moment
  please, the socket again); a caller inside the endless hold music stays
  there -- FreeSWITCH returns from the socket app only when that playback
  ends -- until :func:`recover_waiting_callers`, run at start, finds it (the
  database's open CDR rows of queued, unanswered calls, checked against
  ``show channels`` and the channel's own ``hotline_acd_queue``) and
  ``uuid_transfer``s it to ``hotline_reconnect``;
* the reconnected call arrives at the CallServer with its place in the
  connect reply; :meth:`Resumer.resume` puts it back in line with its
  original entry time and a sequence number reserved in entry-time order, so
  callers who came later stay behind it. It is not counted as a new offer;
* open CDR rows whose channel is gone are closed (``ENGINE_RESTART``), and
  the virtual-hold callback requests of the last 12 h still pending or
  scheduled are re-queued as virtual entries
  (:meth:`acd.callbacks.CallbackManager.restore`); requests from the IVR's
  callback menu or an agent stay in the manual list, as before the restart.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from twisted.internet import defer

from acd.agents import AgentBoard, AgentState
from acd.callbacks import CallbackManager, is_virtual_hold
from acd.lifecycle import CallerLifecycle
from acd.place import AGENT_VAR, OFFERED_VAR, PREFIX, QUEUE_VAR, QueuePlace, left_line
from acd.queues import next_seq

log = logging.getLogger(__name__)

__all__ = ["AGENT_VAR", "LOOKBACK", "OFFERED_VAR", "OpenCall", "PREFIX", "QUEUE_VAR", "QueuePlace", "Recovery",
           "Resumer", "left_line"]
#: where a stranded caller is sent: the dialplan's reconnect extension (dialplans/public/hotline.xml)
RECONNECT_EXTENSION = ("hotline_reconnect", "XML", "public")
#: how far back the start-up looks for calls that were waiting when the engine died
LOOKBACK = dt.timedelta(hours=12)
_DEAD_STATES = frozenset({"CS_HANGUP", "CS_REPORTING", "CS_DESTROY"})


@dataclass
class OpenCall:
    """A CDR row the database still has open: the call was in the ACD when the engine stopped."""

    uuid: str
    queue: str | None
    entered_at: float
    answered: bool
    agent_id: int | None = None


@dataclass
class Recovery:
    """What the start-up found and did."""

    transferred: list[str] = field(default_factory=list)  # stranded waiting callers sent to reconnect
    closed: list[str] = field(default_factory=list)  # open CDRs whose channel was gone
    talking: list[str] = field(default_factory=list)  # answered calls still up (their agents stay on_call)
    callbacks: list[int] = field(default_factory=list)  # callback requests back in line


class Resumer:
    """Start-up recovery and the re-entry of reconnected callers, for one ACD."""

    def __init__(self, lifecycle: CallerLifecycle, board: AgentBoard, callbacks: CallbackManager,
                 enter: Callable[..., defer.Deferred], reconnect: tuple[str, str, str] = RECONNECT_EXTENSION) -> None:
        self.lifecycle = lifecycle
        self.board = board
        self.callbacks = callbacks
        self.enter = enter  # Acd.enqueue: puts a caller in line with a given entry time and sequence number
        self.reconnect = reconnect
        #: call uuid -> sequence number reserved in entry-time order at start
        self.reserved: dict[str, int] = {}
        #: answered calls still up at start (no WaitingCaller any more): their CDR closes when they end
        self.talking: dict[str, OpenCall] = {}

    def resume(self, leg: Any, place: QueuePlace) -> defer.Deferred:
        """Put a reconnected caller back in line; Deferred of its QueueOutcome (as ``Acd.enqueue``)."""
        queues = self.lifecycle.queues
        queue = place.queue if place.queue in queues else None
        if queue is None:
            queue = next(iter(sorted(queues)), place.queue)
            log.warning("call %s: its queue %r is gone; resuming in %r", leg.uuid, place.queue, queue)
        seq = self.reserved.pop(leg.uuid, None)
        log.info("call %s: back in %s after an engine restart (waiting since %.0f s, %s)", leg.uuid, queue,
                 self.lifecycle.clock.seconds() - place.entered_at, "place kept" if seq is not None else "new place")
        customer = {"id": place.customer_id} if place.customer_id is not None else {}
        return self.enter(leg, queue, skills=dict(place.skills), customer=customer, priority=place.priority,
                          ivr_path=place.ivr_path, language=place.language, entered_at=place.entered_at, seq=seq,
                          callback_offered=place.callback_offered)

    async def recover(self, switch: Any, open_calls: Iterable[OpenCall], callbacks: Iterable[Mapping[str, Any]]
                      ) -> Recovery:
        """Once the switch answers: bring back stranded callers, close dead CDRs, re-queue callbacks."""
        callers = self.lifecycle.callers
        open_calls = list(open_calls)
        rows = await switch.show_channels()
        live = {row.uuid for row in rows if row.state not in _DEAD_STATES}
        result = Recovery()
        now = self.lifecycle.clock.seconds()
        waiting: list[tuple[float, str]] = []
        for call in open_calls:
            if call.uuid in callers:
                continue  # it reconnected by itself already
            if call.uuid not in live:
                self._close(call, now)
                result.closed.append(call.uuid)
            elif call.answered:
                result.talking.append(call.uuid)
                self.talking[call.uuid] = call
                self._keep_agent_on_call(call)
            else:
                waiting.append((call.entered_at, call.uuid))
        waiting += await self._unrecorded_waiting(switch, rows, {call.uuid for call in open_calls})
        since = now - LOOKBACK.total_seconds()
        opened = [cb for cb in callbacks if cb.get("claimed_by") is None and is_virtual_hold(cb)
                  and _epoch(cb.get("created_at"), now) >= since]
        order = sorted([(t, "call", u) for t, u in waiting] +
                       [(_epoch(cb.get("created_at"), now), "callback", cb) for cb in opened],
                       key=lambda item: item[0])
        for entered, kind, item in order:
            if kind == "callback":
                if self.callbacks.restore(item, entered, seq=next_seq()):
                    result.callbacks.append(item["id"])
                continue
            if await self._still_waiting(switch, item) and item not in callers:  # not back by itself meanwhile
                self.reserved[item] = next_seq()
                try:
                    await switch.uuid_transfer(item, *self.reconnect)
                    result.transferred.append(item)
                except Exception as exc:  # noqa: BLE001 -- one channel must not stop the others
                    self.reserved.pop(item, None)
                    log.warning("call %s: could not bring it back: %s", item, exc)
        log.info("restart recovery: %d waiting callers brought back, %d talking, %d dead calls closed, "
                 "%d callbacks re-queued", len(result.transferred), len(result.talking), len(result.closed),
                 len(result.callbacks))
        return result

    def release_all(self) -> tuple[list[str], defer.Deferred]:
        """A planned stop: leave every live caller to the next engine instead of hanging it up.

        Callers leave this engine's memory without an outcome or a CDR end (the
        next engine closes their rows); waiting ones stop their hold music so
        the dialplan's reconnect loop starts at once ("one moment please"), a
        ring in progress is cancelled; conversations go on untouched. Callback
        entries are left alone: their requests are in the database. Returns
        the uuids whose sockets may now be closed and a Deferred of the
        switch commands sent.
        """
        released, steps = [], []
        for caller in list(self.lifecycle.callers.values()):
            if caller.done or caller.callback is not None:
                continue
            self.lifecycle.forget(caller)
            released.append(caller.uuid)
            if caller.answered_at is None and not caller.leg.gone:
                steps.append(defer.maybeDeferred(caller.leg.let_go).addErrback(
                    lambda f: log.warning("let go failed: %s", f.getErrorMessage())))
        if released:
            log.info("stopping: %d callers left to the switch for the next engine", len(released))
        return released, defer.gatherResults(steps)

    def watch(self, live: set[str]) -> None:
        """Reconciler hook: close the CDR of a call that was talking at start once its channel is gone."""
        now = self.lifecycle.clock.seconds()
        for uuid in [u for u in self.talking if u not in live]:
            self._close(self.talking.pop(uuid), now, "NORMAL_CLEARING")

    def after_talk(self, uuid: str, agent_id: int | None) -> None:
        """A call that talked to an agent before the restart came back to us when the conversation ended."""
        call = self.talking.pop(uuid, None) or OpenCall(uuid, None, 0.0, True, agent_id)
        self._close(call, self.lifecycle.clock.seconds(), "NORMAL_CLEARING")

    def _keep_agent_on_call(self, call: OpenCall) -> None:
        """The agent of a conversation that outlived the engine is on that call, not available."""
        if call.agent_id is None:
            return
        try:
            agent = self.board.get(call.agent_id)
        except Exception:  # noqa: BLE001 -- an agent no longer configured
            return
        if agent.state is AgentState.AVAILABLE:
            self.board.restore(agent.id, AgentState.ON_CALL, None, list(agent.queues), call.uuid)
            log.info("agent %s: still talking on %s after the restart", agent.id, call.uuid)

    async def _unrecorded_waiting(self, switch: Any, rows: Iterable[Any], known: set[str]
                                  ) -> list[tuple[float, str]]:
        """Callers in line whose queue entry the database never got (the engine died before writing it).

        The channel is the record of last resort: an inbound channel with a queue place in its variables
        is a caller in line, whatever the database says."""
        found: list[tuple[float, str]] = []
        for row in rows:
            uuid = row.uuid
            if row.state in _DEAD_STATES or row.direction != "inbound" or uuid in self.lifecycle.callers \
                    or uuid in known:
                continue
            try:
                queue = await switch.uuid_getvar(uuid, QUEUE_VAR)
                entered = await switch.uuid_getvar(uuid, PREFIX + "entered") if queue else None
            except Exception:  # noqa: BLE001 -- gone in the meantime
                continue
            if queue:
                log.info("call %s: in line for %s with no queue entry in the database; bringing it back",
                         uuid, queue)
                found.append((_epoch(_float(entered), self.lifecycle.clock.seconds()), uuid))
        return found

    async def _still_waiting(self, switch: Any, uuid: str) -> bool:
        """The channel itself says whether it is still in a line (not answered, not left)."""
        try:
            return bool(await switch.uuid_getvar(uuid, QUEUE_VAR))
        except Exception as exc:  # noqa: BLE001 -- gone in the meantime
            log.info("call %s: no queue place to read (%s)", uuid, exc)
            return False

    def _close(self, call: OpenCall, now: float, cause: str = "ENGINE_RESTART") -> None:
        disposition = "answered" if call.answered else "abandoned"
        log.info("call %s (queue %s, from before the restart): CDR closed as %s, %s", call.uuid, call.queue,
                 disposition, cause)
        self.lifecycle.report_key(call.uuid, "ended", disposition=disposition, hangup_cause=cause, ended_at=now,
                                  agent_id=call.agent_id, hangup_side="system")


def _epoch(value: Any, default: float) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return default
        return (moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)).timestamp()
    return default


def _float(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None
