"""The CallServer handler: each new call gets the menu version published now and its own IvrSession.

The published definition is cached by version id; every call asks the
database (through the gateway's pool) which version is current, so a publish
reaches the next call while calls in progress keep the definition object they
started with.
"""

from __future__ import annotations

import logging
from typing import Any

from ivr.menu.store import PublishedMenu
from ivr.runtime.flows import FLOWS, NODE_FLOWS
from ivr.runtime.handoff import AgentHandoff, HandoffRequest, TransferHandoff
from ivr.runtime.session import IvrConfig, IvrSession
from ivr.runtime.stats import IvrStats

log = logging.getLogger(__name__)


class IvrApplication:
    """``CallServer(IvrApplication(...).handle)``."""

    def __init__(self, gateway: Any, prompts: Any, *, menu_name: str = "main", asr: Any = None, clock: Any = None,
                 handoff: AgentHandoff | None = None, config: IvrConfig | None = None,
                 stats: IvrStats | None = None, fallback_extension: str = "agents", recorder: Any = None) -> None:
        self.gateway = gateway
        self.prompts = prompts
        self.menu_name = menu_name
        self.asr = asr
        self.clock = clock
        self.handoff = handoff
        self.config = config or IvrConfig()
        self.stats = stats or IvrStats()
        self.fallback = TransferHandoff(fallback_extension)
        self.recorder = recorder  # the engine's call recorder (a crm_core.call_events.CallReporter), if any
        self._menu: PublishedMenu | None = None
        self.sessions: dict[str, IvrSession] = {}
        if asr is None or not getattr(asr, "available", False):
            log.info("IVR: no speech recognition model configured; menus take DTMF only")
        else:
            log.info("IVR: speech input on (model %s); menus with keywords accept speech and DTMF",
                     getattr(asr, "model_path", "?"))

    async def current_menu(self) -> PublishedMenu:
        """The published menu, reloaded only when its version id changed."""
        version_id = await self.gateway.published_version_id(self.menu_name)
        if self._menu is None or self._menu.version_id != version_id:
            self._menu = await self.gateway.published_menu(self.menu_name)
            log.info("IVR menu %s version %s loaded", self.menu_name, self._menu.version)
        return self._menu

    async def handle(self, call: Any) -> None:
        try:
            menu = await self.current_menu()
        except Exception:
            log.exception("call %s: no IVR menu %r available; sending the caller to agents", call.uuid, self.menu_name)
            await self._no_menu(call)
            return
        session = IvrSession(call, menu.definition, self.gateway, self.prompts, self.asr, self.clock,
                             handoff=self.handoff, stats=self.stats, config=self.config, menu_version=menu.version,
                             flows=FLOWS, node_flows=NODE_FLOWS, recorder=self.recorder)
        self.sessions[call.uuid] = session
        try:
            await session.run()
        finally:
            self.sessions.pop(call.uuid, None)

    async def _no_menu(self, call: Any) -> None:
        try:
            await call.answer()
            files = await self.prompts.files("system_error", "zh")
            if files:
                await call.playback(files)
            await self.fallback.hand_off(call, HandoffRequest("general", (), "no_menu", "zh",
                                                             media_source=call.dnis or None))
        except Exception:
            log.exception("call %s: fallback hand-off failed; hanging up", call.uuid)
            await call.hangup("NORMAL_TEMPORARY_FAILURE")
