"""Queues: configuration, the ordered line of waiting callers, and what a caller's stay ended with.

Order is by priority (higher first: VIP callers, due callbacks) then by a
sequence number given on entry, so equal-priority callers are served first
come, first served. A caller whose offer failed through no fault of their own
(the agent did not answer) goes back to the *head* of its priority band with
a sequence number below every other.

The routing index: besides the whole line, a :class:`CallQueue` keeps the
callers that may be offered now (not ringing, not answered, not done, no
previous-agent lookup pending) in *lines by requirement*: one ordered list per
distinct set of required skills (its *signature*), each signature filed under
one skill it requires at a level > 0 (its *key skill*). A freed agent finds
the lines it qualifies for through the skills it holds
(:meth:`CallQueue.eligible_lines`), so the router looks at a handful of line
heads instead of scanning the whole queue. The index follows the callers by
itself: :class:`WaitingCaller` tells its queue when a field the index depends
on changes (``offering``, ``answered_at``, ``done``, ``lookup_pending``,
``priority``, ``seq``, ``previous_agent_id``, ``skills`` -- including an
in-place change of the skills dict, as a "widen" overflow does).
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


#: WaitingCaller fields the routing index depends on (a change re-files the caller).
_INDEXED_FIELDS = frozenset({"offering", "answered_at", "done", "lookup_pending", "priority", "seq",
                             "previous_agent_id", "skills"})


class CallerSkills(dict):
    """A caller's required skills: a plain dict that tells the caller's queue when it is changed in place."""

    __slots__ = ("_owner",)

    def __init__(self, items: Any = (), owner: "WaitingCaller | None" = None) -> None:
        super().__init__(items)
        self._owner = owner

    def _changed(self) -> None:
        owner = self._owner
        if owner is not None:
            line = owner.__dict__.get("_line")
            if line is not None:
                line._reindex(owner)

    def __setitem__(self, key: str, value: int) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._changed()

    def pop(self, *args: Any) -> Any:
        value = super().pop(*args)
        self._changed()
        return value

    def popitem(self) -> Any:
        item = super().popitem()
        self._changed()
        return item

    def clear(self) -> None:
        super().clear()
        self._changed()

    def update(self, *args: Any, **kw: Any) -> None:
        super().update(*args, **kw)
        self._changed()

    def setdefault(self, key: str, default: Any = None) -> Any:
        value = super().setdefault(key, default)
        self._changed()
        return value

    def __ior__(self, other: Any) -> "CallerSkills":
        super().update(other)
        self._changed()
        return self

    def __reduce__(self) -> Any:  # copies and pickles are plain dicts
        return (dict, (dict(self),))


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
    #: what kind of work the call is for its agent: "inbound", or "campaign" (an answered outbound campaign call,
    #: acd/campaign_agents.py) -- the agent's ringing/on-call/wrap-up states carry it as their reason
    kind: str = "inbound"
    decisions: list[dict[str, Any]] = field(default_factory=list)
    outcome: defer.Deferred = field(default_factory=defer.Deferred)
    timers: dict[str, IDelayedCall] = field(default_factory=dict)
    #: the CallQueue whose line holds this caller (kept by CallQueue.add/remove; the routing index's hook)
    _line: "CallQueue | None" = field(default=None, init=False, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "skills" and not (isinstance(value, CallerSkills) and value._owner is self):
            value = CallerSkills(value, self)
        object.__setattr__(self, name, value)
        if name in _INDEXED_FIELDS:
            line = self.__dict__.get("_line")
            if line is not None:
                line._reindex(self)

    @property
    def indexable(self) -> bool:
        """May be offered now, as far as the ACD's own state says (the leg may still have gone)."""
        return self.offering is None and self.answered_at is None and not self.done and not self.lookup_pending

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


#: A requirement signature: sorted (skill, minimum level) pairs.
Signature = tuple[tuple[str, int], ...]


def signature_of(skills: dict[str, int]) -> Signature:
    return tuple(sorted(skills.items()))


