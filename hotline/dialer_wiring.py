"""The outbound dialer in the engine: built on the engine's switch client, database gateway, ACD and recorder.

* the :class:`~acd.dialer.dialer.Dialer` dials through the engine's inbound
  ``Switch``, records through the engine's one database gateway
  (:class:`hotline.db_gateway.ThreadPoolGateway`, shared with the IVR and
  the ACD) and reports every campaign leg's CDR to the engine's
  :class:`~hotline.recorder.CallRecorder`;
* its agents are the ACD's (:class:`acd.campaign_agents.AcdCampaignAgents`:
  the agents logged into the campaign's queue, blended by the campaign's
  rule); the preview desk (:class:`acd.dialer.preview.PreviewDesk`) holds
  contacts for agents who dial them;
* the CallServer's router hands answered campaign legs
  (``hotline_attempt_id``) to :meth:`Dialer.handle_call`;
* it starts once the switch connection is up (recovering what a previous
  engine left first) and stops first when the engine stops (no new calls;
  calls in flight end as they do, or are recovered by the next engine);
* every ``dialer.status_seconds`` its live figures go to ``dialer_status``
  for the CLI and the admin UI (:class:`StatusWriter`).

Engine services (``engine.dialer``, ``engine.preview``; the admin bridge's
``service("dialer")`` / ``service("preview")``).

``script`` is automated campaigns' IVR-script runner
(``AutomatedScript``: ``run(call, attempt) -> Deferred[ScriptResult]``;
``hotline.wiring.campaign_script`` builds the IVR's
:class:`~ivr.campaign.runner.CampaignScriptRunner`).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from twisted.internet import defer
from twisted.internet.task import LoopingCall

log = logging.getLogger(__name__)
UTC = dt.timezone.utc


class StatusWriter:
    """Stores the dialer's live figures in ``dialer_status`` every ``interval`` seconds (and clears them at stop)."""

    def __init__(self, dialer: Any, gateway: Any, clock: Any, interval: float = 3.0) -> None:
        self.dialer = dialer
        self.gateway = gateway
        self.clock = clock
        self.interval = interval
        self._loop: LoopingCall | None = None
        self._writing = False

    def start(self) -> None:
        self._loop = LoopingCall(self.write)
        self._loop.clock = self.clock
        self._loop.start(self.interval, now=True)

    def write(self) -> defer.Deferred | None:
        """One write of every campaign's figures (skipped while the last one still runs)."""
        from crm_core.services.dialer_status import write_dialer_status

        if self._writing:
            return None
        self._writing = True
        figures = self.dialer.statuses()
        engine_id, at = self.dialer.config.engine_id, dt.datetime.fromtimestamp(self.clock.seconds(), UTC)
        d = self.gateway.run(lambda s: write_dialer_status(s, engine_id, figures, at=at))
        d.addErrback(lambda f: log.warning("dialer status not stored: %s", f.getErrorMessage()))
        d.addBoth(self._written)
        return d

    def _written(self, result: Any) -> Any:
        self._writing = False
        return result

    def stop(self) -> defer.Deferred:
        from crm_core.services.dialer_status import clear_dialer_status

        if self._loop is not None and self._loop.running:
            self._loop.stop()
        engine_id = self.dialer.config.engine_id
        return self.gateway.run(lambda s: clear_dialer_status(s, engine_id))


@dataclass
class DialerService:
    """The dialer, its ACD agents, the preview desk and the status writer of one engine."""

    dialer: Any
    agents: Any
    preview: Any
    status: StatusWriter
    started: Any = None  # Deferred: recovery done and ticking
    stops: list[Callable[[], Any]] = field(default_factory=list)

    def handle_call(self, call: Any) -> Any:
        """The CallServer handler of answered campaign legs."""
        return self.dialer.handle_call(call)

    def stop(self) -> defer.Deferred:
        """No new calls, held preview contacts back, live rows cleared."""
        self.dialer.stop()
        steps = [self.preview.stop(), self.status.stop()]
        return defer.DeferredList(steps, consumeErrors=True)


def dialer_config(engine: Any) -> Any:
    """The :class:`DialerConfig` from the ``[dialer]`` settings."""
    from acd.dialer.dialer import DialerConfig

    d = engine.settings.dialer
    return DialerConfig(engine_id=d.resolved_engine_id(), dial_string=d.dial_string, tick_seconds=d.tick_seconds,
                        max_lines=d.max_lines or None, amd_available=d.amd_available,
                        identification_file=d.identification_file, caller_id_name=d.caller_id_name)


def build_dialer(engine: Any, acd_service: Any, gateway: Any, recorder: Any, script: Any = None) -> DialerService | None:
    """The engine's dialer (None when ``dialer.enabled`` is off); it starts once the engine has started and the
    switch answered. ``script``: the IVR-script runner of automated campaigns (None: voice files only)."""
    settings, reactor = engine.settings, engine.reactor
    if not settings.dialer.enabled:
        log.info("dialer disabled (dialer.enabled = false): campaigns are not dialled by this engine")
        return None
    from acd.campaign_agents import AcdCampaignAgents
    from acd.dialer.dialer import Dialer
    from acd.dialer.preview import PreviewDesk

    agents = AcdCampaignAgents(acd_service.acd, reactor, lambda: engine.switch)
    dialer = Dialer(reactor, _LateSwitch(engine), gateway, agents, dialer_config(engine), script=script,
                    reporter=recorder)
    agents.settings = dialer.settings_of
    preview = PreviewDesk(reactor, gateway, dialer, agents, release_after=settings.dialer.preview_release_minutes * 60)
    service = DialerService(dialer, agents, preview,
                            StatusWriter(dialer, gateway, reactor, interval=settings.dialer.status_seconds))

    def started(engine: Any) -> None:
        if engine.simulator is not None:  # the campaign context of dialplans/campaign, as the real switch has it
            from hotline.sim_dialplan import install_campaign, install_demo_callees

            install_campaign(engine.simulator)
            install_demo_callees(engine.simulator)  # the demo campaign's contacts answer and key their replies

        async def run() -> None:
            await engine.switch.when_connected()
            await dialer.start()
            service.status.start()
            log.info("dialer %s running", dialer.config.engine_id)

        service.started = defer.ensureDeferred(run())
        service.started.addErrback(lambda f: log.error("dialer did not start: %s", f.getTraceback()))

    engine.on_started.append(started)
    engine.before_stop.append(lambda _engine: ([], service.stop()))  # first: no new calls while stopping
    engine.dialer = dialer
    engine.preview = preview
    return service


class _LateSwitch:
    """The engine's Switch client, which exists only once the engine starts (after the application is built)."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    def __getattr__(self, name: str) -> Any:
        switch = self._engine.switch
        if switch is None:
            raise AttributeError(f"the engine's switch client is not built yet ({name})")
        return getattr(switch, name)
