"""Messaging as one service of the engine: the dispatcher with a lane per channel, fax in, bounces, callbacks.

Built once by the composition root with the engine's database gateway and
switch, started once the switch client exists. Start-up, in order: the
built-in templates that are missing are added, requests older engines left
as ``requested`` interactions are queued (``message_requests``), the
gateway rows of the admin UI are read, a lane per channel is built, claims
lost by a previous process are recovered, the fax inbox starts listening for
``spandsp::rxfaxresult`` and files what was spooled while nobody listened.
Every ``sweep_interval`` the gateway rows are read again (a changed one
replaces its lane's adapter) and the bounce Maildir is read.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from twisted.internet import defer

from crm_core.services.gateways import GatewayConfig, gateway_configs
from crm_core.services.inbound import receive_sms
from crm_core.services.message_requests import adopt_requested_interactions
from crm_core.services.message_templates import ensure_default_templates
from messaging.bounces import MaildirBounces
from messaging.channels.base import InboundSms
from messaging.db import DbRunner
from messaging.dispatcher import Dispatcher, DispatchPolicy
from messaging.fax_inbox import FaxInbox
from messaging.fax_prepare import FaxPreparer
from messaging.gateways import build_adapter, channel_gateway, channel_rate
from messaging.signing import Verifier
from messaging.web import sms_resource

log = logging.getLogger(__name__)

CHANNELS = ("sms", "email", "fax", "voice")
#: seconds a replaced adapter keeps running so its sends in flight can finish
RETIRE_AFTER = 60.0


def _startup(session: Any, region: str) -> tuple[int, int, dict[str, GatewayConfig]]:
    added = ensure_default_templates(session)
    adopted = adopt_requested_interactions(session, region=region)
    return added, adopted, gateway_configs(session)


class MessagingService:
    """Everything of messaging one engine runs; ``start()`` once the switch client exists."""

    def __init__(self, settings: Any, db: DbRunner, reactor: Any, *, switch: Callable[[], Any] = lambda: None,
                 speak: Callable[[str, str], Any] | None = None, region: str = "CN", worker: str | None = None,
                 listen_for_faxes: bool = True) -> None:
        self.settings, self.db, self.reactor = settings, db, reactor
        self.switch, self.speak, self.region = switch, speak, region
        self.listen_for_faxes = listen_for_faxes
        m = settings.messaging
        self.dispatcher = Dispatcher(db, clock=reactor, worker=worker, on_inbound=self.file_inbound,
                                     policy=DispatchPolicy(batch=m.batch, poll_interval=m.poll_interval,
                                                           retry_base=m.retry_base, retry_max=m.retry_max,
                                                           sweep_interval=m.sweep_interval,
                                                           receipt_poll_after=settings.sms.receipt_poll_after))
        fax = settings.fax
        self.fax_preparer = FaxPreparer(db, reactor, Path(fax.store_dir) / "out", font_path=fax.font_path or None,
                                        compression=fax.compression)
        self.inbox = FaxInbox(db, reactor, Path(fax.store_dir) / "in", spool_dir=fax.spool_dir or None,
                              region=region)
        self.bounces = (MaildirBounces(db, reactor, settings.email.bounce_maildir)
                        if settings.email.bounce_maildir else None)
        self.configs: dict[str, GatewayConfig] = {}
        self.verifier: Verifier | None = None
        self.resource = sms_resource(lambda: self.verifier, reactor, self.dispatcher.apply_receipt,
                                     self.dispatcher.inbound)
        self._timer: Any = None
        self.started: defer.Deferred | None = None

    # -- lanes ----------------------------------------------------------------------------

    def _lane(self, channel: str, overrides: dict[str, GatewayConfig]) -> None:
        config = channel_gateway(self.settings, channel, overrides)
        try:
            adapter = build_adapter(config, settings=self.settings, db=self.db, reactor=self.reactor,
                                    switch=self.switch, speak=self.speak)
        except ValueError as exc:
            log.error("%s gateway %s not usable (%s): the channel keeps its messages queued", channel, config.kind,
                      exc)
            return
        rate, burst = channel_rate(self.settings, config)
        old = self.dispatcher.lanes.get(channel)
        if old is not None:
            old.adapter, retired = adapter, old.adapter
            old.bucket.rate, old.bucket.burst = rate, burst
            adapter.start(self.dispatcher.listener)
            self.reactor.callLater(RETIRE_AFTER, retired.stop)
        else:
            prepare = self.fax_preparer if channel == "fax" else None
            self.dispatcher.add_lane(channel, adapter, rate=rate, burst=burst, prepare=prepare)
        self.configs[channel] = config
        if channel == "sms":
            self.verifier = (Verifier(str(config.options.get("api_key", "")), config.secret or "")
                             if config.kind == "http" else None)
        log.info("messaging: %s through %s (%s/s)", channel, config.kind,
                 "unlimited" if config.kind == "capture" else f"{rate:g}")

    @defer.inlineCallbacks
    def start(self) -> Any:
        """Templates, old IVR requests, gateways, recovery, fax inbox; fires once messages flow."""
        added, adopted, overrides = yield self.db.run(_startup, self.region)
        if added or adopted:
            log.info("messaging: %d default template(s) added, %d IVR request(s) from before queued", added, adopted)
        for channel in CHANNELS:
            self._lane(channel, overrides)
        yield self.dispatcher.start()
        switch = self.switch()
        if switch is not None and self.listen_for_faxes:
            self.inbox.attach(switch)
            self.inbox.sweep().addErrback(lambda f: log.error("fax spool sweep failed: %s", f.getErrorMessage()))
        self._timer = self.reactor.callLater(self.settings.messaging.sweep_interval, self._periodic)
        return self

    def _periodic(self) -> None:
        d = self.db.run(gateway_configs)

        def reload(overrides: dict[str, GatewayConfig]) -> None:
            for channel in CHANNELS:
                fresh = channel_gateway(self.settings, channel, overrides)
                current = self.configs.get(channel)
                if current is None or (fresh.kind, fresh.version) != (current.kind, current.version):
                    log.info("messaging: %s gateway changed; switching to %s", channel, fresh.kind)
                    self._lane(channel, overrides)

        d.addCallback(reload)
        if self.bounces is not None:
            d.addCallback(lambda _: self.bounces.poll())
        d.addErrback(lambda f: log.error("messaging upkeep failed: %s", f.getErrorMessage()))
        d.addBoth(lambda _: self._again())

    def _again(self) -> None:
        if self.dispatcher.lanes and self._timer is not None:
            self._timer = self.reactor.callLater(self.settings.messaging.sweep_interval, self._periodic)

    def wake(self, channel: str | None = None) -> None:
        """Messages were just queued: send them now rather than at the next poll."""
        self.dispatcher.wake(channel)

    def file_inbound(self, sms: InboundSms) -> defer.Deferred:
        """An SMS a gateway received: filed on the customer (opt-out keywords honoured and confirmed)."""
        def work(session: Any) -> dict[str, Any]:
            result = receive_sms(session, sms.sender, sms.body, recipient=sms.recipient, provider=sms.provider,
                                 provider_message_id=sms.provider_message_id, region=self.region)
            return {"inbound_id": result.message.id, "opted_out": result.opted_out,
                    "duplicate": result.duplicate}

        return self.db.run(work)

    @defer.inlineCallbacks
    def stop(self) -> Any:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        yield self.dispatcher.stop()
        self.fax_preparer.stop()
        self.inbox.stop()
        if self.bounces is not None:
            self.bounces.stop()
