"""Virtual hold: offer a callback when the wait is long, keep the caller's place, call back when the turn comes.

A caller whose expected wait exceeds the queue's ``callback_after`` hears the
offer (``callback_offer``: "press 1 ..."); pressing the key turns the
:class:`~acd.queues.WaitingCaller` into a *virtual* entry with the same
sequence number and entry time (its place in line), the caller's outcome
fires with kind ``callback`` (the hand-off confirms and hangs up) and the
request is committed through the :class:`CallbackStore`.

When routing picks an agent for the virtual entry the agent is reserved
(``ringing``) and :class:`VirtualLeg` dials the customer with
``originate {...}<dial_template> &socket(<engine> async full)``: the answered
customer leg comes back to the engine's CallServer as a normal outbound-socket
call (``hotline_callback_uuid`` set), is attached here, and is bridged to the
agent with the same :class:`~acd.connect.BridgeLeg` a live caller uses. A
customer who does not answer or is busy frees the agent at once (not their
fault) and the attempt is retried after ``retry_spacing`` with the original
entry time and :data:`~acd.queues.PRIORITY_CALLBACK_DUE`, up to
``max_attempts``; every attempt gets its own outbound CDR and is counted on
the request.
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol, Sequence

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime

from acd import connect
from acd.exceptions import CallbackUnavailable
from acd.lifecycle import CallerLifecycle
from acd.queues import PRIORITY_CALLBACK_DUE, PRIORITY_NORMAL, QueueOutcome, WaitingCaller, next_seq
from acd.staffing import Staffing
from freeswitch.dialstring import variables_block

log = logging.getLogger(__name__)


#: how a request the ACD's own virtual hold made starts its note (the IVR's and agents' requests are not dialled
#: automatically: they wait in the manual list for a person and their preferred window)
VIRTUAL_HOLD_NOTE = "virtual hold"


def is_virtual_hold(request: Mapping[str, Any]) -> bool:
    """Was this request (a store row view) made by the ACD's virtual hold, i.e. is it the dialler's to call?"""
    return str(request.get("note") or "").startswith(VIRTUAL_HOLD_NOTE)


@dataclass(frozen=True)
class CallbackPolicy:
    """How callbacks are offered and dialled."""

    key: str = "1"
    offer_timeout: float = 10.0  # how long the offer waits for the key
    max_attempts: int = 3
    retry_spacing: float = 300.0
    ring_timeout: float = 30.0  # customer's phone
    attach_timeout: float = 10.0  # answered leg -> its socket reaches the engine
    dial_template: str = "loopback/{number}"  # production: "sofia/gateway/pstn/{number}"
    caller_id: str = ""


class CallbackStore(Protocol):
    """Where callback requests live (the DB one is :class:`acd.store.DbCallbacks`); every method is async."""

    def create(self, *, number: str, customer_id: int | None, queue: str, call_uuid: str) -> defer.Deferred: ...

    def attempt(self, request_id: int, *, call_uuid: str, result: str, cause: str, final: bool) -> defer.Deferred: ...

    def pending(self, queue: str | None = None) -> defer.Deferred: ...

    def claim(self, request_id: int, agent_id: int) -> defer.Deferred: ...

    def complete(self, request_id: int, agent_id: int, success: bool, note: str | None = None) -> defer.Deferred: ...


class MemoryCallbackStore:
    """A CallbackStore in a dict (standalone ACD and clock tests)."""

    def __init__(self) -> None:
        self.rows: dict[int, dict[str, Any]] = {}

    def create(self, *, number: str, customer_id: int | None, queue: str, call_uuid: str) -> defer.Deferred:
        rid = len(self.rows) + 1
        self.rows[rid] = {"id": rid, "number": number, "customer_id": customer_id, "queue_name": queue,
                          "call_uuid": call_uuid, "status": "pending", "attempts": 0, "log": [], "claimed_by": None,
                          "note": VIRTUAL_HOLD_NOTE}
        return defer.succeed(rid)

    def attempt(self, request_id: int, *, call_uuid: str, result: str, cause: str, final: bool) -> defer.Deferred:
        row = self.rows[request_id]
        row["attempts"] += 1
        row["call_uuid"] = call_uuid
        row["log"].append((result, cause))
        row["status"] = "done" if result == "answered" else ("failed" if final else "scheduled")
        return defer.succeed(row)

    def pending(self, queue: str | None = None) -> defer.Deferred:
        return defer.succeed([dict(r) for r in self.rows.values() if r["status"] in ("pending", "scheduled")
                              and (queue is None or r["queue_name"] == queue)])

    def claim(self, request_id: int, agent_id: int) -> defer.Deferred:
        row = self.rows.get(request_id)
        if row is None or row["status"] not in ("pending", "scheduled") or row["claimed_by"] not in (None, agent_id):
            return defer.fail(CallbackUnavailable(f"callback {request_id} cannot be claimed", request_id=request_id))
        row["claimed_by"], row["status"] = agent_id, "scheduled"
        return defer.succeed(dict(row))

    def complete(self, request_id: int, agent_id: int, success: bool, note: str | None = None) -> defer.Deferred:
        row = self.rows[request_id]
        row["status"] = "done" if success else "failed"
        return defer.succeed(dict(row))


class CallbackDialer:
    """Originates customer legs into the engine's call server and hands the answered Call to its VirtualLeg."""

    def __init__(self, switch: Callable[[], Any], socket_target: Callable[[], str], clock: IReactorTime,
                 policy: CallbackPolicy) -> None:
        self.switch = switch
        self.socket_target = socket_target
        self.clock = clock
        self.policy = policy
        self._waiting: dict[str, defer.Deferred] = {}

    def dial(self, number: str, leg_uuid: str, variables: Mapping[str, object]) -> defer.Deferred:
        """Deferred of the customer's answered Call; fails with :class:`CustomerFailed` (cause) otherwise."""
        got: defer.Deferred = defer.Deferred()
        self._waiting[leg_uuid] = got
        dial_vars = {**variables, "hotline_callback_uuid": leg_uuid, "originate_timeout": int(self.policy.ring_timeout)}
        if self.policy.caller_id:
            dial_vars["origination_caller_id_number"] = self.policy.caller_id
        dial = variables_block(dial_vars) + self.policy.dial_template.format(number=number)
        d = self.switch().originate(dial, app=f"&socket({self.socket_target()} async full)",
                                    timeout=int(self.policy.ring_timeout), origination_uuid=leg_uuid)

        def failed(failure: Any) -> None:
            cause = failure.getErrorMessage().strip().split()[-1] if failure.getErrorMessage().strip() else "FAILED"
            self._fail(leg_uuid, cause.lstrip("-ERR").strip() or "FAILED")

        def answered(_uuid: str) -> None:  # the socket may still be on its way: bound the wait
            timer = self.clock.callLater(self.policy.attach_timeout, self._fail, leg_uuid, "ATTACH_TIMEOUT")
            got.addBoth(lambda r: (timer.active() and timer.cancel(), r)[1])

        d.addCallbacks(answered, failed)
        return got

    def _fail(self, leg_uuid: str, cause: str) -> None:
        got = self._waiting.pop(leg_uuid, None)
        if got is not None and not got.called:
            got.errback(CustomerFailed(cause))

    def attach(self, call: Any) -> bool:
        """An outbound-socket call with ``hotline_callback_uuid``: give it to its waiting leg (False if none)."""
        leg_uuid = call.variables.get("hotline_callback_uuid") or call.uuid
        got = self._waiting.pop(leg_uuid, None)
        if got is None or got.called:
            return False
        got.callback(call)
        return True


