"""Which agent phones have a live call right now, from the switch's own channel events.

An agent's ACD state says whether the agent *wants* calls; it does not say
whether the phone on the desk is free. A phone can be busy while its agent is
available: the feature-code call that just made the agent ready is still up
while its confirmation plays, an agent dials a colleague, a consultation
leg rings. Offering a queued caller then rings a phone that answers busy
(or call-waits into a conversation). So the router asks :class:`PhoneLines`
before offering: a phone with any live channel is skipped, and when its last
channel hangs up, the agent's queues are routed again.

Channels are told apart by name: sofia names a phone's calls
``sofia/<profile>/<user>@host`` (calls from it) or
``sofia/<profile>/<user>@host:port`` (calls to it); only the profiles of the
agent phones count (``agents`` on a real switch, ``sim`` in the simulator),
so a customer calling from a number that looks like an extension does not.
The reconciler's periodic channel list prunes channels whose hang-up was
missed (a lost event connection).
"""

from __future__ import annotations

import logging
import re
from typing import Any, Callable, Iterable

log = logging.getLogger(__name__)

_NAME = re.compile(r"^sofia/([^/]+)/(?:sips?:)?([^@/;:]+)@")
CREATED = "CHANNEL_CREATE"
GONE = ("CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY")


def phone_of(channel_name: str, profiles: Iterable[str]) -> str | None:
    """The user part (extension) of a channel on one of ``profiles``, else None."""
    match = _NAME.match(channel_name or "")
    if match is None or match.group(1) not in profiles:
        return None
    return match.group(2)


class PhoneLines:
    """Live channels per phone extension; ``busy(extension)``, and listeners told when a phone frees up."""

    def __init__(self, profiles: Iterable[str] = ("agents",)) -> None:
        self.profiles = frozenset(profiles)
        self._channels: dict[str, str] = {}  # channel uuid -> extension
        self._counts: dict[str, int] = {}
        self._freed: list[Callable[[str], Any]] = []

    def busy(self, extension: str) -> bool:
        """True while the phone on ``extension`` has a live channel."""
        return self._counts.get(extension, 0) > 0

    def busy_agent(self, agent: Any) -> bool:
        """The router's check: is this agent's phone busy?"""
        return self.busy(agent.extension)

    def on_free(self, listener: Callable[[str], Any]) -> None:
        """Call ``listener(extension)`` when a phone's last live channel is gone."""
        self._freed.append(listener)

    def on_event(self, event: Any) -> None:
        """Feed a switch event (CHANNEL_CREATE, CHANNEL_HANGUP_COMPLETE, CHANNEL_DESTROY; others ignored)."""
        name = event.name
        uuid = event.get("Unique-ID") or ""
        if not uuid:
            return
        if name == CREATED:
            extension = phone_of(event.get("Channel-Name") or "", self.profiles)
            if extension is not None and uuid not in self._channels:
                self._channels[uuid] = extension
                self._counts[extension] = self._counts.get(extension, 0) + 1
        elif name in GONE:
            self._drop(uuid)

    def prune(self, live: set[str]) -> None:
        """Forget channels the switch no longer has (the reconciler's channel list; a missed hang-up)."""
        for uuid in [u for u in self._channels if u not in live]:
            log.info("phone channel %s is gone without a hang-up event", uuid)
            self._drop(uuid)

    def _drop(self, uuid: str) -> None:
        extension = self._channels.pop(uuid, None)
        if extension is None:
            return
        left = self._counts.get(extension, 1) - 1
        if left > 0:
            self._counts[extension] = left
            return
        self._counts.pop(extension, None)
        for listener in list(self._freed):
            try:
                listener(extension)
            except Exception:
                log.exception("phone-free listener failed for %s", extension)


def attach(acd: Any, lines: PhoneLines) -> PhoneLines:
    """Keep ``acd``'s router off busy phones and route an available agent's queues when its phone frees up."""
    acd.router.phone_busy = lines.busy_agent

    def freed(extension: str) -> None:
        for agent in list(acd.board.all()):
            if agent.extension == extension and agent.state.value == "available":
                for queue in sorted(agent.queues):
                    acd.route(queue)

    lines.on_free(freed)
    return lines
