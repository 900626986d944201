"""Which application answers the calls the CallServer accepts, and what it is built from.

Kept apart from :mod:`hotline.engine` so the engine stays a list of parts and
this module the one place that decides what a call runs:

* answered campaign legs (``hotline_attempt_id``, context ``campaign``) go
  to the outbound dialer (:mod:`hotline.dialer_wiring`), which blends them
  through the ACD;
* calls with ``hotline_feature`` (agent feature codes ``*61``..``*64``) go to
  the ACD's :class:`~acd.features.FeatureHandler`;
* customer legs the ACD dialled for a callback (``hotline_callback_uuid``)
  go back to the ACD's callback dialer;
* everything else runs the IVR, whose agent hand-off is the ACD
  (:class:`hotline.handoff.AcdHandoff`).

The engine has one database gateway (:class:`hotline.db_gateway.ThreadPoolGateway`,
``db.pool_size`` threads) shared by the IVR's ``CrmGateway`` and the ACD's
record (agent state log, CDRs, previous-agent history, callback requests);
queues and agents are loaded from the database at start
(before the reactor serves any call), agent states are recovered from the
state log, reconciliation against ``show channels`` runs periodically, and
``/metrics`` is mounted beside the admin UI. In demo mode (``switch.mode ==
"sim"``) the demo agents' phones are registered with the simulator and the
agents logged into the queues they qualify for, so pressing 0 reaches a
ringing phone that answers after a few seconds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from twisted.internet import defer

log = logging.getLogger(__name__)

#: Demo agent phones: answer after this many seconds, talk this long.
DEMO_ANSWER_AFTER = 3.0
DEMO_TALK_SECONDS = 20.0


@dataclass
class AcdService:
    """The ACD and what keeps it running (reconciler, feeds); ``stop()`` at shutdown."""

    acd: Any
    gateway: Any
    recorder: Any = None  # the call recorder (hotline/recorder.py): every call's CDR
    reconciler: Any = None
    recovery: Any = None  # Deferred of acd.resume.Recovery, once the switch answered after start
    features: Any = None
    handoff: Any = None
    phones: Any = None  # acd.phones.PhoneLines: which agent phones have a live call
    stops: list[Callable[[], Any]] = field(default_factory=list)

    def metrics_text(self) -> str:
        """The ``/metrics`` body (Prometheus text 0.0.4)."""
        from acd.metrics import render

        return render(self.acd.snapshots())

    def stop(self) -> None:
        if self.reconciler is not None:
            self.reconciler.stop()
        for stop in self.stops:
            try:
                stop()
            except Exception:
                log.exception("ACD stop step failed")


def metrics_resource(metrics_text: Callable[[], str]) -> Any:
    """A twisted.web Resource serving ``metrics_text()`` (mount as ``/metrics``)."""
    from twisted.web.resource import Resource

    from acd.metrics import CONTENT_TYPE

    class MetricsResource(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            request.setHeader(b"content-type", CONTENT_TYPE.encode())
            return metrics_text().encode("utf-8")

    return MetricsResource()


def build_acd(engine: Any, gateway: Any, prompts: Any = None, recorder: Any = None) -> AcdService:
    """The ACD on the engine's database gateway, reporting to the call recorder, loaded, recovered and (once the
    engine started) reconciling."""
    from acd import Acd
    from acd.callbacks import CallbackDialer, CallbackPolicy
    from acd.reconcile import Reconciler, recover
    from acd.store import DbCallbacks, DbHistory, DbStateLog, configure, last_states, load_agents, load_queue_configs
    from crm_core.db import transaction
    from hotline.recorder import CallRecorder

    settings, reactor = engine.settings, engine.reactor
    policy = CallbackPolicy(dial_template=settings.acd.callback_dial_template)
    recorder = recorder or CallRecorder(gateway, reactor)
    acd = Acd(reactor, state_log=DbStateLog(gateway), cdr=recorder, history=DbHistory(gateway),
              callback_store=DbCallbacks(gateway, region=settings.crm.default_region), callback_policy=policy,
              utc_offset=settings.center.utc_offset_minutes() * 60)
    # start-up only, before any call: one synchronous read of the configuration and the state log
    with transaction(engine.sessions) as session:
        queues = load_queue_configs(session, callback_after=settings.acd.callback_after or None,
                                    announce_every=settings.acd.announce_every or None)
        agents = load_agents(session)
        changes = last_states(session)
    configure(acd, queues, agents)
    recover(acd, changes, [])  # no switch yet: ringing/on-call agents come back available; the reconciler checks
    service = AcdService(acd, gateway, recorder=recorder)
    acd.callbacks.switch = lambda: engine.switch
    acd.callbacks.dialer = CallbackDialer(
        lambda: engine.switch, lambda: f"{settings.callserver.host}:{engine.ports['callserver']}", reactor, policy)
    if prompts is not None:  # what waiting callers hear, in their language, from the prompt catalogue
        from hotline.handoff import queue_announcer

        acd.announcer = queue_announcer(prompts)
        acd.callbacks.prompt = lambda caller, ewt: prompts.files("callback_offer", caller.language or "zh")
    service.reconciler = Reconciler(acd, lambda: engine.switch.show_channels(), reactor, interval=30.0)
    engine.web_resources[b"metrics"] = metrics_resource(service.metrics_text)
    from hotline.desk_events import attach as attach_desk_events

    attach_desk_events(engine, service)  # screen pops and agent states -> SSE topics desk:<agent_id>

    service.reconciler.watchers.append(acd.resumer.watch)
    from acd.phones import PhoneLines, attach as attach_phones

    # never offer a caller to an agent whose phone has a live call (agent phones: profile "agents"; "sim" in demo)
    service.phones = attach_phones(acd, PhoneLines(("sim",) if settings.switch.mode == "sim" else ("agents",)))
    service.reconciler.watchers.append(service.phones.prune)
    service.reconciler.watchers.append(recorder.watch)

    def started(engine: Any) -> None:
        for name in ("CHANNEL_CREATE", "CHANNEL_HANGUP_COMPLETE"):
            engine.switch.subscribe(name, service.phones.on_event)
        service.reconciler.start(now=False)
        resume_after_restart(engine, service, recorder)
        if engine.events is not None:  # the wallboard: ACD snapshots pushed on SSE topic "wallboard" every 2 s
            from admin.reports.live import WallboardFeed

            feed = WallboardFeed(acd, engine.events, reactor, timezone=settings.center.timezone)
            feed.start()
            service.stops.append(feed.stop)
        if settings.switch.mode == "sim" and engine.simulator is not None:
            demo_agents(engine, acd)

    engine.on_started.append(started)
    engine.before_stop.append(lambda _engine: acd.resumer.release_all())  # waiting callers wait for the next engine
    log.info("ACD: %d queues, %d agents loaded", len(acd.queues), len(agents))
    return service


def resume_after_restart(engine: Any, service: AcdService, recorder: Any = None) -> Any:
    """Once the switch answers: callers and callbacks the last engine left behind go back in line
    (acd/resume.py), and the call records it left open are closed or followed to their end (the recorder)."""
    from acd.resume import LOOKBACK, OpenCall
    from acd.store import epoch, open_callbacks, ts
    from crm_core.services.calls import close_stale_calls, unfinished_calls

    acd = service.acd

    def read(session: Any) -> tuple[list, list]:
        now = ts(acd.clock.seconds())
        close_stale_calls(session, before=now - LOOKBACK, at=now)  # no engine remembers calls that old
        return unfinished_calls(session, now - LOOKBACK), open_callbacks(session)

    async def run() -> Any:
        await engine.switch.when_connected()
        rows, callbacks = await service.gateway.run(read)
        queued = [OpenCall(r.uuid, r.queue, epoch(r.entered_at), r.answered, r.agent_id) for r in rows
                  if r.queued and r.direction == "inbound"]
        recovery = await acd.resumer.recover(engine.switch, queued, callbacks)
        if recorder is not None:
            ours = {c.uuid for c in queued}
            await recorder.recover(engine.switch, [r.uuid for r in rows if r.uuid not in ours])
        return recovery

    d = defer.ensureDeferred(run())
    d.addErrback(lambda f: log.error("restart recovery failed: %s", f.getTraceback()))
    service.recovery = d
    return d


def demo_agents(engine: Any, acd: Any, answer_after: float = DEMO_ANSWER_AFTER,
                talk_seconds: float = DEMO_TALK_SECONDS) -> list[int]:
    """Demo mode: register every agent's simulated phone and log logged-out agents into their queues."""
    from acd.agents import AgentState

    logged = []
    for agent in list(acd.board.all()):
        engine.simulator.directory.register(agent.extension, answer_after=answer_after, talk_seconds=talk_seconds)
        if agent.state is AgentState.LOGGED_OUT:
            queues = [name for name, cq in acd.queues.items() if agent.qualifies(cq.config.required_skills)]
            if queues:
                acd.login(agent.id, queues)
                logged.append(agent.id)
    log.info("demo: %d agent phones registered, %d agents logged in", len(list(acd.board.all())), len(logged))
    return logged


