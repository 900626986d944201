"""SMS over SMPP 3.4 with ``smpplib``: one bound transceiver session, run on its own thread.

smpplib is blocking, so a dedicated thread owns the socket: it binds
(``bind_transceiver``), sends queued ``submit_sm`` PDUs, reads responses
without blocking (``poll``), keeps the link alive with ``enquire_link`` and
rebinds after a drop. The reactor only ever puts work on a queue and gets
answers back through ``callFromThread``.

Texts are split here, on the same rules as the segment counter: GSM-7 (data
coding 0) in 153-septet parts that never split an escape pair, otherwise
UCS-2 (data coding 8) in 67-unit parts that never split a surrogate pair;
concatenated parts carry an 8-bit-reference UDH (esm_class 0x40).
``registered_delivery`` asks for receipts, which arrive as ``deliver_sm``
with esm_class 0x04 (``receipted_message_id`` / ``message_state`` TLVs, or
the ``id:... stat:...`` text), one per part: a long message is delivered
once every part is, failed as soon as one part fails. Other ``deliver_sm``
are inbound SMS.

What is guaranteed: an SMSC assigns its own message ids and SMPP 3.4 has no
client reference it must deduplicate on. A message whose ``submit_sm`` was
written but whose ``submit_sm_resp`` never came (the link or the engine
died in that window) is sent again, so SMPP gives at-least-once delivery,
with the duplicate window one round trip wide (see docs/messaging.md).
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from twisted.internet import defer

from crm_core.services.outbox_dispatch import ClaimedMessage, Receipt
from crm_core.services.sms_segments import GSM7_MULTI, GSM7_SINGLE, UCS2_MULTI, UCS2_SINGLE, is_gsm7
from messaging.channels.base import InboundSms, Listener, PermanentSendError, SendResult, TransientSendError

log = logging.getLogger(__name__)

#: submit_sm_resp statuses worth retrying: system error, queue full, throttled, submit failed, delivery failure
TRANSIENT_STATUSES = frozenset({0x08, 0x14, 0x45, 0x58, 0xFE, 0xFF})
#: message_state values of a receipt -> outbox status
RECEIPT_STATES = {2: "delivered", 3: "expired", 5: "failed", 8: "failed", 4: "failed"}
RECEIPT_STAT = {"DELIVRD": "delivered", "EXPIRED": "expired", "UNDELIV": "failed", "REJECTD": "failed",
                "DELETED": "failed", "UNKNOWN": None, "ACCEPTD": None, "ENROUTE": None}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def gsm7_bytes(char: str) -> bytes:
    """One character in the GSM 03.38 default alphabet, unpacked (escape + code for the extension table)."""
    from smpplib.gsm import gsm_encode

    return gsm_encode(char)


def split_text(text: str) -> tuple[int, list[bytes]]:
    """(data_coding, payload of each part) -- parts beyond one are ready for a concatenation UDH."""
    if is_gsm7(text):
        encoded = [gsm7_bytes(c) for c in text]
        if sum(len(b) for b in encoded) <= GSM7_SINGLE:
            return 0, [b"".join(encoded)]
        parts, current = [], b""
        for chunk in encoded:  # an escape pair stays in one part
            if len(current) + len(chunk) > GSM7_MULTI:
                parts.append(current)
                current = b""
            current += chunk
        return 0, parts + [current]
    units = text.encode("utf-16-be")
    if len(units) // 2 <= UCS2_SINGLE:
        return 8, [units]
    parts, start = [], 0
    while start < len(units):
        end = min(start + UCS2_MULTI * 2, len(units))
        if end < len(units) and 0xD8 <= units[end - 2] <= 0xDB:  # do not split a surrogate pair
            end -= 2
        parts.append(units[start:end])
        start = end
    return 8, parts


def with_udh(parts: list[bytes], reference: int) -> list[bytes]:
    """Parts with a concatenation UDH (IEI 0x00, 8-bit reference), or the single part unchanged."""
    if len(parts) == 1:
        return parts
    total = len(parts)
    return [bytes([5, 0, 3, reference & 0xFF, total, i]) + part for i, part in enumerate(parts, 1)]


def parse_receipt_text(text: str) -> dict[str, str]:
    """The ``id:X sub:001 ... stat:DELIVRD err:000`` fields of a receipt's short message."""
    fields: dict[str, str] = {}
    for token in text.replace("submit date", "submit_date").replace("done date", "done_date").split():
        key, sep, value = token.partition(":")
        if sep and key.lower() not in fields:
            fields[key.lower()] = value
    return fields


