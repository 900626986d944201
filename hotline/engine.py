"""The engine process: builds every long-lived service once and starts them in order.

This is the composition root the architecture asks for. Nothing here makes
decisions about calls; it only constructs the pieces (database pool, switch
client, call server, simulator in demo mode, prompt renderer, admin web) and
hands each the others it needs. The reactor is passed in so tests can build an
engine on a real reactor with port 0 everywhere.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet import defer
from twisted.internet.endpoints import TCP4ClientEndpoint

from crm_core.db import make_engine, session_factory
from freeswitch.call import Call
from freeswitch.callserver import CallServer
from freeswitch.switch import Switch
from hotline.settings import Settings, SettingsError, database_url, shown_database
from hotline.startup import listening, refuse_demo_passwords, require_schema

log = logging.getLogger(__name__)

#: Events asked for on each call beyond ``myevents``: none -- IVR and ACD read CHANNEL_EXECUTE(_COMPLETE),
#: DTMF, bridge and hang-up events, all in ``myevents``; PLAYBACK_*/RECORD_*/CALLSTATE would be 16 of the
#: 56 events of an order-status call, built by the switch and parsed here for nobody.
CALL_EVENTS: tuple[str, ...] = ()

#: Events the engine's inbound connection listens to (ACD and reconciliation use them).
ENGINE_EVENTS = (
    "CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE",
    "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "DTMF", "BACKGROUND_JOB", "HEARTBEAT",
)


def check_database(url: str, shown: str | None = None) -> Any:
    """Connect once so a wrong or dead database stops start-up with one clear line (naming it as ``shown``)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise SettingsError(f"cannot reach the database ({shown or engine.url.render_as_string()}): {reason}") \
            from None
    return engine