def build_call_handler(engine: Any) -> Callable[[Any], Any]:
    """The call handler for this engine: feature codes, callback legs, else the IVR handing off to the ACD."""
    from acd.features import FeatureHandler
    from hotline.handoff import AcdHandoff
    from hotline.db_gateway import ThreadPoolGateway
    from ivr.asr.service import AsrService
    from ivr.crm_gateway import CrmGateway
    from ivr.prompts.renderer import PromptBuilder, PromptRenderer
    from ivr.runtime.app import IvrApplication
    from ivr.runtime.prompts import RendererPromptPlayer

    settings, reactor = engine.settings, engine.reactor
    db = ThreadPoolGateway(engine.sessions, reactor, max_threads=settings.db.pool_size)
    db.start()
    reactor.addSystemEventTrigger("after", "shutdown", db.stop)
    gateway = CrmGateway(db, region=settings.crm.default_region, blacklist_threshold=settings.crm.blacklist_threshold,
                         points_per_yuan=settings.crm.points_per_yuan, timezone=settings.center.timezone)
    renderer = PromptRenderer(PromptBuilder.from_settings(settings), reactor)
    renderer.start()
    prompts = RendererPromptPlayer(renderer)
    from ivr.prompts.switch_prompts import render_switch_prompts

    renderer.run_blocking(render_switch_prompts).addErrback(  # the dialplan's own prompts, if not rendered yet
        lambda f: log.error("switch prompts not rendered: %s", f.getErrorMessage()))
    asr = None
    if settings.asr.model_path:
        asr = AsrService.from_settings(settings, reactor)
        asr.warm_up().addErrback(lambda f: log.error("speech model failed to load: %s", f.getErrorMessage()))
    else:
        log.info("no asr.model_path configured: menus take DTMF only")
    from hotline.recorder import CallRecorder

    recorder = CallRecorder(db, reactor)

    from hotline.messaging_wiring import build_messaging

    engine.messaging = build_messaging(engine, gateway, renderer)  # the IVR's facade: it wakes the outbox
    service = build_acd(engine, db, prompts, recorder)
    service.stops += [recorder.flush, db.stop, renderer.stop]  # paths not written yet go in the last batch
    reactor.addSystemEventTrigger("after", "shutdown", service.stop)
    service.handoff = AcdHandoff(service.acd, reactor, lambda: engine.switch, prompts,
                                 default_queue=settings.acd.default_queue, aliases=settings.acd.aliases())
    service.features = FeatureHandler(service.acd, prompts)
    from hotline.dialer_wiring import build_dialer

    ivr_settings = ivr_config(settings)
    dialing = build_dialer(engine, service, db, recorder,
                           script=campaign_script(gateway, prompts, reactor, ivr_settings))
    engine.dialing = dialing
    from hotline.campaign_events import attach as attach_campaign_events

    # the campaign console's live figures: SSE topics campaign:<id>, database figures merged with the dialer's
    attach_campaign_events(engine, dialing.dialer if dialing is not None else None, db)
    application = IvrApplication(gateway, prompts, asr=asr, clock=reactor, handoff=service.handoff,
                                 menu_name=settings.ivr.menu, config=ivr_settings, recorder=recorder)
    engine.ivr = application
    engine.acd = service
    return CallRouter(application.handle, service.features.handle, service.acd.callbacks, service.handoff.resume,
                      service.acd.resumer.after_talk, recorder,
                      campaign=dialing.handle_call if dialing is not None else None).handle


