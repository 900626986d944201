"""Simulated far ends: agent phones (``user/NNNN``) and external numbers.

A real switch learns a far end's behaviour from SIP; the simulator is told it:
registered or not, busy, rejecting, answering after a delay or never, talking
for N seconds then hanging up. Tests and the ``sim phone`` api commands set it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
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
        return self.external.get(number, self.default_external)
