"""What one event-socket connection listens to: format, event list, CUSTOM subclasses, filters.

The state and replies of ``event``, ``nixevent``, ``noevents`` and ``filter``
as mod_event_socket keeps them per listener:

* ``event [plain|json|xml] NAME...``: the format word counts only first and
  is kept even when no name is known (then ``-ERR no keywords supplied``);
  names are any case (``switch_name_event``); after ``CUSTOM`` every word is
  a subclass, even one that looks like an event name; ``ALL`` means every
  event and every CUSTOM subclass;
* ``nixevent NAME...``: a known name switches listening on (as ``event``
  does); nixing one name while ``ALL`` is on turns ``ALL`` into "every
  other event"; after ``CUSTOM`` the words are subclasses to drop;
* ``noevents``: everything off, subclasses forgotten, the format kept;
* ``filter [add] HEADER VALUE`` / ``filter delete HEADER [VALUE]`` /
  ``filter delete all``, with the C code's replies (``[(null)]`` for a
  missing value, ``-ERR invalid syntax`` for a header alone).

Event names come from the simulator core; the sim's own CUSTOM ``sim::``
events follow the same rules as FreeSWITCH's.
"""

from __future__ import annotations

from typing import Any, Iterator

from freeswitch.sim.commands import name_event
from freeswitch.sim.core import EVENT_NAMES

FORMATS = ("plain", "json", "xml")


class Subscriptions:
    """One connection's event subscription state; the ``event``-family commands return reply texts."""

    def __init__(self) -> None:
        self.format = "plain"
        self.on = False  # LFLAG_EVENTS
        self.events: set[str] = set()
        self.all_events = False
        self.custom: set[str] = set()
        self.all_custom = False  # "event ALL" subscribed every subclass
        self.custom_nixed: set[str] = set()
        self.filters: list[tuple[str, str]] = []

    # -- commands ------------------------------------------------------------
    def event(self, tail: str) -> str:
        count = 0
        for kind, word in _keywords(tail, formats=True):
            if kind == "format":
                self.format = word
            elif kind == "subclass":
                if word:
                    self.custom.add(word)
                    self.custom_nixed.discard(word)
            else:
                count += 1
                if word == "ALL":
                    self.all_events = self.all_custom = True
                    self.events |= EVENT_NAMES - {"ALL"}
                    self.custom_nixed.clear()
                else:
                    self.events.add(word)
        if not count:
            return "-ERR no keywords supplied"
        self.on = True
        return f"+OK event listener enabled {self.format}"

    def nixevent(self, tail: str) -> str:
        count = 0
        for kind, word in _keywords(tail, formats=False):
            if kind == "subclass":
                self.custom.discard(word)
                self.custom_nixed.add(word)
                continue
            count += 1
            if word == "ALL":
                self.all_events = False
                self.events.clear()
            elif word != "CUSTOM":
                if self.all_events:
                    self.all_events = False
                    self.events |= EVENT_NAMES - {"ALL"}
                self.events.discard(word)
        if not count:
            return "-ERR no keywords supplied"
        self.on = True
        return "+OK events nixed"

    def noevents(self) -> str:
        if not self.on:
            return "-ERR not listening for events"
        self.on = self.all_events = self.all_custom = False
        self.events.clear()
        self.custom.clear()
        self.custom_nixed.clear()
        return "+OK no longer listening for events"

    def filter(self, tail: str) -> str:
        name, space, value = tail.lstrip(" ").partition(" ")
        if name.lower() == "delete" and space:
            name, space, value = value.partition(" ")
            wanted = value if space else None
            if name.lower() == "all":
                self.filters.clear()
            else:
                self.filters = [(h, v) for h, v in self.filters
                                if not (h.lower() == name.lower() and (wanted is None or v == wanted))]
            return f"+OK filter deleted. [{name}][{wanted or ''}]"
        if not space:
            return "-ERR invalid syntax"
        if name.lower() == "add":
            name, space, value = value.partition(" ")
            if not space:
                return f"+OK filter added. [{name}]=[(null)]"
        self.filters.append((name, value))
        return f"+OK filter added. [{name}]=[{value}]"

    def myevents(self, names: frozenset[str]) -> None:
        """``myevents``: the fixed list on, listening on (the format is the caller's business)."""
        self.events |= names
        self.on = True

    # -- delivery ------------------------------------------------------------
    def wants(self, event: Any) -> bool:
        """Would this listener be sent ``event`` (filters included)?"""
        if not self.on:
            return False
        if not self.all_events:
            name = event.name
            if name not in self.events:
                return False
            if name == "CUSTOM" and event.subclass and event.subclass not in self.custom and not (
                    self.all_custom and event.subclass not in self.custom_nixed):
                return False
        if self.filters:
            return any(event.get(h) == v for h, v in self.filters)
        return True


def _keywords(tail: str, formats: bool) -> Iterator[tuple[str, str]]:
    """The words after ``event``/``nixevent`` as the C loop reads them (from the first space on):
    ("format", f) for a first plain/json/xml word, ("event", NAME) for a known name, then after CUSTOM
    ("subclass", word) for every word; unknown names are skipped."""
    _, space, rest = tail.partition(" ")
    custom = False
    for index, word in enumerate(rest.split(" ") if space else []):
        if formats and index == 0 and word.lower() in FORMATS:
            yield "format", word.lower()
        elif custom:
            yield "subclass", word
        else:
            name = name_event(word, EVENT_NAMES)
            if name is not None:
                yield "event", name
                custom = custom or name == "CUSTOM"
