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
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from twisted.internet import defer

from acd.callbacks import is_virtual_hold
from acd.queues import next_seq
from acd.records import CdrEvent

if TYPE_CHECKING:
    from acd.engine import Acd

log = logging.getLogger(__name__)

PREFIX = "hotline_acd_"
QUEUE_VAR = PREFIX + "queue"
AGENT_VAR = PREFIX + "agent"
#: where a stranded caller is sent: the dialplan's reconnect extension (dialplans/public/hotline.xml)
RECONNECT_EXTENSION = ("hotline_reconnect", "XML", "public")
#: how far back the start-up looks for calls that were waiting when the engine died
LOOKBACK = dt.timedelta(hours=12)
_DEAD_STATES = frozenset({"CS_HANGUP", "CS_REPORTING", "CS_DESTROY"})


@dataclass(frozen=True)
class QueuePlace:
    """A waiting caller's place in line, in the form it is written on its channel."""

    queue: str
    entered_at: float
    priority: int = 0
    skills: Mapping[str, int] = field(default_factory=dict)
    customer_id: int | None = None
    ivr_path: str | None = None
    language: str = "zh"

    def variables(self) -> dict[str, str]:
        """``hotline_acd_*`` channel variables (``;`` and ``=`` cannot appear: uuid_setvar_multi splits on them)."""
        def clean(text: object) -> str:
            return str(text).replace(";", ",").replace("=", ":")

        return {QUEUE_VAR: clean(self.queue), PREFIX + "entered": f"{self.entered_at:.3f}",
                PREFIX + "priority": str(self.priority),
                PREFIX + "skills": ",".join(f"{clean(k)}:{int(v)}" for k, v in sorted(self.skills.items())),
                PREFIX + "customer": "" if self.customer_id is None else str(self.customer_id),
                PREFIX + "ivr_path": clean(self.ivr_path or ""), PREFIX + "language": clean(self.language),
                AGENT_VAR: ""}

    @classmethod
    def from_variables(cls, variables: Mapping[str, str]) -> "QueuePlace | None":
        """The place a reconnected call carries, or None (not waiting, or a value that does not parse)."""
        queue = (variables.get(QUEUE_VAR) or "").strip()
        if not queue:
            return None
        try:
            skills = {}
            for item in filter(None, (variables.get(PREFIX + "skills") or "").split(",")):
                name, _, level = item.rpartition(":")
                skills[name] = int(level)
            customer = variables.get(PREFIX + "customer") or ""
            return cls(queue, float(variables[PREFIX + "entered"]), int(variables.get(PREFIX + "priority") or 0),
                       skills, int(customer) if customer else None, variables.get(PREFIX + "ivr_path") or None,
                       variables.get(PREFIX + "language") or "zh")
        except (KeyError, ValueError) as exc:
            log.warning("queue place on the channel does not parse (%s): %s", exc,
                        {k: v for k, v in variables.items() if k.startswith(PREFIX)})
            return None