#: part ids remembered for receipts of long messages (older ones are forgotten first)
MAX_TRACKED_PARTS = 100_000


@dataclass
class _Parts:
    """The parts of one long SMS whose receipts are still expected."""

    first: str
    waiting: set[str]
    done: bool = False


@dataclass
class _Submit:
    message: ClaimedMessage
    waiter: defer.Deferred
    parts: list[bytes]
    data_coding: int
    deadline: float = 0.0
    sequences: set[int] = field(default_factory=set)
    ids: list[str] = field(default_factory=list)
    failed: str | None = None
    transient: bool = True


class SmppAdapter:
    """A transceiver bind to one SMSC account; sends from a thread, answers on the reactor."""

    kind = "smpp"

    def __init__(self, reactor: Any, host: str, port: int, system_id: str, password: str, *,
                 system_type: str = "", source_addr: str = "", source_ton: int = 5, source_npi: int = 0,
                 timeout: float = 10.0, enquire_link: float = 30.0, max_in_flight: int = 10,
                 lease_seconds: float = 120.0, reconnect_max: float = 30.0) -> None:
        self.reactor = reactor
        self.host, self.port, self.system_id, self.password = host, int(port), system_id, password
        self.system_type, self.source_addr = system_type, source_addr
        self.source_ton, self.source_npi = source_ton, source_npi
        self.timeout, self.enquire_link, self.reconnect_max = timeout, enquire_link, reconnect_max
        self.max_in_flight, self.lease_seconds = max_in_flight, lease_seconds
        self._queue: queue.Queue[_Submit | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener = Listener()
        self._pending: dict[int, _Submit] = {}
        self._client: Any = None
        self.bound = threading.Event()
        self._stopped: defer.Deferred | None = None
        self._activity = 0  # PDUs read, so the link counts as alive without an enquire_link
        #: part message id -> its message's parts, so a long SMS is delivered when all its parts are
        self._parts: OrderedDict[str, _Parts] = OrderedDict()

    # -- reactor side -------------------------------------------------------------

    def start(self, listener: Listener) -> None:
        self._listener = listener
        if self._thread is None:
            self._stopped = defer.Deferred()
            self._thread = threading.Thread(target=self._run, name=f"smpp-{self.host}:{self.port}", daemon=True)
            self._thread.start()

    def stop(self) -> defer.Deferred | None:
        if self._thread is None:
            return None
        self._stop.set()
        self._queue.put(None)
        self._thread = None
        return self._stopped

    def send(self, message: ClaimedMessage) -> defer.Deferred:
        if self._thread is None:
            return defer.fail(TransientSendError("SMPP session not started"))
        data_coding, parts = split_text(message.body)
        submit = _Submit(message, defer.Deferred(), with_udh(parts, random.randint(0, 255)), data_coding)
        self._queue.put(submit)
        return submit.waiter

    def _answer(self, submit: _Submit, result: Any) -> None:
        def fire() -> None:
            if submit.waiter.called:
                return
            if isinstance(result, Exception):
                submit.waiter.errback(result)
            else:
                submit.waiter.callback(result)

        self.reactor.callFromThread(fire)

    # -- SMPP thread ----------------------------------------------------------------

    def _run(self) -> None:
        delay = 0.5
        try:
            while not self._stop.is_set():
                try:
                    self._connect()
                    delay = 0.5
                    self._serve()
                except Exception as exc:  # the link dropped or the bind failed: fail what is open, rebind
                    self.bound.clear()
                    self._fail_all(f"SMSC unreachable: {exc}")
                    self._close()
                    if self._stop.is_set():
                        break
                    log.warning("SMPP %s:%s: %s; reconnecting in %.1fs", self.host, self.port, exc, delay)
                    self._drain_failing(delay, f"SMSC unreachable: {exc}")
                    delay = min(delay * 2, self.reconnect_max)
        finally:
            self._close()
            self._fail_all("SMPP session stopped")
            self._drain_failing(0, "SMPP session stopped")
            stopped = self._stopped
            if stopped is not None:
                self.reactor.callFromThread(lambda: stopped.called or stopped.callback(None))

    def _connect(self) -> None:
        import smpplib.client

        client = smpplib.client.Client(self.host, self.port, timeout=self.timeout, allow_unknown_opt_params=True)
        client.set_message_sent_handler(self._on_submit_resp)
        client.set_message_received_handler(self._on_deliver)
        client.set_error_pdu_handler(self._on_error_pdu)
        client.connect()
        self._client = client
        client.bind_transceiver(system_id=self.system_id, password=self.password, system_type=self.system_type)
        self.bound.set()
        log.info("SMPP bound to %s:%s as %s", self.host, self.port, self.system_id)

    def _close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if self.bound.is_set():
                client.unbind()
        except Exception:
            pass
        try:
            client.disconnect()
        except Exception:
            pass
        self.bound.clear()

    def _serve(self) -> None:
        client = self._client
        last_activity = time.monotonic()
        while not self._stop.is_set():
            if not self._submit_queued(client):
                self._stop.wait(0.02)
            before = self._activity
            client.poll(auto_send_enquire_link=False)  # reads whatever arrived, never blocks
            if self._activity != before:
                last_activity = time.monotonic()
            now = time.monotonic()
            if now - last_activity > self.enquire_link:
                import smpplib.smpp

                client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=client))
                last_activity = now
            self._expire(now)

    def _submit_queued(self, client: Any) -> int:
        count = 0
        while True:
            try:
                submit = self._queue.get_nowait()
            except queue.Empty:
                return count
            if submit is None:
                return count
            submit.deadline = time.monotonic() + self.timeout
            destination = submit.message.recipient.lstrip("+")
            for part in submit.parts:
                pdu = client.send_message(
                    source_addr_ton=self.source_ton, source_addr_npi=self.source_npi, source_addr=self.source_addr,
                    dest_addr_ton=1, dest_addr_npi=1, destination_addr=destination, short_message=part,
                    data_coding=submit.data_coding, esm_class=0x40 if len(submit.parts) > 1 else 0,
                    registered_delivery=1)
                submit.sequences.add(pdu.sequence)
                self._pending[pdu.sequence] = submit
            count += 1

    def _on_submit_resp(self, pdu: Any, **_: Any) -> None:
        self._activity += 1
        submit = self._pending.pop(pdu.sequence, None)
        if submit is None:
            return
        status = int(pdu.status or 0)
        if status:
            from smpplib import consts

            text = consts.DESCRIPTIONS.get(status, "unknown status")
            submit.failed = f"SMSC refused the message: 0x{status:08X} {text}"
            submit.transient = submit.transient and status in TRANSIENT_STATUSES
        else:
            submit.ids.append(_text(pdu.message_id))
        submit.sequences.discard(pdu.sequence)
        if not submit.sequences:
            self._finish(submit)

    def _finish(self, submit: _Submit) -> None:
        if submit.failed:
            error = (TransientSendError if submit.transient else PermanentSendError)(
                submit.failed, provider_message_id=submit.ids[0] if submit.ids else None,
                result={"parts": len(submit.parts), "accepted": submit.ids})
            self._answer(submit, error)
        else:
            if len(submit.ids) > 1:
                group = _Parts(submit.ids[0], set(submit.ids))
                for part_id in submit.ids:
                    self._parts[part_id] = group
                while len(self._parts) > MAX_TRACKED_PARTS:
                    self._parts.popitem(last=False)
            self._answer(submit, SendResult("sent", submit.ids[0], {"parts": len(submit.parts), "ids": submit.ids}))

    def _on_error_pdu(self, pdu: Any) -> None:
        if pdu.command != "submit_sm_resp":  # submit_sm_resp errors are answered in _on_submit_resp
            log.warning("SMPP error PDU %s status 0x%08X", pdu.command, int(pdu.status or 0))

    def _on_deliver(self, pdu: Any, **_: Any) -> int:
        self._activity += 1
        esm_class = int(pdu.esm_class or 0)
        raw = pdu.short_message or b""
        if esm_class & 0x04:  # a delivery receipt
            fields = parse_receipt_text(_text(raw))
            message_id = _text(getattr(pdu, "receipted_message_id", None)) or fields.get("id", "")
            state = getattr(pdu, "message_state", None)
            status = RECEIPT_STATES.get(int(state)) if state else RECEIPT_STAT.get(fields.get("stat", "").upper())
            if message_id and status:
                group = self._parts.pop(message_id, None)
                if group is not None:  # one part of a long SMS: the message's fate once all parts are known
                    group.waiting.discard(message_id)
                    if group.done or (status == "delivered" and group.waiting):
                        return 0
                    group.done = True
                    message_id = group.first
                receipt = Receipt(self.kind, message_id, status,
                                  None if status == "delivered" else f"SMSC receipt {fields.get('stat', state)} "
                                                                     f"err {fields.get('err', '')}".strip(),
                                  {"stat": fields.get("stat"), "err": fields.get("err")})
                self.reactor.callFromThread(self._listener.receipt, receipt)
            return 0
        if esm_class & 0x40 and raw:  # a part of a concatenated inbound SMS: drop the UDH
            raw = raw[raw[0] + 1:]
        coding = int(pdu.data_coding or 0)
        text = raw.decode("utf-16-be", "replace") if coding == 8 else _gsm_or_latin(raw)
        inbound = InboundSms(_text(pdu.source_addr), text, _text(pdu.destination_addr) or None, self.kind, None)
        self.reactor.callFromThread(self._listener.inbound, inbound)
        return 0

    def _expire(self, now: float) -> None:
        late = {id(s): s for s in self._pending.values() if s.deadline and s.deadline < now}
        for submit in late.values():
            for seq in submit.sequences:
                self._pending.pop(seq, None)
            submit.sequences.clear()
            submit.failed, submit.transient = f"no submit_sm_resp within {self.timeout:.0f}s", True
            self._finish(submit)

    def _fail_all(self, reason: str) -> None:
        submits = {id(s): s for s in self._pending.values()}
        self._pending.clear()
        for submit in submits.values():
            self._answer(submit, TransientSendError(reason))

    def _drain_failing(self, seconds: float, reason: str) -> None:
        """While unbound, answer new sends with ``reason`` at once (for ``seconds``) instead of holding them."""
        end = time.monotonic() + seconds
        while True:
            try:
                submit = self._queue.get(timeout=max(0.0, min(0.05, end - time.monotonic())))
            except queue.Empty:
                submit = None
            if submit is not None:
                self._answer(submit, TransientSendError(reason))
            if time.monotonic() >= end or self._stop.is_set() and self._queue.empty():
                return


def _gsm_or_latin(raw: bytes) -> str:
    from smpplib.gsm import GSM_CHARACTER_TABLE

    out, escape = [], False
    for byte in raw:
        if byte == 0x1B:
            escape = True
            continue
        index = byte + 0x80 if escape else byte
        escape = False
        out.append(GSM_CHARACTER_TABLE[index] if index < len(GSM_CHARACTER_TABLE) else chr(byte))
    return "".join(out)


