"""The dispatcher: claims due outbox messages per channel and hands them to that channel's adapter.

One lane per channel. A lane claims (through the engine's database gateway,
never on the reactor thread) at most as many messages as its adapter may
have in flight and its token bucket allows, sends each, and queues the
outcome for the group-committing writer. A lane with a full claim asks again
at once; an idle one polls every ``poll_interval`` seconds or when woken
(something was just queued). Transient failures come back after an
exponential backoff (``retry_base`` doubling up to ``retry_max``, or what the
gateway asked for), until the message's attempts are used up.

At start the dispatcher recovers claims its dead predecessors left
(``outbox_dispatch.recover_claims``: this host's workers whose process is
gone, at once; others when their lease lapses), and then every
``sweep_interval`` seconds also expires stale messages and, for adapters that
can, polls for receipts that never came.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, Callable

from twisted.internet import defer
from twisted.python.failure import Failure

from crm_core.services.outbox_dispatch import (
    ClaimedMessage,
    Receipt,
    SendOutcome,
    awaiting_receipt,
    claim_due,
    claimed_workers,
    expire_due,
    record_receipt,
    recover_claims,
)
from messaging.channels.base import Adapter, InboundSms, Listener, PermanentSendError, SendResult, TransientSendError
from messaging.db import DbRunner
from messaging.ratelimit import TokenBucket
from messaging.writer import ResultWriter

log = logging.getLogger(__name__)

#: prepare(message) -> Deferred of the message to send (the fax lane renders its document here)
Prepare = Callable[[ClaimedMessage], defer.Deferred]


@dataclass(frozen=True)
class DispatchPolicy:
    """How the dispatcher paces itself (``[messaging]`` settings)."""

    batch: int = 200
    poll_interval: float = 1.0
    retry_base: float = 30.0
    retry_max: float = 3600.0
    sweep_interval: float = 30.0
    receipt_poll_after: float = 300.0


def this_worker() -> str:
    """``host:pid``, the name claims are recorded under."""
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_is_gone(worker: str, me: str | None = None) -> bool:
    """A worker of this host whose process no longer runs (or this process, whose claims predate it)."""
    me = me or this_worker()
    host, _, pid = worker.rpartition(":")
    my_host, _, my_pid = me.rpartition(":")
    if host != my_host or not pid.isdigit():
        return False
    if pid == my_pid:
        return True  # claimed before this dispatcher started: a previous life of this pid (container restart)
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _recover(session: Any, me: str, now: dt.datetime) -> int:
    dead = [w for w in claimed_workers(session) if worker_is_gone(w, me)]
    return recover_claims(session, dead_workers=dead, now=now)


class Lane:
    """One channel: its adapter, rate limit and claims."""

    def __init__(self, dispatcher: "Dispatcher", channel: str, adapter: Adapter, bucket: TokenBucket,
                 prepare: Prepare | None = None) -> None:
        self.dispatcher, self.channel, self.adapter, self.bucket = dispatcher, channel, adapter, bucket
        self.prepare = prepare
        self.in_flight = 0
        self._claiming = False
        self._timer: Any = None
        self._stopped = False

    @property
    def clock(self) -> Any:
        return self.dispatcher.clock

    def pump(self, delay: float | None = None) -> None:
        """Claim now (or after ``delay``), unless a claim is running or the lane is full."""
        if self._stopped:
            return
        if delay is not None and delay > 0:
            if self._timer is not None and self._timer.active():
                if self._timer.getTime() - self.clock.seconds() <= delay:
                    return
                self._timer.cancel()
            self._timer = self.clock.callLater(delay, self.pump)
            return
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if self._claiming:
            return
        policy = self.dispatcher.policy
        room = self.adapter.max_in_flight - self.in_flight
        if room <= 0:
            return  # a finishing send pumps again
        tokens = self.bucket.available()
        if tokens <= 0:
            self.pump(max(self.bucket.wait_time(1), 0.001))
            return
        want = min(policy.batch, room, tokens)
        self._claiming = True
        d = self.dispatcher.db.run(claim_due, self.channel, want, worker=self.dispatcher.worker,
                                   lease_seconds=self.adapter.lease_seconds, now=self.dispatcher.now())
        d.addCallbacks(self._claimed, self._claim_failed, callbackArgs=(want,))

    def _claimed(self, messages: list[ClaimedMessage], want: int) -> None:
        self._claiming = False
        for message in messages:
            self.bucket.take(1)
            self.in_flight += 1
            self._send(message)
        if self._stopped:
            return
        if len(messages) >= want:
            self.clock.callLater(0, self.pump)
        else:
            self.pump(self.dispatcher.policy.poll_interval)

    def _claim_failed(self, failure: Failure) -> None:
        self._claiming = False
        log.error("%s: claiming messages failed: %s", self.channel, failure.getErrorMessage())
        self.pump(max(self.dispatcher.policy.poll_interval, 1.0) * 5)

    def _send(self, message: ClaimedMessage) -> None:
        prepared = message

        def send(ready: ClaimedMessage) -> defer.Deferred:
            nonlocal prepared
            prepared = ready
            return defer.maybeDeferred(self.adapter.send, ready)

        d = self.prepare(message) if self.prepare is not None else defer.succeed(message)
        d.addCallback(send)
        d.addBoth(lambda result: self._finished(prepared, result))

    def _finished(self, message: ClaimedMessage, result: Any) -> None:
        self.in_flight -= 1
        outcome = self.dispatcher.outcome(self.adapter.kind, message, result)
        self.dispatcher.record(outcome)
        if not self._stopped and not self._claiming:
            self.clock.callLater(0, self.pump)

    def stop(self) -> None:
        self._stopped = True
        if self._timer is not None and self._timer.active():
            self._timer.cancel()


class Dispatcher:
    """Every channel's lane, the writer, recovery and the periodic sweep."""

    def __init__(self, db: DbRunner, *, clock: Any, policy: DispatchPolicy = DispatchPolicy(),
                 worker: str | None = None, on_inbound: Callable[[InboundSms], defer.Deferred] | None = None) -> None:
        self.db, self.clock, self.policy = db, clock, policy
        self.worker = worker or this_worker()
        self.writer = ResultWriter(db, clock)
        self.lanes: dict[str, Lane] = {}
        self.counts: Counter[str] = Counter()
        self.on_inbound = on_inbound
        self._sweeper: Any = None
        self._started = False
        self.listener = Listener(receipt=self.receipt, inbound=self.inbound)
        self.recovered: defer.Deferred | None = None

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock.seconds(), dt.timezone.utc)

    def add_lane(self, channel: str, adapter: Adapter, *, rate: float, burst: float | None = None,
                 prepare: Prepare | None = None) -> Lane:
        """Send ``channel`` through ``adapter`` at most ``rate`` per second (``burst`` at once)."""
        lane = Lane(self, channel, adapter, TokenBucket(rate, burst, clock=self.clock), prepare)
        self.lanes[channel] = lane
        if self._started:
            adapter.start(self.listener)
            lane.pump()
        return lane

    def start(self) -> defer.Deferred:
        """Start adapters, recover lost claims, then start claiming; fires when recovery is done."""
        self._started = True
        for lane in self.lanes.values():
            lane.adapter.start(self.listener)
        d = self.db.run(_recover, self.worker, self.now())

        def recovered(count: int) -> int:
            if count:
                log.warning("recovered %d message(s) left 'sending' by a stopped dispatcher; sending them again "
                            "under their idempotency keys", count)
            self.counts["recovered"] += count
            for lane in self.lanes.values():
                lane.pump()
            self._sweeper = self.clock.callLater(self.policy.sweep_interval, self.sweep)
            return count

        def failed(failure: Failure) -> int:
            log.error("outbox recovery failed: %s; claiming anyway", failure.getErrorMessage())
            return recovered(0)

        d.addCallbacks(recovered, failed)
        self.recovered = d
        return d

    def wake(self, channel: str | None = None) -> None:
        """Something was queued: claim now instead of at the next poll."""
        for name, lane in self.lanes.items():
            if channel is None or name == channel:
                lane.pump()

    def sweep(self) -> defer.Deferred:
        """Recover lapsed leases, expire stale messages, poll overdue receipts; then again later."""
        def work(session: Any) -> tuple[int, int, dict[str, list[tuple[int, str]]]]:
            now = self.now()
            recovered = _recover(session, self.worker, now)
            expired = expire_due(session, now)
            older = now - dt.timedelta(seconds=self.policy.receipt_poll_after)
            waiting = {channel: awaiting_receipt(session, channel, lane.adapter.kind, older_than=older)
                       for channel, lane in self.lanes.items() if hasattr(lane.adapter, "query")}
            return recovered, expired, waiting

        def done(found: tuple[int, int, dict[str, list[tuple[int, str]]]]) -> None:
            recovered, expired, waiting = found
            self.counts["recovered"] += recovered
            self.counts["expired"] += expired
            if recovered:
                self.wake()
            for channel, rows in waiting.items():
                adapter = self.lanes[channel].adapter
                for _id, provider_id in rows:
                    adapter.query(provider_id).addCallbacks(  # type: ignore[attr-defined]
                        lambda receipt: receipt and self.receipt(receipt),
                        lambda f, p=provider_id: log.info("receipt poll for %s failed: %s", p, f.getErrorMessage()))

        d = self.db.run(work)
        d.addCallbacks(done, lambda f: log.error("outbox sweep failed: %s", f.getErrorMessage()))
        d.addBoth(lambda _: self._next_sweep())
        return d

    def _next_sweep(self) -> None:
        if self._started:
            self._sweeper = self.clock.callLater(self.policy.sweep_interval, self.sweep)

    def backoff(self, attempts: int, hint: float | None = None) -> float:
        """Seconds before attempt ``attempts + 1`` (exponential, capped; the gateway's hint when longer)."""
        delay = min(self.policy.retry_base * 2 ** max(attempts - 1, 0), self.policy.retry_max)
        return max(delay, hint or 0.0)

    def outcome(self, provider: str, message: ClaimedMessage, result: Any) -> SendOutcome:
        """What to write for one finished send."""
        attachment = message.attachment_path
        if isinstance(result, SendResult):
            self.counts[result.kind] += 1
            return SendOutcome(message.id, result.kind, provider, result.provider_message_id,
                               result=result.result or None, attachment_path=attachment)
        error = result.value if isinstance(result, Failure) else result
        if isinstance(error, PermanentSendError):
            self.counts["failed"] += 1
            log.warning("%s message %d to %s refused: %s", message.channel, message.id, message.recipient,
                        error.reason)
            return SendOutcome(message.id, "failed", provider, error.provider_message_id, error.reason,
                               error.result or None, attachment_path=attachment)
        hint = error.retry_after if isinstance(error, TransientSendError) else None
        reason = error.reason if isinstance(error, TransientSendError) else f"{type(error).__name__}: {error}"
        if not isinstance(error, TransientSendError):
            log.error("%s message %d: unexpected error in the adapter: %s", message.channel, message.id,
                      result.getTraceback() if isinstance(result, Failure) else reason)
        self.counts["retry"] += 1
        retry_at = self.now() + dt.timedelta(seconds=self.backoff(message.attempts, hint))
        last = message.attempts >= message.max_attempts
        log.info("%s message %d attempt %d/%d: %s%s", message.channel, message.id, message.attempts,
                 message.max_attempts, reason, "; giving up" if last else f"; again at {retry_at:%H:%M:%S}")
        return SendOutcome(message.id, "retry", provider, getattr(error, "provider_message_id", None),
                           f"attempt {message.attempts}/{message.max_attempts}: {reason}",
                           getattr(error, "result", None) or None, retry_at, attachment_path=attachment)

    def record(self, outcome: SendOutcome) -> None:
        self.writer.add_outcome(outcome)

    def receipt(self, receipt: Receipt) -> None:
        """A gateway reported the fate of a message it accepted."""
        self.counts[f"receipt_{receipt.status}"] += 1
        self.writer.add_receipt(receipt)

    def apply_receipt(self, receipt: Receipt) -> defer.Deferred:
        """Write a receipt now (a gateway's callback is answered only once it is committed); the message id.

        A receipt that matches no sent message yet goes to the writer, which tries again shortly.
        """
        self.counts[f"receipt_{receipt.status}"] += 1

        def matched(message_id: int | None) -> int | None:
            if message_id is None:
                self.writer.add_receipt(receipt, 1)
            return message_id

        return self.db.run(record_receipt, receipt, self.now()).addCallback(matched)

    def inbound(self, message: InboundSms) -> defer.Deferred:
        """A gateway received an SMS for us: file it (and wake the SMS lane for an opt-out confirmation)."""
        self.counts["inbound"] += 1
        if self.on_inbound is None:
            log.warning("inbound SMS from %s dropped: no inbound handler", message.sender)
            return defer.succeed(None)
        d = self.on_inbound(message)
        d.addCallback(lambda result: (self.wake("sms"), result)[1])
        return d

    @defer.inlineCallbacks
    def stop(self, grace: float = 5.0) -> Any:
        """Stop claiming, let sends in flight finish (up to ``grace`` s), write their outcomes, stop adapters."""
        self._started = False
        if self._sweeper is not None and self._sweeper.active():
            self._sweeper.cancel()
        for lane in self.lanes.values():
            lane.stop()
        for _ in range(int(grace / 0.05)):
            if not any(lane.in_flight for lane in self.lanes.values()):
                break
            yield _sleep(self.clock, 0.05)
        yield self.writer.stop()
        for lane in self.lanes.values():
            try:
                yield lane.adapter.stop()
            except Exception:
                log.exception("stopping the %s adapter failed", lane.channel)


def _sleep(clock: Any, seconds: float) -> defer.Deferred:
    d: defer.Deferred = defer.Deferred()
    clock.callLater(seconds, d.callback, None)
    return d


def with_attachment(message: ClaimedMessage, path: str) -> ClaimedMessage:
    """The message with its rendered document attached."""
    return replace(message, attachment_path=path)
