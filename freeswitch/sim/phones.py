"""Simulated far ends: agent phones (``user/NNNN``) and external numbers.

A real switch learns a far end's behaviour from SIP; the simulator is told it:
registered or not, busy, rejecting, failing with a network cause, answering
after a delay or never, a person or an answering machine (a greeting, then a
beep, then it records until it hangs up), talking for N seconds then hanging
up. Tests and the ``sim phone`` / ``sim external`` api commands set it; a
seeded :class:`freeswitch.sim.callees.CalleeMix` can decide it for every
external number nobody set.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class Endpoint:
    """How one far end reacts to an INVITE."""

    registered: bool = True
    busy: bool = False
    reject: bool = False             # CALL_REJECTED
    answer_after: float | None = 1.0  # None: rings until originate_timeout (NO_ANSWER)
    talk_seconds: float | None = None  # hang up this long after answering
    digits: str = ""                  # DTMF the far end sends after answering (100 ms apart)
    #: a person answering prompts: the n-th prompt-wait (play_and_get_digits / read) on the call gets the n-th
    #: reply, sent ``reply_after`` seconds after the wait starts (keys 100 ms apart); "" stays silent at that wait,
    #: "hangup" hangs up there; waits after the last reply get silence
    replies: list = field(default_factory=list)
    reply_after: float = 1.0
    fail_cause: str | None = None     # the network refuses the call with this cause (UNALLOCATED_NUMBER...)
    fail_after: float = 0.0           # seconds before a busy / rejected / failed answer comes back
    machine: bool = False             # an answering machine answers (greeting, beep, records, hangs up)
    greeting_seconds: float = 1.0     # how long the callee speaks after answering ("喂?" or the greeting)
    beep: bool = True                 # a machine beeps when its greeting ends
    message_seconds: float = 30.0     # a machine records this long after the beep, then hangs up
    fax: bool = True                  # a fax machine answers (txfax succeeds); False: a person, no fax tones

    def update(self, data: dict[str, Any]) -> None:
        names = {f.name for f in fields(self)}
        for key, value in data.items():
            if key not in names:
                raise ValueError(f"unknown phone setting {key!r}")
            setattr(self, key, value)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Directory:
    """Agent phones by extension (the user directory) and behaviours of external numbers."""

    def __init__(self) -> None:
        self.phones: dict[str, Endpoint] = {}
        self.external: dict[str, Endpoint] = {}
        self.default_external = Endpoint(answer_after=0.0)
        self.busy_uuids: dict[str, str] = {}  # extension -> channel uuid of its current call
        #: decides the behaviour of external numbers nobody set (None: ``default_external``)
        self.callees: Any = None

    def phone(self, ext: str) -> Endpoint:
        """The phone of ``ext``, created (registered) if new."""
        return self.phones.setdefault(ext, Endpoint())

    def register(self, ext: str, **settings: Any) -> Endpoint:
        phone = self.phone(ext)
        phone.registered = True
        phone.update(settings)
        return phone

    def unregister(self, ext: str) -> Endpoint:
        phone = self.phone(ext)
        phone.registered = False
        return phone

    def external_for(self, number: str) -> Endpoint:
        """How an external number behaves: as set for it, else drawn from the callee mix, else the default."""
        endpoint = self.external.get(number)
        if endpoint is not None:
            return endpoint
        if self.callees is not None:
            return self.callees.endpoint_for(number)
        return self.default_external