class CustomerFailed(Exception):
    """The customer's phone did not answer (the cause is the message)."""


_CUSTOMER_RESULTS = {"NO_ANSWER": connect.CUSTOMER_NO_ANSWER, "NO_USER_RESPONSE": connect.CUSTOMER_NO_ANSWER,
                     "ALLOTTED_TIMEOUT": connect.CUSTOMER_NO_ANSWER, "USER_BUSY": connect.CUSTOMER_BUSY,
                     "CALL_REJECTED": connect.CUSTOMER_BUSY}


class VirtualLeg:
    """The CallerLeg of a virtual entry: nobody on the line until ``connect`` dials the customer."""

    def __init__(self, manager: "CallbackManager", entry: "CallbackEntry", leg_uuid: str) -> None:
        self.manager = manager
        self.entry = entry
        self.uuid = leg_uuid
        self.ani = entry.number
        self.dnis = ""
        self.caller_name = str(entry.customer.get("name") or entry.number)
        self.bridge: connect.BridgeLeg | None = None
        self.done: defer.Deferred = defer.Deferred()  # fires when the ACD is finished with the customer's call
        self._gone_waiters: list[defer.Deferred] = []

    @property
    def gone(self) -> bool:
        return self.bridge.gone if self.bridge is not None else False

    def when_gone(self) -> defer.Deferred:
        d: defer.Deferred = defer.Deferred()
        self._gone_waiters.append(d)
        return d

    def start_hold(self, music: str) -> None:
        if self.bridge is not None:
            self.bridge.start_hold(music)

    def announce(self, files: Sequence[str]) -> None:
        if self.bridge is not None:
            self.bridge.announce(files)

    def stop_hold(self) -> defer.Deferred:
        return self.bridge.stop_hold() if self.bridge is not None else defer.succeed(None)

    def cancel_connect(self) -> defer.Deferred:
        return self.bridge.cancel_connect() if self.bridge is not None else defer.succeed(False)

    def keep_place(self, variables: Mapping[str, str]) -> None:
        """Nothing to write: a callback's place is its request in the database (see ``CallbackManager.restore``)."""

    def let_go(self) -> defer.Deferred:
        return self.bridge.let_go() if self.bridge is not None else defer.succeed(None)

    def connect(self, extension: str, variables: Mapping[str, object], ring_timeout: float,
                on_answer: connect.AnswerCallback) -> defer.Deferred:
        return defer.Deferred.fromCoroutine(self._connect(extension, variables, ring_timeout, on_answer))

    async def _connect(self, extension: str, variables: Mapping[str, object], ring_timeout: float,
                       on_answer: connect.AnswerCallback) -> connect.ConnectResult:
        if self.bridge is None:  # first offer: the agent is reserved, now reach the customer
            dialer = self.manager.dialer
            if dialer is None:
                return connect.ConnectResult(connect.CUSTOMER_FAILED, self.uuid, "NO_DIALER")
            try:
                call = await dialer.dial(self.entry.number, self.uuid,
                                         {"hotline_callback_id": self.entry.request_id or "",
                                          "hotline_queue": self.entry.queue})
            except CustomerFailed as exc:
                cause = str(exc)
                return connect.ConnectResult(_CUSTOMER_RESULTS.get(cause, connect.CUSTOMER_FAILED), self.uuid, cause)
            self.bridge = connect.BridgeLeg(call, self.manager.clock, self.manager.switch())
            call.when_hung_up().addCallback(self._hung_up)
            if self.bridge.gone:
                return connect.ConnectResult(connect.CUSTOMER_FAILED, self.uuid, "CUSTOMER_GONE")
        return await self.bridge.connect(extension, variables, ring_timeout, on_answer)

    def _hung_up(self, cause: Any) -> Any:
        for d in self._gone_waiters:
            if not d.called:
                d.callback(cause)
        self._gone_waiters.clear()
        return cause

    def release(self) -> None:
        """The ACD is done with this attempt: let the socket handler hang up and end."""
        if not self.done.called:
            self.done.callback(None)


