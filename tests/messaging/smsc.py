"""An SMPP 3.4 SMSC on loopback for the SMPP adapter tests, with its own PDU coding (struct, not smpplib).

Accepts one transceiver bind (system id and password checked), answers
``submit_sm`` with its own message ids (or a configured error status), sends
delivery receipts as ``deliver_sm`` with esm_class 0x04 (text and TLVs) for
messages that asked for one, answers ``enquire_link`` and ``unbind``, and can
send mobile-originated messages. Every submit is kept for the test to read.
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass, field
from typing import Any

from twisted.internet import protocol, reactor

BIND_TRANSCEIVER, BIND_TRANSCEIVER_RESP = 0x00000009, 0x80000009
SUBMIT_SM, SUBMIT_SM_RESP = 0x00000004, 0x80000004
DELIVER_SM, DELIVER_SM_RESP = 0x00000005, 0x80000005
ENQUIRE_LINK, ENQUIRE_LINK_RESP = 0x00000015, 0x80000015
UNBIND, UNBIND_RESP = 0x00000006, 0x80000006
GENERIC_NACK = 0x80000000


def cstring(data: bytes, at: int) -> tuple[bytes, int]:
    end = data.index(b"\x00", at)
    return data[at:end], end + 1


@dataclass
class Submit:
    destination: str
    source: str
    esm_class: int
    data_coding: int
    registered_delivery: int
    short_message: bytes
    message_id: str

    @property
    def udh(self) -> bytes:
        return self.short_message[:self.short_message[0] + 1] if self.esm_class & 0x40 else b""

    @property
    def payload(self) -> bytes:
        return self.short_message[len(self.udh):]

    def text(self) -> str:
        return self.payload.decode("utf-16-be") if self.data_coding == 8 else self.payload.decode("latin-1")


@dataclass
class Smsc:
    system_id: str = "hotline"
    password: str = "secret"
    submits: list[Submit] = field(default_factory=list)
    binds: list[tuple[str, str, int]] = field(default_factory=list)  # (system_id, password, status)
    reject: dict[str, int] = field(default_factory=dict)  # destination -> submit_sm_resp status
    receipts: bool = True
    deliver_acks: list[int] = field(default_factory=list)
    connections: list["SmscProtocol"] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def factory(self) -> protocol.Factory:
        smsc = self

        class Factory(protocol.Factory):
            def buildProtocol(self, addr: Any) -> "SmscProtocol":
                proto = SmscProtocol(smsc)
                smsc.connections.append(proto)
                return proto

        return Factory()

    def listen(self) -> Any:
        return reactor.listenTCP(0, self.factory(), interface="127.0.0.1")

    def send_mo(self, source: str, text: str, destination: str = "10690000") -> None:
        """A customer's SMS to us (UCS-2), on the newest bound connection."""
        self.connections[-1].deliver(source, destination, 0, 8, text.encode("utf-16-be"))

    def drop_all(self) -> None:
        for proto in self.connections:
            proto.transport.loseConnection()


class SmscProtocol(protocol.Protocol):
    def __init__(self, smsc: Smsc) -> None:
        self.smsc = smsc
        self.buffer = b""
        self.sequence = itertools.count(1)
        self.bound = False

    def dataReceived(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= 16:
            length = struct.unpack(">L", self.buffer[:4])[0]
            if len(self.buffer) < length:
                return
            pdu, self.buffer = self.buffer[:length], self.buffer[length:]
            command, status, sequence = struct.unpack(">LLL", pdu[4:16])
            self.handle(command, status, sequence, pdu[16:])

    def send(self, command: int, status: int, sequence: int, body: bytes = b"") -> None:
        self.transport.write(struct.pack(">LLLL", 16 + len(body), command, status, sequence) + body)

    def handle(self, command: int, status: int, sequence: int, body: bytes) -> None:
        if command == BIND_TRANSCEIVER:
            system_id, at = cstring(body, 0)
            password, at = cstring(body, at)
            ok = (system_id.decode(), password.decode()) == (self.smsc.system_id, self.smsc.password)
            code = 0 if ok else 0x0E
            self.smsc.binds.append((system_id.decode(), password.decode(), code))
            self.bound = ok
            self.send(BIND_TRANSCEIVER_RESP, code, sequence, b"TESTSMSC\x00")
        elif command == SUBMIT_SM:
            self.submit(sequence, body)
        elif command == ENQUIRE_LINK:
            self.send(ENQUIRE_LINK_RESP, 0, sequence)
        elif command == UNBIND:
            self.send(UNBIND_RESP, 0, sequence)
            self.transport.loseConnection()
        elif command == DELIVER_SM_RESP:
            self.smsc.deliver_acks.append(status)
        elif not command & 0x80000000:
            self.send(GENERIC_NACK, 0x03, sequence)

    def submit(self, sequence: int, body: bytes) -> None:
        _service, at = cstring(body, 0)
        # source address TON and NPI at body[at], body[at + 1] (not checked)
        source, at = cstring(body, at + 2)
        # destination TON and NPI likewise
        destination, at = cstring(body, at + 2)
        esm_class = body[at]
        at += 3  # esm_class, protocol_id, priority_flag
        _schedule, at = cstring(body, at)
        _validity, at = cstring(body, at)
        registered, _replace, coding, _default, length = body[at:at + 5]
        short = body[at + 5:at + 5 + length]
        status = self.smsc.reject.get(destination.decode(), 0)
        message_id = f"smsc-{next(self.smsc._ids)}"
        self.smsc.submits.append(Submit(destination.decode(), source.decode(), esm_class, coding, registered, short,
                                        message_id if not status else ""))
        if status:
            self.send(SUBMIT_SM_RESP, status, sequence, b"\x00")
            return
        self.send(SUBMIT_SM_RESP, 0, sequence, message_id.encode() + b"\x00")
        if registered and self.smsc.receipts:
            receipt = (f"id:{message_id} sub:001 dlvrd:001 submit date:2612011000 done date:2612011001 "
                       f"stat:DELIVRD err:000 text:").encode()
            tlvs = (struct.pack(">HH", 0x001E, len(message_id) + 1) + message_id.encode() + b"\x00"
                    + struct.pack(">HHB", 0x0427, 1, 2))
            reactor.callLater(0.05, self.deliver, destination.decode(), source.decode(), 0x04, 0, receipt, tlvs)

    def deliver(self, source: str, destination: str, esm_class: int, coding: int, short: bytes,
                tlvs: bytes = b"") -> None:
        body = (b"\x00" + bytes([1, 1]) + source.encode() + b"\x00" + bytes([0, 0]) + destination.encode() + b"\x00"
                + bytes([esm_class, 0, 0]) + b"\x00" + b"\x00" + bytes([0, 0, coding, 0, len(short)]) + short + tlvs)
        self.send(DELIVER_SM, 0, next(self.sequence), body)