def _key_skill(signature: Signature) -> str | None:
    """The skill a signature is filed under: its first skill required at a level > 0 (None: any agent may qualify)."""
    for name, level in signature:
        if level > 0:
            return name
    return None


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
        # the routing index (see the module docstring): offerable callers by requirement signature
        self._lines: dict[Signature, list[tuple[int, int, str]]] = {}
        self._by_skill: dict[str | None, dict[Signature, list[tuple[int, int, str]]]] = {}
        self._by_previous: dict[int, list[tuple[int, int, str]]] = {}
        self._filed: dict[str, tuple[Signature, tuple[int, int, str], int | None]] = {}
        self._answered: set[str] = set()  # callers in line already answered (waiting_count in O(1))
        self._placed: dict[str, tuple[int, int, str]] = {}  # uuid -> its key in ``_keys``

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
        if caller.uuid in self._callers:
            self.remove(self._callers[caller.uuid])
        self._callers[caller.uuid] = caller
        caller._line = self
        self._reindex(caller)

    def remove(self, caller: WaitingCaller) -> bool:
        existing = self._callers.pop(caller.uuid, None)
        if existing is None:
            return False
        if existing._line is self:
            existing._line = None
        self._reindex(existing)
        return True

    # -- the routing index ------------------------------------------------------------------------

    def _reindex(self, caller: WaitingCaller) -> None:
        """File ``caller`` again after a change (or take it out when it left or may not be offered)."""
        uuid = caller.uuid
        here = self._callers.get(uuid) is caller
        placed = self._placed.get(uuid)
        key = (-caller.priority, caller.seq, uuid)
        if placed != (key if here else None):  # the whole line: (re)place on entry, exit or a new priority/seq
            if placed is not None:
                del self._keys[bisect.bisect_left(self._keys, placed)]
                del self._placed[uuid]
            if here:
                bisect.insort(self._keys, key)
                self._placed[uuid] = key
        if caller.answered_at is not None and here:
            self._answered.add(uuid)
        else:
            self._answered.discard(uuid)
        old = self._filed.pop(uuid, None)
        if old is not None:
            signature, old_key, previous = old
            line = self._lines[signature]
            del line[bisect.bisect_left(line, old_key)]
            if not line:
                del self._lines[signature]
                by_skill = self._by_skill[_key_skill(signature)]
                del by_skill[signature]
                if not by_skill:
                    del self._by_skill[_key_skill(signature)]
            if previous is not None:
                waiting = self._by_previous[previous]
                del waiting[bisect.bisect_left(waiting, old_key)]
                if not waiting:
                    del self._by_previous[previous]
        if not here or not caller.indexable:
            return
        signature = signature_of(caller.skills)
        line = self._lines.get(signature)
        if line is None:
            line = self._lines[signature] = []
            self._by_skill.setdefault(_key_skill(signature), {})[signature] = line
        bisect.insort(line, key)
        previous = caller.previous_agent_id
        if previous is not None:
            bisect.insort(self._by_previous.setdefault(previous, []), key)
        self._filed[uuid] = (signature, key, previous)

    def eligible_lines(self, agent: Any) -> list[list[tuple[int, int, str]]]:
        """The lines (each in service order, offerable callers only) whose requirements ``agent`` meets.

        Only signatures filed under a skill the agent holds (or under none) are
        looked at: ~O(#signatures sharing the agent's skills), not O(callers).
        """
        held = agent.skills
        out = []
        for key_skill in (None, *held):
            group = self._by_skill.get(key_skill)
            if group:
                for signature, line in group.items():
                    if all(held.get(name, 0) >= level for name, level in signature):
                        out.append(line)
        return out

    def waiting_for(self, agent_id: int) -> list[tuple[int, int, str]]:
        """Keys (service order) of offerable callers whose previous agent is ``agent_id``."""
        return self._by_previous.get(agent_id, [])

    def caller(self, uuid: str) -> WaitingCaller:
        return self._callers[uuid]

    def index_problems(self) -> list[str]:
        """Differences between the routing index and a rebuild from the line (empty when consistent)."""
        want: dict[Signature, list] = {}
        want_prev: dict[int, list] = {}
        for _p, _s, uuid in self._keys:
            c = self._callers[uuid]
            if c.indexable:
                key = (-c.priority, c.seq, uuid)
                want.setdefault(signature_of(c.skills), []).append(key)
                if c.previous_agent_id is not None:
                    want_prev.setdefault(c.previous_agent_id, []).append(key)
        problems = []
        if self._keys != sorted((-c.priority, c.seq, u) for u, c in self._callers.items()):
            problems.append("the line's order does not follow the callers' keys")
        answered = {uuid for uuid, c in self._callers.items() if c.answered_at is not None}
        if answered != self._answered:
            problems.append(f"answered: index {sorted(self._answered)} != line {sorted(answered)}")
        for name, have, expected in (("lines", self._lines, want), ("previous", self._by_previous, want_prev)):
            expected = {k: sorted(v) for k, v in expected.items()}
            if have != expected:
                problems.append(f"{name}: index {have!r} != line {expected!r}")
        filed = {s: line for group in self._by_skill.values() for s, line in group.items()}
        if filed != self._lines or any(_key_skill(s) != k for k, g in self._by_skill.items() for s in g):
            problems.append("by_skill does not mirror lines")
        if set(self._filed) != {k[2] for line in self._lines.values() for k in line}:
            problems.append("filed callers differ from lines")
        return problems

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
        """Callers not yet answered (an answered caller leaves the line at once; O(1))."""
        return len(self._callers) - len(self._answered)
