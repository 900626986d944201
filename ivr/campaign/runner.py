"""The script runner of automated campaigns: the dialer hands it an answered call, it runs the campaign's menu.

``CampaignScriptRunner(gateway, prompts, clock=..., config=...)`` fits the
dialer's ``AutomatedScript`` protocol by shape (the IVR does not import the
ACD): ``run(call, attempt)`` fires with a
:class:`~crm_core.services.dialing.ScriptResult` -- the survey answers, whether
the person asked for an agent or not to be called again, or why the script
could not run.

The menu is the one named by the campaign's ``ivr_script``, loaded through
the IVR's menu store (the published version, cached until a new one is
published) and checked before the call hears anything: it must be a
``campaign`` menu and valid against the campaign's questions; otherwise the
call fails with a cause (``SCRIPT_NOT_PUBLISHED``, ``SCRIPT_NOT_CAMPAIGN``,
``SCRIPT_INVALID``) and the attempt is retried like any failed call. Each
answer is stored as soon as it is keyed (``dialing.record_answer``), so a
hang-up mid-survey keeps what was said, and the dialer stores the whole set
again when it closes the attempt (idempotent).
"""

from __future__ import annotations

import logging
from typing import Any

from twisted.internet import defer

from crm_core.services import dialing
from crm_core.services.dialing import ScriptResult
from ivr.campaign.session import CampaignSession, Contact
from ivr.exceptions import MenuNotFound
from ivr.menu.store import PublishedMenu
from ivr.menu.validate import validate
from ivr.runtime.flows import FLOWS, NODE_FLOWS
from ivr.runtime.session import IvrConfig
from ivr.runtime.stats import IvrStats

log = logging.getLogger(__name__)

NOT_PUBLISHED = "SCRIPT_NOT_PUBLISHED"
NOT_CAMPAIGN = "SCRIPT_NOT_CAMPAIGN"
INVALID = "SCRIPT_INVALID"
UNAVAILABLE = "SCRIPT_UNAVAILABLE"


class CampaignScriptRunner:
    """Runs campaign menus on answered campaign calls (the dialer's ``script``)."""

    def __init__(self, gateway: Any, prompts: Any, *, clock: Any = None, config: IvrConfig | None = None,
                 stats: IvrStats | None = None) -> None:
        if clock is None:
            from twisted.internet import reactor as clock  # composition-root default
        self.gateway = gateway  # ivr.crm_gateway.CrmGateway
        self.prompts = prompts  # ivr.runtime.prompts.PromptPlayer
        self.clock = clock
        self.config = config or IvrConfig()
        self.stats = stats or IvrStats()
        self.sessions: dict[str, CampaignSession] = {}
        self._menus: dict[str, PublishedMenu] = {}
        self._checked: dict[tuple[int, tuple[tuple[str, str], ...]], list[Any]] = {}

    def run(self, call: Any, attempt: Any) -> defer.Deferred:
        """Run the campaign's script on the answered ``call``; fires with a ScriptResult (never fails)."""
        return defer.ensureDeferred(self._run(call, attempt))

    async def _run(self, call: Any, attempt: Any) -> ScriptResult:
        settings, claim = attempt.settings, attempt.claim
        name = settings.ivr_script
        try:
            menu = await self.menu(name)
        except MenuNotFound:
            log.error("campaign %s: script %r is not published; call %s not run", settings.name, name, call.uuid)
            return ScriptResult(failure=NOT_PUBLISHED)
        except Exception:
            log.exception("campaign %s: script %r could not be loaded; call %s not run", settings.name, name,
                          call.uuid)
            return ScriptResult(failure=UNAVAILABLE)
        definition = menu.definition
        if definition.purpose != "campaign":
            log.error("campaign %s: menu %r answers inbound calls, it is not a campaign script", settings.name, name)
            return ScriptResult(failure=NOT_CAMPAIGN)
        questions = {q.key: q for q in settings.questions}
        problems = self._problems(menu, questions)
        if problems:
            log.error("campaign %s: script %r does not fit the campaign: %s", settings.name, name,
                      "; ".join(map(str, problems)))
            return ScriptResult(failure=INVALID)
        contact = Contact(claim.number, claim.customer_id, dict(claim.data or {}), settings.name)
        attempt_id = claim.attempt_id
        session = CampaignSession(
            call, definition, self.gateway, self.prompts, self.clock, contact=contact, questions=questions,
            config=self.config, stats=self.stats, menu_version=menu.version, flows=FLOWS, node_flows=NODE_FLOWS,
            save_answer=lambda key, digits: self.gateway.run(dialing.record_answer, attempt_id, key, digits))
        self.sessions[call.uuid] = session
        try:
            await session.run()
            await session.saved()
        finally:
            self.sessions.pop(call.uuid, None)
        answers = {k: v for k, v in session.answers.items() if k in questions}
        return ScriptResult(answers=answers, to_agent=session.wants_agent and not call.hung_up,
                            do_not_call=session.do_not_call, failure=session.failure)

    async def menu(self, name: str) -> PublishedMenu:
        """The published version of a script, reloaded only when its version id changed."""
        version_id = await self.gateway.published_version_id(name)
        if version_id is None:
            raise MenuNotFound(f"menu {name!r} has no published version")
        cached = self._menus.get(name)
        if cached is None or cached.version_id != version_id:
            cached = self._menus[name] = await self.gateway.published_menu(name)
            log.info("campaign script %s version %s loaded", name, cached.version)
        return cached

    def _problems(self, menu: PublishedMenu, questions: dict[str, Any]) -> list[Any]:
        key = (menu.version_id, tuple(sorted((k, q.valid_digits) for k, q in questions.items())))
        if key not in self._checked:
            self._checked[key] = validate(menu.definition,
                                          questions={k: q.valid_digits for k, q in questions.items()})
        return self._checked[key]
