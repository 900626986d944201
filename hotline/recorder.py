"""The call recorder: the one owner of every call's CDR, from the first event to the hang-up.

The IVR, the ACD (and the outbound dialer) report what happens on a call as
:class:`crm_core.call_events.CallEvent`\\ s through the small
:class:`~crm_core.call_events.CallReporter` interface; the recorder turns
each into a :class:`crm_core.services.calls.CallUpdate`
(:func:`crm_core.call_events.update_for`) and writes it through the engine's
database gateway with group commit (``write_batched``): the row is opened at
the call's first event and updated at each step, many calls per transaction,
so a crash leaves an open row that restart recovery closes, and a busy
engine pays no extra transaction per step.

Why here, in the composition root: the recorder is where the IVR's and the
ACD's reports about one call meet, and only ``hotline`` may see both; the
interface they report through lives in ``crm_core`` (both may import it,
neither imports the other), and what an event means for the row is decided
in ``crm_core`` too (pure functions, tested without a reactor). This module
only keeps the little per-call memory that saves the writes a read
(the menu path and the links so far) and follows the channel to its hang-up.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Iterable

from twisted.internet import defer

from crm_core import call_events as ev
from crm_core.call_events import CallEvent
from crm_core.gateway import DbGateway
from crm_core.services.calls import PATH_SEPARATOR, CallUpdate, close_calls, write_call_updates
from freeswitch.call import CAUSE_CONNECTION_LOST

#: Channel states ``show channels`` still lists for a call that is over (a lingering outbound socket).
DEAD_STATES = frozenset({"CS_HANGUP", "CS_REPORTING", "CS_DESTROY"})

log = logging.getLogger(__name__)

#: Calls remembered at most (a call whose hang-up never reaches the engine is forgotten oldest first).
MAX_CALLS = 100_000
#: Menu nodes reached are written with the call's next other event, or at the latest this many seconds later
#: (all calls' paths in one batch): a key press is not worth a row update of its own, and a crash loses at most
#: this much of a path (the row itself is written at entry).
PATH_FLUSH_SECONDS = 5.0


@dataclass
class _Call:
    """What the recorder remembers of one call while it lasts."""

    whole: bool  # the recorder saw the call from its first event: it sends full values, never appends
    path: list[str] = field(default_factory=list)
    links: dict[str, list[Any]] = field(default_factory=dict)
    segment: str | None = None  # the CDR key of the call's current segment (after a transfer)
    path_dirty: bool = False  # nodes reached since the path was last written


class CallRecorder:
    """A :class:`~crm_core.call_events.CallReporter` writing ``call_detail_records`` through the DB gateway."""

    def __init__(self, gateway: DbGateway, clock: Any, path_flush_seconds: float = PATH_FLUSH_SECONDS) -> None:
        self.gateway = gateway
        self.clock = clock
        self.path_flush_seconds = path_flush_seconds
        self._flush_timer: Any = None
        self.calls: OrderedDict[str, _Call] = OrderedDict()
        self.failures = 0
        #: rows a previous engine left open whose channel was still up at start: closed once it is gone
        self.watched: set[str] = set()

    # -- the reporting interface -------------------------------------------------------------------

    def report(self, event: CallEvent) -> None:
        """Take one event: the row it changes is written in the next batch (a failure is logged, never raised)."""
        try:
            updates = self._updates(event)
        except Exception:
            log.exception("call %s: %s event not understood", event.call_uuid, event.kind)
            return
        for update in updates:
            d = self.gateway.write_batched(write_call_updates, update)
            d.addErrback(self._failed, event)

    def write(self, event: CallEvent) -> None:
        """The ACD's CDR port (``acd.records.CdrSink``): the same as :meth:`report`."""
        self.report(event)

    def _failed(self, failure: Any, event: CallEvent) -> None:
        self.failures += 1
        log.error("call %s: CDR %s not written: %s", event.call_uuid, event.kind, failure.getErrorMessage())

    # -- following a channel -------------------------------------------------------------------------

    def entered(self, call: Any, direction: str = "inbound") -> None:
        """A call reached the engine: open its row (a call back after an engine restart keeps its row)."""
        variables = getattr(call, "variables", {}) or {}
        fresh = not (variables.get("hotline_reconnects") or variables.get("hotline_acd_queue")
                     or variables.get("hotline_acd_agent"))
        if fresh and call.uuid not in self.calls:
            self._remember(call.uuid, _Call(whole=True))
        self.report(CallEvent(ev.ENTERED, call.uuid, self.clock.seconds(), {
            "direction": direction, "ani": call.ani or None, "dnis": call.dnis or None,
            "media_source": variables.get("hotline_media_source") or call.dnis or None}))
        call.when_hung_up().addCallback(self._hung_up, call)

    def _hung_up(self, cause: Any, call: Any) -> Any:
        if getattr(call, "released", False) or cause == CAUSE_CONNECTION_LOST:
            # the socket closed with the channel still up: handed to the next engine or transferred away by
            # the switch -- the call goes on, so does its row (the ACD closed its part; a restart recovers it)
            self.calls.pop(call.uuid, None)
            return cause
        side = "system" if getattr(call, "hangup_requested", False) else "caller"
        self.report(CallEvent(ev.HANGUP, call.uuid, self.clock.seconds(),
                              {"cause": str(cause or call.hangup_cause or "NORMAL_CLEARING"), "side": side}))
        return cause

    # -- events -> row updates ---------------------------------------------------------------------------

    def _remember(self, uuid: str, state: _Call) -> _Call:
        self.calls[uuid] = state
        while len(self.calls) > MAX_CALLS:
            self.calls.popitem(last=False)
        return state

    def _updates(self, event: CallEvent) -> list[CallUpdate]:
        uuid, kind, f = event.call_uuid, event.kind, event.fields
        state = self.calls.get(uuid)
        if kind == ev.IVR_NODE and state is not None and state.whole:  # written later, with something else
            state.path.append(str(f["node"]))
            state.path_dirty = True
            self._flush_soon()
            return []
        update = ev.update_for(event)
        if kind == ev.QUEUED and f.get("parent_uuid"):  # a transferred caller's next segment
            parent = self.calls.get(str(f["parent_uuid"]))
            if parent is not None:
                parent.segment = uuid
        if state is not None and state.whole and (update.appends or state.path_dirty):
            update = self._as_full_values(state, update)
        if kind == ev.HANGUP:
            self.calls.pop(uuid, None)
            if state is not None and state.segment:  # the caller's current segment ends with the channel too
                return [update, CallUpdate(state.segment, fill=update.fill)]
        return [update]

    def _flush_soon(self) -> None:
        if self._flush_timer is None or not self._flush_timer.active():
            self._flush_timer = self.clock.callLater(self.path_flush_seconds, self.flush)

    def flush(self) -> None:
        """Write the menu paths not written yet (every call's in one batch)."""
        if self._flush_timer is not None and self._flush_timer.active():
            self._flush_timer.cancel()
        self._flush_timer = None
        for uuid, state in list(self.calls.items()):
            if state.path_dirty:
                state.path_dirty = False
                update = CallUpdate(uuid, {"ivr_path": PATH_SEPARATOR.join(state.path)})
                d = self.gateway.write_batched(write_call_updates, update)
                d.addErrback(self._failed, CallEvent(ev.IVR_NODE, uuid, self.clock.seconds(), {"node": "?"}))

    def _as_full_values(self, state: _Call, update: CallUpdate) -> CallUpdate:
        """Appends become full values from memory (the write needs no read of the row); a path not written yet
        goes along."""
        values = dict(update.values)
        if state.path_dirty:
            state.path_dirty = False
            values["ivr_path"] = PATH_SEPARATOR.join(state.path)
        appends = {}
        for column, items in update.appends.items():
            if column == "ivr_path":
                state.path.extend(items)
                values["ivr_path"] = PATH_SEPARATOR.join(state.path)
            elif column == "links":
                for link, more in items.items():
                    have = state.links.setdefault(link, [])
                    have += [item for item in more if item not in have]
                values["links"] = {k: list(v) for k, v in state.links.items()}
            else:  # routing comes whole from the ACD; anything else is appended as asked
                appends[column] = items
        return CallUpdate(update.uuid, values, appends, opened=update.opened, fill=update.fill)

    # -- after a restart -------------------------------------------------------------------------------

    async def recover(self, switch: Any, uuids: Iterable[str]) -> list[str]:
        """Rows a previous engine left open (not the ACD's: it brings its own callers back): close those whose
        channel is gone (``ENGINE_RESTART``), watch the others until theirs is; the uuids closed."""
        uuids = [u for u in uuids if u not in self.calls]  # calls this engine follows end by themselves
        if not uuids:
            return []
        rows = await switch.show_channels()
        live = {row.uuid for row in rows if row.state not in DEAD_STATES}
        gone = [u for u in uuids if u not in live]
        self.watched.update(u for u in uuids if u in live)
        if gone:
            await self.gateway.run(close_calls, gone, at=ev.ts(self.clock.seconds()), cause="ENGINE_RESTART")
            log.info("restart recovery: %d call records closed (their channels were gone)", len(gone))
        return gone

    def watch(self, live: set[str]) -> defer.Deferred | None:
        """Reconciler hook: close watched rows whose channel has gone."""
        gone = [u for u in self.watched if u not in live]
        if not gone:
            return None
        self.watched.difference_update(gone)
        d = self.gateway.run(close_calls, gone, at=ev.ts(self.clock.seconds()), cause="NORMAL_CLEARING")
        d.addErrback(lambda f: log.error("closing %d call records failed: %s", len(gone), f.getErrorMessage()))
        return d