def campaign_script(gateway: Any, prompts: Any, clock: Any, config: Any) -> Any:
    """The IVR-script runner automated campaigns' answered calls run (the dialer's ``script=``): the IVR's own
    menu engine on the same CRM gateway, prompt player and configuration as the inbound menus."""
    from ivr.campaign.runner import CampaignScriptRunner

    return CampaignScriptRunner(gateway, prompts, clock=clock, config=config)


def ivr_config(settings: Any) -> Any:
    """The IVR's engine-wide configuration from the ``[ivr]`` and ``[center]`` settings."""
    from pathlib import Path

    from ivr.runtime.session import IvrConfig

    ivr = settings.ivr
    return IvrConfig(recordings_dir=Path(ivr.recordings_dir), max_order_quantity=ivr.max_order_quantity,
                     complaint_max_seconds=ivr.complaint_max_seconds, digit_timeout=ivr.digit_timeout,
                     input_timeout=ivr.input_timeout, retries=ivr.retries, type_ahead=ivr.type_ahead,
                     local_timezone=settings.center.timezone)


class CallRouter:
    """Opens each accepted call's record, then sends the call to the feature handler, the callback dialer, back
    to its queue, or the IVR."""

    def __init__(self, ivr: Callable[[Any], Any], features: Callable[[Any], Any], callbacks: Any,
                 resume: Callable[[Any, Any], Any] | None = None,
                 after_talk: Callable[[str, int | None], Any] | None = None, recorder: Any = None,
                 campaign: Callable[[Any], Any] | None = None) -> None:
        self.ivr = ivr
        self.campaign = campaign
        self.features = features
        self.callbacks = callbacks
        self.resume = resume
        self.after_talk = after_talk
        self.recorder = recorder

    async def handle(self, call: Any) -> None:
        from acd.place import AGENT_VAR, QueuePlace

        variables = call.variables
        if variables.get("hotline_attempt_id"):  # an answered campaign leg: the dialer opened its record
            if self.campaign is not None:
                await self.campaign(call)
            else:
                log.error("call %s: campaign leg but this engine runs no dialer; hanging up", call.uuid)
                await call.hangup("NORMAL_CLEARING")  # the dialplan plays the identification message
            return
        if self.recorder is not None:  # the call's record starts with its first event
            direction = "internal" if variables.get("hotline_feature") else (
                "outbound" if variables.get("hotline_callback_uuid") else "inbound")
            self.recorder.entered(call, direction)
        if variables.get("hotline_feature"):
            await self.features(call)
            return
        if variables.get("hotline_callback_uuid"):
            await self._callback_leg(call)
            return
        place = QueuePlace.from_variables(variables) if self.resume is not None else None
        if place is not None:  # it was waiting for an agent when the previous engine went away
            await self.resume(call, place)
            return
        agent = variables.get(AGENT_VAR)
        if agent and self.after_talk is not None:  # its conversation outlived the previous engine; now over
            log.info("call %s: back after talking to agent %s across a restart; goodbye", call.uuid, agent)
            self.after_talk(call.uuid, int(agent) if agent.isdigit() else None)
            await call.hangup("NORMAL_CLEARING")
            return
        await self.ivr(call)

    async def _callback_leg(self, call: Any) -> None:
        dialer = self.callbacks.dialer
        leg_uuid = variables_uuid = call.variables.get("hotline_callback_uuid")
        entry_leg = None
        if dialer is not None and dialer.attach(call):
            entry = self.callbacks.entries.get(variables_uuid)
            entry_leg = entry.caller.leg if entry is not None and entry.caller is not None else None
        if entry_leg is None:
            log.warning("call %s: callback leg %s nobody waits for; hanging up", call.uuid, leg_uuid)
            await call.hangup("NORMAL_TEMPORARY_FAILURE")
            return
        await entry_leg.done  # the ACD bridges the customer to the reserved agent, then releases the leg
        if not call.hung_up:
            await call.hangup("NORMAL_CLEARING")