@dataclass(eq=False)
class CallbackEntry:
    """One callback request as the ACD follows it through its attempts."""

    number: str
    queue: str
    entered_at: float
    priority: int
    skills: dict[str, int]
    customer: dict[str, Any]
    original_call: str
    request_id: int | None = None
    attempts: int = 0
    results: list[tuple[str, str]] = field(default_factory=list)
    status: str = "pending"
    caller: WaitingCaller | None = None
    timer: Any = None


class CallbackManager:
    """Offers, virtual entries, attempts and retries; the manual list goes straight to the store."""

    def __init__(self, lifecycle: CallerLifecycle, staffing: Staffing, clock: IReactorTime,
                 store: CallbackStore | None = None, dialer: CallbackDialer | None = None,
                 policy: CallbackPolicy | None = None, switch: Callable[[], Any] = lambda: None,
                 prompt: Callable[[WaitingCaller, float | None], Any] | None = None) -> None:
        self.lifecycle = lifecycle
        self.staffing = staffing
        self.clock = clock
        self.store: Any = store or MemoryCallbackStore()
        self.dialer = dialer
        self.policy = policy or CallbackPolicy()
        self.switch = switch
        self.prompt = prompt or (lambda caller, ewt: ["ivr/ivr-callback_offer.wav"])
        self.entries: dict[str, CallbackEntry] = {}  # by attempt leg uuid
        self.scheduled: set[CallbackEntry] = set()  # waiting for their retry timer

    # -- the offer -------------------------------------------------------------------

    def consider(self, caller: WaitingCaller) -> None:
        """Offer a callback if the caller's expected wait exceeds the queue's threshold (once per caller)."""
        cq = self.lifecycle.queues.get(caller.queue)
        if cq is None or caller.done or caller.callback is not None or caller.callback_offered:
            return
        threshold = cq.config.callback_after
        if threshold is None or caller.offering is not None or caller.answered_at is not None:
            return
        offer = getattr(caller.leg, "offer_callback", None)
        if offer is None:
            return
        ewt = self.staffing.expected_wait(caller.queue, cq.position(caller))
        if ewt is not None and ewt <= threshold:
            return
        caller.callback_offered = True
        self.lifecycle.keep_place(caller)  # a caller back after a restart is not offered it again
        log.info("call %s: expected wait %s > %ss in %s: offering a callback", caller.uuid, ewt, threshold,
                 caller.queue)
        d = defer.maybeDeferred(self.prompt, caller, ewt)
        d.addCallback(lambda files: offer(list(files), self.policy.key, self.policy.offer_timeout))
        d.addCallback(lambda accepted: accepted and self.accept(caller))
        d.addErrback(lambda f: log.warning("call %s: callback offer failed: %s", caller.uuid, f.getErrorMessage()))

    def accept(self, caller: WaitingCaller) -> CallbackEntry | None:
        """The caller pressed the key: keep the place with a virtual entry, commit the request."""
        if caller.done or caller.offering is not None or caller.answered_at is not None:
            return None
        ewt = self.staffing.expected_wait(caller.queue, self.lifecycle.queues[caller.queue].position(caller))
        entry = CallbackEntry(caller.ani, caller.queue, caller.entered_at, caller.priority, dict(caller.skills),
                              dict(caller.customer), caller.uuid)
        seq = caller.seq
        d = self.store.create(number=caller.ani, customer_id=caller.customer_id, queue=caller.queue,
                              call_uuid=caller.uuid)
        d.addCallback(lambda rid: setattr(entry, "request_id", rid) or rid)
        d.addCallback(lambda rid: self.lifecycle.report(caller, "linked", kind="callbacks", value=rid) or rid)
        d.addErrback(lambda f: log.error("call %s: callback request not stored: %s", caller.uuid,
                                         f.getErrorMessage()))
        entry.created = d  # type: ignore[attr-defined]
        self.lifecycle.call_back(caller, ewt)
        self._queue_attempt(entry, seq=seq)
        return entry

    def restore(self, row: Mapping[str, Any], entered_at: float, seq: int | None = None) -> CallbackEntry | None:
        """After a restart: an open request from the store back in line (pending keeps its entry-time place,
        scheduled comes back due); None for an unknown queue or a request already followed."""
        queue = row.get("queue_name") or ""
        cq = self.lifecycle.queues.get(queue)
        if cq is None or any(e.request_id == row.get("id") for e in [*self.entries.values(), *self.scheduled]):
            if cq is None:
                log.warning("callback %s: queue %r unknown; left in the manual list", row.get("id"), queue)
            return None
        customer = {"id": row["customer_id"]} if row.get("customer_id") is not None else {}
        entry = CallbackEntry(str(row.get("number") or ""), queue, entered_at, PRIORITY_NORMAL,
                              dict(cq.config.required_skills), customer, str(row.get("call_uuid") or ""),
                              request_id=row.get("id"), attempts=int(row.get("attempts") or 0),
                              status=str(row.get("status") or "pending"))
        self._queue_attempt(entry, seq=seq if entry.status == "pending" else None)
        log.info("callback %s to %s: back in %s after a restart (%s, %d attempts so far)", entry.request_id,
                 entry.number, queue, entry.status, entry.attempts)
        return entry

    # -- attempts --------------------------------------------------------------------

    def _queue_attempt(self, entry: CallbackEntry, seq: int | None = None) -> None:
        entry.timer = None
        self.scheduled.discard(entry)
        leg = VirtualLeg(self, entry, str(uuidlib.uuid4()))
        self.entries[leg.uuid] = entry
        priority = entry.priority if seq is not None else max(entry.priority, PRIORITY_CALLBACK_DUE)
        caller = WaitingCaller(
            uuid=leg.uuid, leg=leg, queue=entry.queue, skills=dict(entry.skills), priority=priority,
            entered_at=entry.entered_at, seq=seq if seq is not None else next_seq(),
            customer_id=entry.customer.get("id"), customer=dict(entry.customer), ani=entry.number,
            queued_at=self.clock.seconds(), callback=entry, callback_offered=True)
        self.lifecycle.enter_virtual(caller, entry.original_call)
        entry.caller = caller
        caller.outcome.addCallback(self._attempt_ended, entry, leg)

    def _attempt_ended(self, outcome: QueueOutcome, entry: CallbackEntry, leg: VirtualLeg) -> None:
        self.entries.pop(leg.uuid, None)
        leg.release()
        if outcome.kind == "claimed":
            return
        result = {"served": "answered", "abandoned": "customer_hung_up"}.get(outcome.kind, outcome.kind)
        if outcome.kind == "callback_attempt":
            result = outcome.hangup_cause or "failed"
        entry.attempts += 1
        entry.results.append((result, outcome.hangup_cause or ""))
        final = result == "answered" or entry.attempts >= self.policy.max_attempts or outcome.kind != "callback_attempt"
        entry.status = "done" if result == "answered" else ("failed" if final else "scheduled")
        log.info("callback %s to %s: attempt %d %s (%s)", entry.request_id, entry.number, entry.attempts, result,
                 entry.status)

        def record(_r: Any) -> Any:
            if entry.request_id is None:
                return None
            return self.store.attempt(entry.request_id, call_uuid=leg.uuid, result=result,
                                      cause=outcome.hangup_cause or "", final=final)

        created = getattr(entry, "created", defer.succeed(None))
        chained: defer.Deferred = defer.Deferred()
        created.addBoth(lambda r: (chained.callback(None), r)[1])
        chained.addCallback(record)
        chained.addErrback(lambda f: log.error("callback %s: attempt not recorded: %s", entry.request_id,
                                               f.getErrorMessage()))
        if not final:
            entry.timer = self.clock.callLater(self.policy.retry_spacing, self._queue_attempt, entry)
            self.scheduled.add(entry)

    def customer_failed(self, caller: WaitingCaller, result: connect.ConnectResult) -> None:
        """The customer did not answer / was busy: end this attempt (a retry is scheduled by policy)."""
        self.lifecycle.finish(caller, "callback_attempt", cause=result.kind,
                              disposition=f"callback_{result.kind.removeprefix('customer_')}")

    # -- the agents' manual list -------------------------------------------------------

    def list(self, queue: str | None = None) -> defer.Deferred:
        """Open callback requests (pending or scheduled), oldest first."""
        return self.store.pending(queue)

    def claim(self, request_id: int, agent_id: int) -> defer.Deferred:
        """An agent takes a request to call by hand: it leaves the automatic line and its retries."""
        for entry in list(self.entries.values()):
            if entry.request_id == request_id and entry.caller is not None and entry.caller.offering is None:
                self.lifecycle.finish(entry.caller, "claimed", disposition="callback_claimed")
        for entry in list(self.scheduled):
            if entry.request_id == request_id and entry.timer is not None and entry.timer.active():
                entry.timer.cancel()
                self.scheduled.discard(entry)
        return self.store.claim(request_id, agent_id)

    def complete(self, request_id: int, agent_id: int, success: bool = True, note: str | None = None) -> defer.Deferred:
        """The agent called (or gave up): done or failed."""
        return self.store.complete(request_id, agent_id, success, note)
