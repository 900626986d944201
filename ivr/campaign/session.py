"""One answered campaign call through its script: the IVR session, turned round for a call we placed.

:class:`CampaignSession` is an :class:`~ivr.runtime.session.IvrSession`: the
same node executors, prompts, retries, type-ahead and step log, so a
campaign menu behaves exactly as an inbound one would. What differs:

* the call is already answered and nobody is greeted: the script's entry
  node speaks first, in the contact's language when the menu has it;
* the person is the *contact* (its number and merge fields), not the caller
  ID of the leg, which is the campaign's own number;
* inline text is filled with the contact's merge fields (``{name}``);
* a ``survey`` node asks one campaign question and keeps the key pressed;
* the ``do_not_call`` action notes that the person asked not to be called;
* asking for a person (a queue node, or too many errors) does not go to the
  ACD's queues: the session ends and the dialer offers the call to the
  campaign's own agents, under the campaign's 2-second rule;
* an error ends the script with a failure cause instead of a hand-off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from twisted.internet import defer

from ivr.campaign.merge import fill
from ivr.menu.model import ActionNode, MenuDefinition, SurveyNode
from ivr.runtime.session import LEFT, IvrConfig, IvrSession
from ivr.runtime.stats import IvrStats

log = logging.getLogger(__name__)

#: the attempt's hang-up cause when the script broke during the call
SCRIPT_ERROR = "SCRIPT_ERROR"


@dataclass(frozen=True)
class Contact:
    """Whom the campaign called: the number dialled, the CRM customer if known, the merge fields."""

    number: str
    customer_id: int | None
    fields: Mapping[str, Any]
    campaign: str = ""


@dataclass(frozen=True)
class SurveyQuestion:
    """A campaign question as the script needs it (``crm_core.services.dialing.Question`` fits)."""

    key: str
    prompt: str
    valid_digits: str


class CampaignSession(IvrSession):
    """Runs one campaign menu on one answered campaign call; see the module docstring."""

    def __init__(self, call: Any, definition: MenuDefinition, gateway: Any, prompts: Any, clock: Any, *,
                 contact: Contact, questions: Mapping[str, Any], config: IvrConfig | None = None,
                 stats: IvrStats | None = None, menu_version: int | None = None,
                 save_answer: Callable[[str, str], defer.Deferred] | None = None,
                 flows: Mapping[str, Any] | None = None, node_flows: Mapping[str, Any] | None = None) -> None:
        super().__init__(call, definition, gateway, prompts, None, clock, stats=stats, config=config,
                         menu_version=menu_version, flows=flows, node_flows=node_flows)
        self.contact = contact
        self.fields: dict[str, Any] = dict(contact.fields)
        self.questions = dict(questions)
        self.answers: dict[str, str] = {}
        self.wants_agent = False
        self.do_not_call = False
        self.failure: str | None = None
        self.missing_fields: set[str] = set()
        self._save_answer = save_answer
        self._saving: defer.Deferred = defer.succeed(None)

    @property
    def address(self) -> str | None:
        return self.contact.number

    async def _identify(self) -> Any:
        """The contact as a CRM customer (its name when the contact has none, its language)."""
        try:
            return await self.gateway.caller_info(self.contact.number)
        except Exception:
            log.exception("call %s: customer look-up for %s failed; going on without it", self.uuid,
                          self.contact.number)
            return None

    async def _run(self) -> None:
        self.caller = await self._identify()
        if self.caller is not None and not str(self.fields.get("name") or "").strip():
            self.fields["name"] = self.caller.name
        language = str(self.fields.get("language") or (self.caller.language if self.caller else "") or "")
        if language in self.definition.languages:
            self.lang = language
        start = self.definition.entry
        self.log_step("start", f"campaign {self.contact.campaign}: script {self.definition.name} starts at {start}",
                      node=start, menu=self.definition.name, menu_version=self.menu_version)
        await self.run_from(start)
        if not self.left and not self.call.hung_up and self.config.end_prompt:
            await self.say(self.config.end_prompt)

    async def _fail_safe(self) -> None:
        self.failure = self.failure or SCRIPT_ERROR
        if self.call.hung_up or self.left:
            return
        try:
            await self.say("system_error")
        except Exception:
            log.warning("call %s: could not play the apology", self.uuid)

    # -- words ------------------------------------------------------------------------------

    async def files(self, prompt_id: str | None, text: Mapping[str, str] | None = None, lang: str | None = None,
                    **variables: Any) -> list[str]:
        """As the IVR's, with the contact's merge fields filled into inline text (gaps logged, never fatal)."""
        if text:
            filled = {}
            for language, words in text.items():
                filled[language], missing = fill(str(words), self.fields)
                for name in missing:
                    self._missing_field(name)
            text = filled
        return await super().files(prompt_id, text, lang, **variables)

    def _missing_field(self, name: str) -> None:
        if name in self.missing_fields:
            return
        self.missing_fields.add(name)
        log.warning("call %s: contact %s has no merge field %r; said the prompt without it", self.uuid,
                    self.contact.number, name)
        self.log_step("merge_field_missing", f"campaign: no {name} for this contact", field=name)

    # -- nodes ------------------------------------------------------------------------------

    async def _node_survey(self, node: SurveyNode) -> str | None:
        question = self.questions.get(node.question)
        digits = node.valid_digits or (question.valid_digits if question is not None else "")
        text = node.text
        if not node.speaks and question is not None:
            text = {self.lang: question.prompt}
        typed, self._typeahead = self._typeahead, []
        if typed and typed[0] in digits:  # answered while the greeting was still speaking
            return self._answered(node, typed[0], typed_ahead=True)
        files = await self.files(node.prompt, text)
        failures = 0
        while not self.call.hung_up:
            key = await self.ask(files, node.timeout)
            if key and key in digits:
                return self._answered(node, key)
            if key and key == self.settings.repeat_key:
                continue
            kind = "timeout" if not key else "invalid"
            failures += 1
            self.stats.errors[kind] += 1
            self.log_step(kind, f"campaign: {kind} at survey {node.id}", node=node.id, question=node.question,
                          key=key or None)
            if failures > node.retries:
                self.log_step("survey_unanswered", f"campaign: no answer to {node.question}", node=node.id,
                              question=node.question)
                return node.next
            prompt = node.timeout_prompt if kind == "timeout" else node.invalid_prompt
            if prompt:
                await self.say(prompt)
        return None

    def _answered(self, node: SurveyNode, key: str, *, typed_ahead: bool = False) -> str | None:
        self.answers[node.question] = key
        self.stats.option(node.id, key)
        self.log_step("survey_answer", f"campaign: {node.question} = {key}", node=node.id, question=node.question,
                      answer=key, type_ahead=typed_ahead or None)
        if self._save_answer is not None:
            question = node.question

            def save(_: Any) -> defer.Deferred:
                return self._save_answer(question, key)  # type: ignore[misc]

            def failed(f: Any) -> None:  # the dialer stores the answers again when the attempt closes
                log.warning("call %s: answer to %s not stored yet: %s", self.uuid, question, f.getErrorMessage())

            self._saving = self._saving.addCallback(save).addErrback(failed)
        return node.answers.get(key) or node.next

    async def _node_action(self, node: ActionNode) -> str | None:
        if node.action != "do_not_call":
            return await super()._node_action(node)
        self.do_not_call = True
        self.stats.actions[node.action] += 1
        self.log_step("do_not_call", "campaign: asked not to be called again", node=node.id)
        return node.next

    async def to_agent(self, reason: str, *, queue: str | None = None, skills: tuple[str, ...] | None = None,
                       prompt: str | None = "transferring", text: Mapping[str, str] | None = None) -> str:
        """The person wants a person: say so, and leave the call to the dialer (the campaign's agents)."""
        self.stats.handoffs[reason] += 1
        self.handed_off = self.wants_agent = True
        self.log_step("handoff", f"campaign: to the campaign's agents ({reason})", reason=reason)
        if prompt or text:
            await self.say(prompt, text=text)
        self.left = True
        return LEFT

    async def saved(self) -> None:
        """Wait until the answers given so far are stored (or failed to be)."""
        await self._saving
