"""Messaging in the engine: the outbox dispatcher, fax in, gateway callbacks, built on the engine's parts.

Messaging reuses the engine's one database gateway (through the IVR's ``CrmGateway``, whose
``on_message_queued`` wakes the outbox) and its switch client; it starts once the switch client exists (the fax
lanes originate through it, the fax inbox listens on it). In demo mode the
simulator's fax number writes received faxes into ``fax.spool_dir``, like
``$${hotline_fax_dir}`` on a real switch.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def build_messaging(engine: Any, gateway: Any, renderer: Any = None) -> Any:
    """The messaging service of this engine, started with it; None when ``messaging.enabled`` is off."""
    settings, reactor = engine.settings, engine.reactor
    if not settings.messaging.enabled:
        log.info("messaging disabled (messaging.enabled = false): nothing is sent")
        return None
    from messaging.service import MessagingService

    speak = None
    if renderer is not None:
        def speak(text: str, language: str) -> Any:
            return renderer.render_text(text, language).addCallback(str)

    service = MessagingService(settings, gateway, reactor, switch=lambda: engine.switch, speak=speak,
                               region=settings.crm.default_region)
    gateway.on_message_queued = service.wake
    engine.web_resources[b"messaging"] = service.resource

    def started(engine: Any) -> None:
        if engine.simulator is not None:
            spool = Path(settings.fax.spool_dir).resolve()
            spool.mkdir(parents=True, exist_ok=True)
            engine.simulator.core.global_vars.update(hotline_fax_dir=str(spool),
                                                     hotline_fax_ident=settings.fax.station_id,
                                                     hotline_fax_header=settings.fax.header)
        service.started = service.start()
        service.started.addErrback(lambda f: log.error("messaging did not start: %s", f.getTraceback()))

    engine.on_started.append(started)
    # first thing when the engine stops, while the database gateway still runs: sends in flight finish
    # (bounded by the engine), their outcomes are written, no lane claims again
    engine.before_stop.append(lambda engine: ([], service.stop()))
    return service