def left_line(agent_id: int | None = None) -> dict[str, str]:
    """The variables that say "no longer waiting" (answered by ``agent_id``, or left the line)."""
    return {QUEUE_VAR: "", AGENT_VAR: "" if agent_id is None else str(agent_id)}


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
    """Start-up recovery and the re-entry of reconnected callers, for one :class:`~acd.engine.Acd`."""

    def __init__(self, acd: "Acd", reconnect: tuple[str, str, str] = RECONNECT_EXTENSION) -> None:
        self.acd = acd
        self.reconnect = reconnect
        #: call uuid -> sequence number reserved in entry-time order at start
        self.reserved: dict[str, int] = {}
        #: answered calls still up at start (no WaitingCaller any more): their CDR closes when they end
        self.talking: dict[str, OpenCall] = {}

    def resume(self, leg: Any, place: QueuePlace) -> defer.Deferred:
        """Put a reconnected caller back in line; Deferred of its QueueOutcome (as ``Acd.enqueue``)."""
        acd = self.acd
        queue = place.queue if place.queue in acd.queues else None
        if queue is None:
            queue = next(iter(sorted(acd.queues)), place.queue)
            log.warning("call %s: its queue %r is gone; resuming in %r", leg.uuid, place.queue, queue)
        seq = self.reserved.pop(leg.uuid, None)
        log.info("call %s: back in %s after an engine restart (waiting since %.0f s, %s)", leg.uuid, queue,
                 acd.clock.seconds() - place.entered_at, "place kept" if seq is not None else "new place")
        customer = {"id": place.customer_id} if place.customer_id is not None else {}
        return acd.enqueue(leg, queue, skills=dict(place.skills), customer=customer, priority=place.priority,
                           ivr_path=place.ivr_path, language=place.language, entered_at=place.entered_at, seq=seq)

    async def recover(self, switch: Any, open_calls: Iterable[OpenCall], callbacks: Iterable[Mapping[str, Any]]
                      ) -> Recovery:
        """Once the switch answers: bring back stranded callers, close dead CDRs, re-queue callbacks."""
        acd = self.acd
        rows = await switch.show_channels()
        live = {row.uuid for row in rows if row.state not in _DEAD_STATES}
        result = Recovery()
        now = acd.clock.seconds()
        waiting: list[tuple[float, str]] = []
        for call in open_calls:
            if call.uuid in acd.callers:
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
        since = now - LOOKBACK.total_seconds()
        opened = [cb for cb in callbacks if cb.get("claimed_by") is None and is_virtual_hold(cb)
                  and _epoch(cb.get("created_at"), now) >= since]
        order = sorted([(t, "call", u) for t, u in waiting] +
                       [(_epoch(cb.get("created_at"), now), "callback", cb) for cb in opened],
                       key=lambda item: item[0])
        for entered, kind, item in order:
            if kind == "callback":
                if acd.callbacks.restore(item, entered, seq=next_seq()):
                    result.callbacks.append(item["id"])
                continue
            if await self._still_waiting(switch, item) and item not in acd.callers:  # not back by itself meanwhile
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
        acd = self.acd
        released, steps = [], []
        for caller in list(acd.callers.values()):
            if caller.done or caller.callback is not None:
                continue
            acd.forget(caller)
            released.append(caller.uuid)
            if caller.answered_at is None and not caller.leg.gone:
                steps.append(defer.maybeDeferred(caller.leg.let_go).addErrback(
                    lambda f: log.warning("let go failed: %s", f.getErrorMessage())))
        if released:
            log.info("stopping: %d callers left to the switch for the next engine", len(released))
        return released, defer.gatherResults(steps)

    def watch(self, live: set[str]) -> None:
        """Reconciler hook: close the CDR of a call that was talking at start once its channel is gone."""
        now = self.acd.clock.seconds()
        for uuid in [u for u in self.talking if u not in live]:
            self._close(self.talking.pop(uuid), now, "NORMAL_CLEARING")

    def after_talk(self, uuid: str, agent_id: int | None) -> None:
        """A call that talked to an agent before the restart came back to us when the conversation ended."""
        call = self.talking.pop(uuid, None) or OpenCall(uuid, None, 0.0, True, agent_id)
        self._close(call, self.acd.clock.seconds(), "NORMAL_CLEARING")

    def _keep_agent_on_call(self, call: OpenCall) -> None:
        """The agent of a conversation that outlived the engine is on that call, not available."""
        from acd.agents import AgentState

        if call.agent_id is None:
            return
        try:
            agent = self.acd.board.get(call.agent_id)
        except Exception:  # noqa: BLE001 -- an agent no longer configured
            return
        if agent.state is AgentState.AVAILABLE:
            self.acd.board.restore(agent.id, AgentState.ON_CALL, None, list(agent.queues), call.uuid)
            log.info("agent %s: still talking on %s after the restart", agent.id, call.uuid)

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
        result = self.acd.cdr.write(CdrEvent("ended", call.uuid, now, {
            "disposition": disposition, "hangup_cause": cause, "ended_at": now, "agent_id": call.agent_id}))
        if hasattr(result, "addErrback"):
            result.addErrback(lambda f: log.error("call %s: CDR not closed: %s", call.uuid, f.getErrorMessage()))


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
