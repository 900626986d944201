"""Group commit of send outcomes and delivery receipts: one transaction per batch, not one per message.

Outcomes and receipts arriving within ``window`` seconds of the first (or
while a batch is being written) go together in the next transaction, the
outcomes first, so a receipt that follows its own send in the same batch
finds the message ``sent``. A receipt that matches nothing yet (the gateway
called back before its answer to the send was written) is tried again a few
times before it is dropped with a warning. If the database is down, the batch
is kept and written later: the messages stay ``sending`` meanwhile, and if
the process dies first, recovery sends them again under the same key.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from twisted.internet import defer

from crm_core.services.outbox_dispatch import Receipt, SendOutcome, record_outcomes, record_receipt
from messaging.db import DbRunner

log = logging.getLogger(__name__)

#: Times an unmatched receipt is retried, and the pause between tries (seconds).
RECEIPT_TRIES, RECEIPT_PAUSE = 5, 1.0


def _write(session: Any, outcomes: list[SendOutcome], receipts: list[Receipt], now: dt.datetime) -> list[Receipt]:
    record_outcomes(session, outcomes, now)
    return [r for r in receipts if record_receipt(session, r, now) is None]


class ResultWriter:
    """Collects outcomes and receipts and writes them in batches through ``db``."""

    def __init__(self, db: DbRunner, clock: Any, *, window: float = 0.02, max_batch: int = 1000,
                 retry_delay: float = 1.0, max_retry_delay: float = 30.0) -> None:
        self.db, self.clock = db, clock
        self.window, self.max_batch = window, max_batch
        self.retry_delay, self.max_retry_delay = retry_delay, max_retry_delay
        self._outcomes: list[SendOutcome] = []
        self._receipts: list[tuple[Receipt, int]] = []
        self._waiters: list[defer.Deferred] = []
        self._timer: Any = None
        self._busy = False
        self._failures = 0
        self.written = 0

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock.seconds(), dt.timezone.utc)

    def add_outcome(self, outcome: SendOutcome) -> None:
        """Write this outcome in the next batch."""
        self._outcomes.append(outcome)
        self._schedule()

    def add_receipt(self, receipt: Receipt, tries: int = 0) -> None:
        """Apply this delivery receipt in the next batch."""
        self._receipts.append((receipt, tries))
        self._schedule()

    def pending(self) -> int:
        """Outcomes and receipts not written yet."""
        return len(self._outcomes) + len(self._receipts)

    def _schedule(self, delay: float | None = None) -> None:
        if self._busy or (self._timer is not None and self._timer.active()):
            if self.pending() >= self.max_batch and self._timer is not None and self._timer.active() \
                    and not self._busy:
                self._timer.reset(0)
            return
        self._timer = self.clock.callLater(self.window if delay is None else delay, self._flush)

    def _flush(self) -> None:
        self._timer = None
        if not self.pending():
            self._release_waiters()
            return
        outcomes, self._outcomes = self._outcomes[:self.max_batch], self._outcomes[self.max_batch:]
        room = max(self.max_batch - len(outcomes), 0)
        receipts, self._receipts = self._receipts[:room], self._receipts[room:]
        self._busy = True
        d = self.db.run(_write, outcomes, [r for r, _ in receipts], self.now())
        d.addCallbacks(lambda unmatched: self._done(outcomes, receipts, unmatched),
                       lambda failure: self._failed(outcomes, receipts, failure))

    def _done(self, outcomes: list[SendOutcome], receipts: list[tuple[Receipt, int]],
              unmatched: list[Receipt]) -> None:
        self._busy = False
        self._failures = 0
        self.written += len(outcomes)
        tries = {id(r): t for r, t in receipts}
        for receipt in unmatched:
            attempt = tries.get(id(receipt), 0) + 1
            if attempt >= RECEIPT_TRIES:
                log.warning("delivery receipt for %s %s matches no sent message; dropped",
                            receipt.provider, receipt.provider_message_id)
                continue
            self.clock.callLater(RECEIPT_PAUSE, self.add_receipt, receipt, attempt)
        if self.pending():
            self._schedule()
        else:
            self._release_waiters()

    def _failed(self, outcomes: list[SendOutcome], receipts: list[tuple[Receipt, int]], failure: Any) -> None:
        self._busy = False
        self._failures += 1
        self._outcomes[:0] = outcomes
        self._receipts[:0] = receipts
        delay = min(self.retry_delay * 2 ** (self._failures - 1), self.max_retry_delay)
        log.error("writing %d outcome(s) failed (%s); trying again in %.1fs", len(outcomes),
                  failure.getErrorMessage(), delay)
        if self._stopping:
            self._release_waiters()
            return
        self._schedule(delay)

    _stopping = False

    def _release_waiters(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.callback(None)

    def flush(self) -> defer.Deferred:
        """Fires once everything queued so far is written (or writing failed while stopping)."""
        if not self.pending() and not self._busy:
            return defer.succeed(None)
        waiter: defer.Deferred = defer.Deferred()
        self._waiters.append(waiter)
        if self._timer is not None and self._timer.active():
            self._timer.reset(0)
        elif not self._busy:
            self._schedule(0)
        return waiter

    def stop(self) -> defer.Deferred:
        """Write what is pending (one try), then stop."""
        self._stopping = True
        return self.flush()
