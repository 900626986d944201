"""Queues: configuration, the ordered line of waiting callers, and what a caller's stay ended with.

Order is by priority (higher first: VIP callers, due callbacks) then by a
sequence number given on entry, so equal-priority callers are served first
come, first served. A caller whose offer failed through no fault of their own
(the agent did not answer) goes back to the *head* of its priority band with
a sequence number below every other.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall

if TYPE_CHECKING:
    from acd.connect import CallerLeg

#: Priorities the IVR may pass (any int works; higher is served first).
PRIORITY_NORMAL = 0
PRIORITY_VIP = 10
PRIORITY_CALLBACK_DUE = 20


@dataclass(frozen=True, slots=True)
class Overflow:
    """What to do when a caller waited too long or the queue is full.

    ``kind``: ``queue`` (move to ``target``), ``widen`` (lower the skill
    minimums to ``widen``; a level 0 drops the skill), ``voicemail`` or
    ``callback`` (the IVR takes the caller back and does it).
    """

    kind: str
    target: str | None = None
    widen: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in ("queue", "widen", "voicemail", "callback"):
            raise ValueError(f"unknown overflow kind {self.kind!r}")
        if self.kind == "queue" and not self.target:
            raise ValueError("queue overflow needs a target queue")


@dataclass(slots=True)
class QueueConfig:
    """One queue's settings (loaded from crm_core's ``queues`` table or built in code)."""

    name: str
    strategy: str = "longest_idle"
    fallback_strategy: str = "skills_based"  # used by previous_agent
    previous_agent_days: int = 30
    previous_agent_wait: float = 20.0
    required_skills: dict[str, int] = field(default_factory=dict)
    wrapup_seconds: float = 10.0
    ring_timeout: float = 15.0
    sl_seconds: float = 20.0
    sl_percent: float = 80.0
    max_wait: float | None = None
    max_length: int | None = None
    overflow: Overflow | None = None
    announce_every: float | None = 30.0
    music_on_hold: str = "local_stream://moh"
    default_aht: float = 180.0
    db_id: int | None = None
    #: Offer a callback (virtual hold) when a caller's expected wait exceeds this many seconds; None: never.
    callback_after: float | None = None


@dataclass(frozen=True, slots=True)
class QueueOutcome:
    """How a caller's stay in the ACD ended; what ``Acd.enqueue`` fires with.

    ``kind``: ``served`` (talked to ``agent_id``; the call may still be up
    if the agent hung up first), ``abandoned`` (caller hung up while waiting
    or ringing), ``overflow`` (``overflow`` says what the IVR should do now:
    voicemail or callback), ``full`` (max length reached, no overflow set),
    ``failed`` (the ACD could not go on; the call is left to the IVR),
    ``callback`` (the caller chose a callback and keeps the place: confirm
    and hang up). Virtual callback entries end ``served``, ``callback_attempt``
    (the customer did not answer; ``hangup_cause`` says how) or ``claimed``.
    """

    kind: str
    queue: str
    agent_id: int | None = None
    wait_seconds: float = 0.0
    talk_seconds: float = 0.0
    overflow: Overflow | None = None
    hangup_cause: str | None = None
    decisions: tuple[dict[str, Any], ...] = ()
    expected_wait: float | None = None  # kind ``callback``: the wait the caller was told


@dataclass(eq=False)
class WaitingCaller:
    """A caller in the ACD, from enqueue until served, abandoned or overflowed."""

    uuid: str
    leg: "CallerLeg"
    queue: str
    skills: dict[str, int]
    priority: int
    entered_at: float
    seq: int
    customer_id: int | None = None
    customer: dict[str, Any] = field(default_factory=dict)
    ani: str = ""
    dnis: str = ""
    ivr_path: str | None = None
    queued_at: float = 0.0  # when it entered its current queue
    previous_agent_id: int | None = None
    lookup_pending: bool = False
    offering: int | None = None  # agent id being rung
    answered_at: float | None = None
    agent_id: int | None = None
    cancelled_offer: bool = False
    overflowed: bool = False
    done: bool = False
    language: str = "zh"
    callback_offered: bool = False
    callback: Any = None  # acd.callbacks.CallbackEntry of a virtual (callback) entry
    decisions: list[dict[str, Any]] = field(default_factory=list)
    outcome: defer.Deferred = field(default_factory=defer.Deferred)
    timers: dict[str, IDelayedCall] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, int]:
        return (-self.priority, self.seq)

    def cancel_timer(self, name: str) -> None:
        timer = self.timers.pop(name, None)
        if timer is not None and timer.active():
            timer.cancel()

    def cancel_timers(self) -> None:
        for name in list(self.timers):
            self.cancel_timer(name)


_sequence = itertools.count(1)
_front = itertools.count(-1, -1)


def next_seq() -> int:
    return next(_sequence)


class CallQueue:
    """The ordered line of one queue's waiting callers (offered callers stay in line until answered)."""

    def __init__(self, config: QueueConfig) -> None:
        self.config = config
        self._keys: list[tuple[int, int, str]] = []
        self._callers: dict[str, WaitingCaller] = {}

    def __len__(self) -> int:
        return len(self._callers)

    def __contains__(self, uuid: str) -> bool:
        return uuid in self._callers

    def __iter__(self) -> Iterator[WaitingCaller]:
        """Callers in service order."""
        return (self._callers[uuid] for _p, _s, uuid in list(self._keys))

    def iter_unsafe(self) -> Iterator[WaitingCaller]:
        """Callers in service order without copying; the line must not change while iterating."""
        callers = self._callers
        return (callers[uuid] for _p, _s, uuid in self._keys)

    def add(self, caller: WaitingCaller) -> None:
        self._callers[caller.uuid] = caller
        bisect.insort(self._keys, (*caller.key, caller.uuid))

    def remove(self, caller: WaitingCaller) -> bool:
        if self._callers.pop(caller.uuid, None) is None:
            return False
        i = bisect.bisect_left(self._keys, (*caller.key, caller.uuid))
        if i < len(self._keys) and self._keys[i][2] == caller.uuid:
            del self._keys[i]
        else:  # key changed behind our back: fall back to a scan
            self._keys = [k for k in self._keys if k[2] != caller.uuid]
        return True

    def to_front(self, caller: WaitingCaller) -> None:
        """Put ``caller`` ahead of everyone of its priority (after a failed offer)."""
        self.remove(caller)
        caller.seq = next(_front)
        self.add(caller)

    def position(self, caller: WaitingCaller) -> int:
        """1-based position in line (0 if not here)."""
        if caller.uuid not in self._callers:
            return 0
        return bisect.bisect_left(self._keys, (*caller.key, caller.uuid)) + 1

    def longest_wait(self, now: float) -> float:
        return max((now - c.entered_at for c in self._callers.values() if c.answered_at is None), default=0.0)

    def waiting_count(self) -> int:
        return sum(1 for c in self._callers.values() if c.answered_at is None)