@dataclass
class Engine:
    """Every service of one engine process, started by :meth:`start`."""

    settings: Settings
    reactor: Any
    #: Builds the per-call application once the database is up (see :mod:`hotline.wiring`).
    application: Callable[["Engine"], Callable[[Call], Any] | None] | None = None
    web_enabled: bool = True
    db_engine: Any = None
    sessions: Any = None
    call_handler: Callable[[Call], Any] | None = None
    simulator: Any = None
    call_server: CallServer | None = None
    switch: Switch | None = None
    web_port: Any = None
    web_banner: str = ""
    #: Accounts still on their demo passwords (demo mode only; outside it the engine refuses to start).
    demo_accounts: list[str] = field(default_factory=list)
    #: Server-sent event topics (wallboard, agent desk, test calls); publish from any thread.
    events: Any = None
    ports: dict[str, int] = field(default_factory=dict)
    #: Native Twisted resources mounted beside the admin app (``/metrics``...), set while building the application.
    web_resources: dict[bytes, Any] = field(default_factory=dict)
    #: Called with the engine once every part is built and started (the application's late wiring).
    on_started: list[Callable[["Engine"], Any]] = field(default_factory=list)
    #: Called first when stopping; each may return (uuids of calls to release instead of hanging up, Deferred).
    before_stop: list[Callable[["Engine"], Any]] = field(default_factory=list)

    def start(self) -> None:
        """Check the database, build the application, start simulator (demo), call server, switch, web UI.

        A deployment mistake (database not migrated, a port in use, demo passwords outside demo mode) raises
        ``StartupError`` with one line naming the fix.
        """
        settings = self.settings
        url = database_url(settings)
        self.db_engine = check_database(url, shown_database(settings))
        require_schema(url)
        self.sessions = session_factory(self.db_engine)
        self.demo_accounts = refuse_demo_passwords(self.sessions, settings.admin.demo_mode)
        from admin.sse import EventHub

        self.events = EventHub(self.reactor)
        self.events.start()
        if self.application is not None:
            self.call_handler = self.application(self)

        sys.setswitchinterval(settings.callserver.switch_interval_ms / 1000.0)
        self.call_server = CallServer(self.call_handler or _no_application, self.reactor,
                                      linger_seconds=settings.callserver.linger, extra_events=CALL_EVENTS)
        port = listening("FreeSWITCH's outbound sockets (the call server)", "callserver.port",
                         settings.callserver.host, settings.callserver.port,
                         lambda: self.call_server.start(self.reactor, settings.callserver.host,
                                                        settings.callserver.port))
        self.ports["callserver"] = port.getHost().port

        switch_host, switch_port, password = settings.switch.host, settings.switch.port, settings.switch.password
        if settings.switch.mode == "sim":  # the simulator listens where the switch client connects: one setting
            from freeswitch.sim.simulator import Simulator

            self.simulator = Simulator(
                self.reactor, host=switch_host, port=switch_port, password=password,
                socket_host=settings.callserver.host, socket_port=self.ports["callserver"],
                sounds_dir=settings.sim.sounds_dir, recordings_dir=settings.sim.recordings_dir,
            )
            from hotline.sim_dialplan import install as install_dialplan
            from ivr.prompts.switch_prompts import switch_prompts_dir

            install_dialplan(self.simulator, prompts_dir=switch_prompts_dir(settings.tts.cache_dir))
            self.ports["sim"] = switch_port = listening("the switch simulator's event socket", "switch.port",
                                                        switch_host, switch_port, self.simulator.start)

        self.switch = Switch(
            TCP4ClientEndpoint(self.reactor, switch_host, switch_port),
            password, clock=self.reactor, events=ENGINE_EVENTS,
            command_timeout=settings.switch.command_timeout, max_delay=settings.switch.reconnect_max_delay,
        )
        self.switch.start()
        self.reactor.addSystemEventTrigger("before", "shutdown", self.stop)
        if self.web_enabled:
            self._start_web()
        for hook in self.on_started:
            hook(self)
        settle_memory()

    def _start_web(self) -> None:
        from admin.bootstrap import DEMO_USERS, describe, ensure_admin_user
        from admin.web import build_site
        from crm_core.db import transaction
        from hotline.admin_config import create_admin_app

        with transaction(self.sessions) as session:
            created = ensure_admin_user(session)
        from admin.bridge import EngineBridge, install
        from admin.sse import EventStreamResource

        app = create_admin_app(self.settings)
        install(app, EngineBridge(self.reactor, lambda name: getattr(self, name, None), self.events))
        site = build_site(self.reactor, self.reactor.getThreadPool(), app)
        site.resource.putChild(b"events", EventStreamResource(
            self.events, app.config["SECRET_KEY"], session_check=self._session_is_current,
            max_age=self.settings.admin.session_max_hours * 3600))
        for name, resource in self.web_resources.items():
            site.resource.putChild(name, resource)
        admin = self.settings.admin
        self.web_port = listening("the admin UI", "admin.port", admin.host, admin.port,
                                  lambda: self.reactor.listenTCP(admin.port, site, interface=admin.host))
        self.ports["admin"] = self.web_port.getHost().port
        url = f"http://{admin.host}:{self.ports['admin']}/admin/"
        self.web_banner = describe(created, url)
        if admin.demo_mode and self.demo_accounts:
            self.web_banner += "\n  demo users: " + ", ".join(
                f"{name} / {password} ({role.value})" for name, (role, password) in DEMO_USERS.items()
                if name in self.demo_accounts)

    def _session_is_current(self, user_id: int, version: int) -> bool:
        """Whether an admin session (an event-stream token's) is still current; runs on a pool thread."""
        from crm_core.services.admin_sessions import session_is_current

        with self.sessions() as session:
            return session_is_current(session, user_id, version)

    @defer.inlineCallbacks
    def stop(self) -> Any:
        """Leave callers the next engine can take back to the switch, hang up the others politely, close up."""
        released: list[str] = []
        for hook in self.before_stop:
            try:
                uuids, sent = hook(self)
                yield _bounded(self.reactor, sent, 2.0)
                released += uuids
            except Exception:
                log.exception("stop hook failed")
        if self.call_server is not None:
            self.call_server.release(released)
            yield self.call_server.hangup_all("SYSTEM_SHUTDOWN")
            yield self.call_server.stop_listening()
        if self.switch is not None:
            yield self.switch.stop()
        if self.simulator is not None:
            yield self.simulator.stop()
        if self.events is not None:
            self.events.stop()
        if self.web_port is not None:
            yield self.web_port.stopListening()
        if self.db_engine is not None:
            self.db_engine.dispose()
        import gc

        gc.unfreeze()  # this engine's start-up objects may be collected again (a process that starts another)


def settle_memory() -> None:
    """Keep what start-up built (modules, ORM metadata, menus, prompt catalogues) out of full GC passes.

    A full collection walks every tracked object; with start-up's objects in
    the walk it stalled the reactor ~140 ms at a time under 500 calls
    (``bench/ivr_calls.py`` prints the pauses), and every call in flight
    heard the stall. ``gc.freeze`` moves them to a generation the collector
    skips; objects made per call are still collected as before.
    """
    import gc

    gc.collect()
    gc.freeze()


def _bounded(clock: Any, d: defer.Deferred, seconds: float) -> defer.Deferred:
    """``d``, or None after ``seconds``: a switch that does not answer must not hold a stop up."""
    done: defer.Deferred = defer.Deferred()
    timer = clock.callLater(seconds, lambda: done.called or done.callback(None))

    def finish(_r: object) -> None:
        if timer.active():
            timer.cancel()
        if not done.called:
            done.callback(None)

    d.addBoth(finish)
    return done


def _no_application(call: Call) -> Any:
    """Without an IVR application configured, refuse calls cleanly instead of leaving them in silence."""
    log.error("call %s from %s to %s: no call application configured", call.uuid, call.ani, call.dnis)
    return call.hangup("SERVICE_UNAVAILABLE")
