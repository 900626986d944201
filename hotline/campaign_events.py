"""The campaign console's live figures: every ``interval`` seconds, each followed campaign on SSE ``campaign:<id>``.

For every running or paused campaign the publisher reads the database
figures (``crm_core.services.campaign_progress``) through the engine's DB
gateway -- on its pool, never on the reactor thread -- and, back on the
reactor, merges the dialer's live figures (``live_status(campaign_id)``:
calls in flight and ringing, the pacer's last decision and target, the
abandon rate it holds, free agents; ``acd.dialer.Dialer.status``) under
``live``. A campaign that leaves running/paused (stopped, completed) gets
one last push so an open console sees its final status. A slow database
never piles reads up: a tick that finds the previous read still running
is skipped, and so is a tick while no console follows any campaign (the
hub has no open stream on a ``campaign:`` topic) -- a console that opens
renders its first figures itself and gets the next push within one interval.

The console page (``admin/views/campaign_console.py``) also asks
:meth:`CampaignEvents.live` through the engine bridge for its first render
and its JSON fallback; the bridge finds this object as the engine's
``campaign_events`` service (set by :func:`attach`).
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from twisted.internet import defer
from twisted.internet.task import LoopingCall

log = logging.getLogger(__name__)

#: The SSE event name of one campaign's figures.
EVENT = "figures"


#: What every campaign console's topic starts with.
TOPIC_PREFIX = "campaign:"


def campaign_topic(campaign_id: int) -> str:
    """The EventHub topic of one campaign's console."""
    return f"{TOPIC_PREFIX}{campaign_id}"


def read_figures(session: Any, also: frozenset[int] = frozenset()) -> list[dict[str, Any]]:
    """Database figures of the running/paused campaigns and of ``also`` (the ones followed until now)."""
    from crm_core.services.campaign_progress import campaign_progress, followed_campaigns
    from crm_core.services.campaigns import UnknownCampaign

    out = []
    for campaign_id in sorted(set(followed_campaigns(session)) | set(also)):
        try:
            out.append(campaign_progress(session, campaign_id))
        except UnknownCampaign:  # deleted since the last tick
            continue
    return out


class CampaignEvents:
    """Publishes the figures of each followed campaign on ``campaign:<id>`` every ``interval`` seconds."""

    def __init__(self, hub: Any, live_status: Callable[[int], dict[str, Any] | None] | None, gateway: Any,
                 clock: Any, interval: float = 2.0,
                 reader: Callable[[Any, frozenset[int]], list[dict[str, Any]]] = read_figures) -> None:
        self.hub = hub
        self.live_status = live_status
        self.gateway = gateway
        self.clock = clock
        self.interval = interval
        self.reader = reader
        self.published = 0
        self.skipped = 0
        self.following: frozenset[int] = frozenset()
        self._loop: LoopingCall | None = None
        self._reading: defer.Deferred | None = None

    def start(self) -> "CampaignEvents":
        self._loop = LoopingCall(self.tick)
        self._loop.clock = self.clock
        self._loop.start(self.interval, now=True).addErrback(
            lambda f: log.error("campaign figures publisher stopped: %s", f.getErrorMessage()))
        return self

    def stop(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()

    @property
    def running(self) -> bool:
        return self._loop is not None and self._loop.running

    def live(self, campaign_id: int) -> dict[str, Any] | None:
        """The dialer's live figures of a campaign (reactor thread); None when there is no dialer or it failed."""
        if self.live_status is None:
            return None
        try:
            status = self.live_status(campaign_id)
        except Exception:
            log.exception("live status of campaign %s failed", campaign_id)
            return None
        return dict(status) if status is not None else None

    def tick(self) -> defer.Deferred | None:
        """One round: read on the DB pool, then publish on the reactor. Skipped while a read is still out, and
        while nobody follows a campaign (``following`` is kept, so a campaign that stopped meanwhile still gets
        its last push once somebody looks)."""
        if self._reading is not None or not self.hub.watching(TOPIC_PREFIX):
            self.skipped += 1
            return None
        also = self.following
        d = self.gateway.run(lambda session: self.reader(session, also))
        self._reading = d
        d.addCallbacks(self._publish, self._failed)
        d.addBoth(self._done)
        return d

    def _done(self, result: Any) -> Any:
        self._reading = None
        return result

    def _failed(self, failure: Any) -> None:
        log.error("campaign figures: database read failed: %s", failure.getErrorMessage())

    def _publish(self, rows: list[dict[str, Any]]) -> None:
        at = self.clock.seconds()
        followed = set()
        for figures in rows:
            campaign_id = figures["campaign_id"]
            if figures.get("status") in ("running", "paused"):
                followed.add(campaign_id)
            document = {**figures, "live": self.live(campaign_id), "at": at}
            self.hub.publish(campaign_topic(campaign_id), EVENT, document)
            self.published += 1
        self.following = frozenset(followed)


def attach(engine: Any, dialer: Any, gateway: Any, clock: Any = None,
           interval: float = 2.0) -> CampaignEvents | None:
    """Build the publisher for ``engine`` (its EventHub ``events``) from ``dialer`` (``status(campaign_id)``;
    None: database figures only) and the engine's DB ``gateway``; started once the engine has started,
    stopped when it stops; reachable by the admin views as the engine service ``campaign_events``."""
    hub = getattr(engine, "events", None)
    if hub is None:
        return None
    status = getattr(dialer, "status", None) if dialer is not None else None
    events = CampaignEvents(hub, status, gateway, clock or engine.reactor, interval=interval)
    engine.campaign_events = events

    def start(_engine: Any) -> None:
        events.start()

    def stop(_engine: Any) -> tuple[list[str], defer.Deferred]:
        events.stop()
        return [], defer.succeed(None)

    if getattr(engine, "call_server", None) is not None:
        events.start()  # attached once the engine's parts run (from an on_started hook, or later)
    else:
        engine.on_started.append(start)  # attached while the application is built
    engine.before_stop.append(stop)
    return events


__all__ = ["EVENT", "TOPIC_PREFIX", "CampaignEvents", "attach", "campaign_topic", "read_figures"]
