"""Scripted outbound callees: who answers a campaign's calls, drawn from a seeded distribution.

A real campaign meets people who answer after a few rings, numbers nobody
answers (the call rings until ``originate_timeout``: NO_ANSWER), busy lines
(USER_BUSY), numbers the network refuses (UNALLOCATED_NUMBER, NO_USER_RESPONSE,
NORMAL_TEMPORARY_FAILURE, CALL_REJECTED...) and answering machines that
pick up after several rings, play a greeting, beep and record. A
:class:`CalleeMix` draws one of these for every call to a number nobody set
explicitly, deterministically: the n-th call to a number gets the draw of
``(seed, number, n)``, whatever order the calls come in, so a test or a
demo run is the same every time (and a retry of a number that was busy may
be answered).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from freeswitch.sim.phones import Endpoint

#: Network refusals as FreeSWITCH names them (mod_sofia's SIP status -> cause), with their weights.
FAIL_CAUSES: tuple[tuple[str, float], ...] = (
    ("UNALLOCATED_NUMBER", 0.35),  # 404: the number does not exist
    ("NO_USER_RESPONSE", 0.25),  # 480: switched off, out of coverage
    ("NORMAL_TEMPORARY_FAILURE", 0.2),  # 503
    ("CALL_REJECTED", 0.1),  # 603: declined
    ("RECOVERY_ON_TIMER_EXPIRE", 0.1),  # 408
)


@dataclass
class CalleeMix:
    """Shares of answer / no answer / busy / failed / machine, with ring and talk times; seeded."""

    seed: int = 1
    answer: float = 0.30
    machine: float = 0.10
    busy: float = 0.10
    failed: float = 0.05  # the rest rings until the timeout
    ring_median: float = 6.0  # a person answers after this many seconds (lognormal)
    machine_ring: tuple[float, float] = (12.0, 22.0)
    talk_median: float | None = None  # a person hangs up after this long (lognormal); None: waits for us
    greeting: tuple[float, float] = (0.6, 1.4)  # "喂?" of a person
    machine_greeting: tuple[float, float] = (5.0, 12.0)
    calls: dict[str, int] = field(default_factory=dict)
    history: list[tuple[str, int, str]] = field(default_factory=list)  # (number, n, kind)

    def __post_init__(self) -> None:
        total = self.answer + self.machine + self.busy + self.failed
        if not 0.0 <= total <= 1.0 or min(self.answer, self.machine, self.busy, self.failed) < 0:
            raise ValueError("callee shares must be between 0 and 1 and add up to at most 1")

    def endpoint_for(self, number: str) -> Endpoint:
        """The behaviour of the next call to ``number``."""
        n = self.calls.get(number, 0) + 1
        self.calls[number] = n
        rng = random.Random(f"{self.seed}:{number}:{n}")
        u = rng.random()
        kind, endpoint = self._draw(rng, u)
        self.history.append((number, n, kind))
        return endpoint

    def _draw(self, rng: random.Random, u: float) -> tuple[str, Endpoint]:
        edges = [self.answer, self.answer + self.machine, self.answer + self.machine + self.busy,
                 self.answer + self.machine + self.busy + self.failed]
        if u < edges[0]:
            talk = None if self.talk_median is None else rng.lognormvariate(math.log(self.talk_median), 0.5)
            return "answer", Endpoint(answer_after=max(1.0, rng.lognormvariate(math.log(self.ring_median), 0.45)),
                                      greeting_seconds=rng.uniform(*self.greeting), talk_seconds=talk)
        if u < edges[1]:
            return "machine", Endpoint(answer_after=rng.uniform(*self.machine_ring), machine=True,
                                       greeting_seconds=rng.uniform(*self.machine_greeting), beep=True)
        if u < edges[2]:
            return "busy", Endpoint(busy=True, fail_after=rng.uniform(0.5, 3.0))
        if u < edges[3]:
            cause = rng.choices([c for c, _w in FAIL_CAUSES], [w for _c, w in FAIL_CAUSES])[0]
            return "failed", Endpoint(fail_cause=cause, fail_after=rng.uniform(0.3, 5.0))
        return "no_answer", Endpoint(answer_after=None)

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "answer": self.answer, "machine": self.machine, "busy": self.busy,
                "failed": self.failed, "ring_median": self.ring_median, "talk_median": self.talk_median}
