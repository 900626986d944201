"""One call through the IVR: identify the caller, apply policy, walk the menu graph, never leave silence.

``IvrSession(call, definition, gateway, prompts, asr, clock).run()`` is the
whole life of a call in the IVR. It holds the immutable definition the call
started with (a publish mid-call changes nothing here), the caller's language,
the stack of menus visited (for the back key) and the call-wide error count.

Fail-safe rule (STYLE): any error inside a node is logged with the call UUID,
the caller hears an apology and is handed to an agent; if even that fails the
call is hung up with ``NORMAL_TEMPORARY_FAILURE``. A caller hanging up ends
the session quietly (what was committed stays; a phone order is only written
at its final confirmation).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from twisted.internet import defer

from crm_core import call_events as events
from crm_core.call_events import CallEvent, CallReporter, NullReporter
from crm_core.enums import IvrOutcome
from freeswitch.call_apps import file_list
from freeswitch.esl.errors import CallHungUp
from ivr.crm_gateway import CallerInfo
from ivr.menu.model import (
    ActionNode,
    AnnouncementNode,
    CallbackNode,
    DigitInputNode,
    GotoNode,
    HangupNode,
    LanguageNode,
    MenuDefinition,
    MenuNode,
    QueueNode,
    VoicemailNode,
)
from ivr.runtime.handoff import AgentHandoff, HandoffRequest, TransferHandoff
from ivr.runtime.stats import IvrStats

log = logging.getLogger(__name__)

#: What an executor or flow returns when the caller left the IVR (hand-off, hang-up).
LEFT = "\x00left"
_SILENCE = "silence_stream://10"
_counter = itertools.count(1)


@dataclass(frozen=True)
class IvrConfig:
    """Engine-wide IVR settings (from the settings file at the composition root)."""

    recordings_dir: Path = Path("var/recordings")  # when the call does not carry hotline_recordings_dir
    max_order_quantity: int = 20
    complaint_max_seconds: int = 120
    min_recording_ms: int = 1000
    digit_timeout: float = 3.0
    input_timeout: float = 6.0
    retries: int = 2  # failed answers to an in-flow question (choose, enter_digits) before giving up
    type_ahead: bool = True  # keys pressed during a greeting or announcement answer the next menu
    beep: str = "tone_stream://%(400,0,1000)"
    local_timezone: str = "Asia/Shanghai"
    end_prompt: str | None = "goodbye"
    flows: Mapping[str, Any] = field(default_factory=dict)  # extra/override flows by action name
    # speech input (used when an AsrService with a model is given and a menu node has keywords)
    speech_max_seconds: int = 5  # record time limit for one spoken answer
    speech_silence_seconds: int = 2  # silence that ends the answer (and the wait for one to start)
    speech_silence_threshold: int = 200  # energy below which a 20 ms frame is silence (FreeSWITCH record)
    speech_min_ms: int = 200  # shorter recordings are no input
    keep_speech_recordings: bool = False
    #: words that answer "did you say ...?" per language (key 1 = yes, 2 = no always work)
    confirm_words: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=lambda: {
        "zh": {"yes": ("是", "对", "是的"), "no": ("不是", "不对")},
        "en": {"yes": ("yes", "yeah", "correct"), "no": ("no", "wrong")},
    })


class IvrSession:
    """Runs one call through one menu definition."""

    def __init__(self, call: Any, definition: MenuDefinition, gateway: Any, prompts: Any, asr: Any = None,
                 clock: Any = None, *, handoff: AgentHandoff | None = None, stats: IvrStats | None = None,
                 config: IvrConfig | None = None, menu_version: int | None = None,
                 flows: Mapping[str, Any] | None = None, node_flows: Mapping[str, Any] | None = None,
                 recorder: CallReporter | None = None) -> None:
        if clock is None:
            from twisted.internet import reactor as clock  # composition-root default
        self.call = call
        self.definition = definition
        self.settings = definition.settings
        self.gateway = gateway
        self.prompts = prompts
        self.asr = asr
        self.clock = clock
        self.handoff = handoff or TransferHandoff(definition.settings.handoff_extension,
                                                  definition.settings.handoff_context)
        self.stats = stats or IvrStats()
        self.config = config or IvrConfig()
        self.menu_version = menu_version
        #: action name -> flow (``ivr.runtime.flows.FLOWS``, with ``IvrConfig.flows`` overriding)
        self.flows = {**(flows or {}), **self.config.flows}
        #: node kind -> flow for the voicemail and callback nodes (``ivr.runtime.flows.NODE_FLOWS``)
        self.node_flows = dict(node_flows or {})
        self.lang = definition.default_language
        self.caller: CallerInfo | None = None
        self.blacklisted = False
        self.variables: dict[str, str] = {}
        self.menu_stack: list[str] = []
        self.errors = 0
        self.left = False
        self.path: list[str] = []  # nodes visited, for the final interaction
        #: the engine's call recorder (owns the CDR): who called, nodes visited, how self-service ended, links
        self.recorder: CallReporter = recorder or NullReporter()
        self.served = False  # a self-service action, voicemail or callback completed
        self.handed_off = False
        self.caller_hung_up = False
        self._typeahead: list[str] = []  # keys pressed during the greeting or an announcement, not used yet
        self._log_chain: defer.Deferred = defer.succeed(None)

    # -- the call ---------------------------------------------------------------------

    @property
    def uuid(self) -> str:
        return self.call.uuid

    @property
    def media_source(self) -> str | None:
        """The advertised number the call came in on (the dialplan's ``hotline_media_source``, else the DNIS):
        what an order placed in this call is attributed to."""
        return self.call.variables.get("hotline_media_source") or self.call.dnis or None

    def local_date(self, moment: dt.datetime) -> dt.date:
        """The date of ``moment`` in the center's time zone (what the caller is told)."""
        from zoneinfo import ZoneInfo

        aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
        return aware.astimezone(ZoneInfo(self.config.local_timezone)).date()

    @property
    def recordings_dir(self) -> Path:
        """Where this call's recordings go: the switch's ``hotline_recordings_dir`` (the dialplan sets it from
        vars.xml) when the call carries it, else ``IvrConfig.recordings_dir``."""
        from_switch = self.call.variables.get("hotline_recordings_dir")
        return Path(from_switch) if from_switch else self.config.recordings_dir

    @property
    def customer_id(self) -> int | None:
        return self.caller.customer_id if self.caller else None

    @property
    def address(self) -> str | None:
        """The far end's number, as the customer timeline records it (the caller ID of an inbound call)."""
        return self.call.ani or None

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock.seconds(), dt.timezone.utc)

    async def run(self) -> None:
        """The whole IVR part of the call; returns when the caller left, was handed off or hung up."""
        self.stats.calls += 1
        try:
            await self._run()
        except CallHungUp:
            log.info("call %s: caller hung up in the IVR at %s", self.uuid, self.path[-1:] or "start")
            self.caller_hung_up = True
            self.log_step("hangup", "caller hung up", node=self.path[-1] if self.path else None)
        except Exception:
            log.exception("call %s: IVR failed at node %s", self.uuid, self.path[-1] if self.path else "start")
            self.stats.errors["system"] += 1
            await self._fail_safe()
        finally:
            self._report_outcome()
            await self._flush_log()

    def _report_outcome(self) -> None:
        """How self-service ended, for the call's record (a hand-off was reported when it happened)."""
        if self.handed_off:
            return
        caller_left = self.caller_hung_up or (self.call.hung_up and not getattr(self.call, "hangup_requested", False))
        if self.served:
            outcome = IvrOutcome.CONTAINED
        else:
            outcome = IvrOutcome.ABANDONED if caller_left else IvrOutcome.HUNG_UP
        self.report(events.IVR_OUTCOME, outcome=outcome.value, exit_node=self.path[-1] if self.path else None)

    def report(self, event: str, /, **fields: Any) -> None:
        """Tell the call recorder one thing that happened on this call (never fails the call)."""
        try:
            self.recorder.report(CallEvent(event, self.uuid, self.clock.seconds(), fields))
        except Exception:
            log.exception("call %s: %s not reported to the call recorder", self.uuid, event)

    def link(self, kind: str, value: Any) -> None:
        """Something this call created (orders, complaints, callbacks, voicemails, recordings) on its record.

        A caller whose call created an order, a complaint, a callback or a voicemail was served here.
        """
        if kind != "recordings":
            self.served = True
        self.report(events.LINKED, kind=kind, value=value)

    async def _run(self) -> None:
        self.caller = await self._identify()  # before answering: a rejected caller is never answered
        if self.caller is not None:
            self.report(events.IDENTIFIED, customer_id=self.caller.customer_id)
        if self.caller and self.caller.language in self.definition.languages:
            self.lang = self.caller.language
        if await self._apply_blacklist() == LEFT:
            return
        await self.call.answer()
        if self.blacklisted and self.settings.blacklist.action == "message" and self.settings.blacklist.prompt:
            await self.say(self.settings.blacklist.prompt)
        await self._greet()
        start = self.definition.start_for(self.call.dnis, self.now())
        self.log_step("start", f"ivr: call on {self.call.dnis} starts at {start}", node=start,
                      dnis=self.call.dnis, menu_version=self.menu_version)
        await self.run_from(start)
        if not self.left and not self.call.hung_up:
            if self.config.end_prompt:
                await self.say(self.config.end_prompt)
            await self.call.hangup("NORMAL_CLEARING")

    async def _identify(self) -> CallerInfo | None:
        try:
            return await self.gateway.caller_info(self.call.ani)
        except Exception:
            log.exception("call %s: caller look-up for %s failed; going on as an unknown caller",
                          self.uuid, self.call.ani)
            return None

    async def _apply_blacklist(self) -> str | None:
        caller, policy = self.caller, self.settings.blacklist
        if caller is None or policy.action == "none":
            return None
        if not caller.blacklisted:  # the flag, or crm.blacklist_threshold active marks (CrmGateway)
            return None
        self.blacklisted = True
        self.log_step("blacklist", f"ivr: blacklisted caller, policy {policy.action}", action=policy.action,
                      marks=caller.blacklist_marks)
        if policy.action == "reject":
            # Refused before answer: the refusal plays as early media, the call is never answered (not billed).
            await self.call.pre_answer()
            await self.say("blacklist_reject")
            await self.call.hangup("CALL_REJECTED")
            self.left = True
            return LEFT
        await self.call.set_var("hotline_blacklisted", "true")  # the agent desk warns the agent
        return None

    async def _greet(self) -> None:
        caller = self.caller
        if caller is not None and caller.vip:
            await self.call.set_var("hotline_vip", "true")
            await self.say_keeping_keys("greeting_vip", name=caller.name)
        elif caller is not None:
            await self.say_keeping_keys("greeting_named", name=caller.name)
        else:
            await self.say_keeping_keys("greeting")

    async def _fail_safe(self) -> None:
        if self.call.hung_up or self.left:
            return
        try:
            await self.say("system_error")
        except Exception:
            log.warning("call %s: could not play the apology", self.uuid)
        try:
            await self.to_agent("system_error", prompt=None)
        except Exception:
            log.exception("call %s: hand-off after an error failed; hanging up", self.uuid)
            if not self.call.hung_up:
                try:
                    await self.call.hangup("NORMAL_TEMPORARY_FAILURE")
                except Exception:
                    log.warning("call %s: hang-up failed too", self.uuid)

    # -- the menu graph ------------------------------------------------------------------

    async def run_from(self, node_id: str | None) -> None:
        """Execute nodes from ``node_id`` until one ends the IVR part of the call."""
        while node_id is not None and node_id != LEFT and not self.left:
            node = self.definition.node(node_id)
            self.path.append(node_id)
            self.report(events.IVR_NODE, node=node_id)
            executor = getattr(self, f"_node_{node.kind}")
            node_id = await executor(node)

    def _previous_menu(self) -> str | None:
        return self.menu_stack[-1] if self.menu_stack else None

    async def _node_menu(self, node: MenuNode) -> str | None:
        if not self.menu_stack or self.menu_stack[-1] != node.id:
            self.menu_stack.append(node.id)
        s = self.settings
        errors = 0
        spoken = self._speech_options(node)
        while True:
            key = self._typed_ahead(node)
            if key is not None:  # answered during the greeting or an announcement: no need to ask
                self.stats.option(node.id, key)
                option = node.options[key]
                self.log_step("option", f"ivr: {node.id} -> {option.label or option.target} (typed ahead)",
                              node=node.id, key=key, target=option.target, type_ahead=True)
                return option.target
            files = await self.node_files(node)
            failed_speech = None
            if spoken:
                key, failed_speech = await self._listen_menu(node, files, spoken)
                if failed_speech:
                    spoken = {}  # fall back to keys for the rest of this visit
            else:
                key = await self.ask(files, node.timeout)
            if key and key == s.repeat_key and key not in node.options:
                self.log_step("repeat", f"ivr: repeat {node.id}", node=node.id)
                continue
            if key and key == s.back_key and key not in node.options and len(self.menu_stack) > 1:
                self.menu_stack.pop()
                self.log_step("back", f"ivr: back from {node.id}", node=node.id)
                return self.menu_stack[-1]
            if key in node.options:
                option = node.options[key]
                self.stats.option(node.id, key)
                self.log_step("option", f"ivr: {node.id} -> {option.label or option.target}", node=node.id,
                              key=key, target=option.target)
                return option.target
            kind = "timeout" if not key else "invalid"  # a failed spoken answer counts as a timeout
            errors += 1
            self.stats.errors[kind] += 1
            if not (kind == "timeout" and node.retries == 0):
                self.errors += 1
            if failed_speech is None:
                self.log_step(kind, f"ivr: {kind} at {node.id}", node=node.id, key=key or None)
            if errors > node.retries or self.errors >= s.max_errors:
                if node.on_failure:
                    return node.on_failure
                await self.to_agent("too_many_errors", prompt="too_many_errors")
                return LEFT
            if failed_speech in ("rejected", "denied"):
                prompt = "speech_not_understood"
            else:
                prompt = node.timeout_prompt if kind == "timeout" else node.invalid_prompt
            if prompt:
                await self.say(prompt)

    def _type_ahead_allowed(self) -> bool:
        return self.config.type_ahead and self.settings.type_ahead

    def _typed_ahead(self, node: MenuNode) -> str | None:
        """The key typed ahead for this menu, if it is one of its options (other keys are dropped)."""
        keys, self._typeahead = self._typeahead, []
        return keys[0] if keys and keys[0] in node.options else None

    async def say_keeping_keys(self, prompt_id: str | None, text: Mapping[str, str] | None = None,
                               **variables: Any) -> None:
        """Play a greeting or an announcement; a key the caller presses meanwhile (the switch drops it) is kept
        for the next menu (type-ahead), when the engine and the menu allow it."""
        if not self._type_ahead_allowed():
            await self.say(prompt_id, text=text, **variables)
            return
        self.call.flush_dtmf()
        await self.say(prompt_id, text=text, **variables)
        pressed = [getattr(d, "digit", str(d)) for d in self.call.flush_dtmf()]
        if pressed:
            self._typeahead = pressed
            self.log_step("type_ahead", f"ivr: {''.join(pressed)} pressed during {prompt_id or 'an announcement'}",
                          keys="".join(pressed))

    def _speech_options(self, node: MenuNode) -> dict[str, tuple[str, ...]]:
        """Keywords per option when this node can be answered by voice now, else empty (keys only)."""
        from ivr.runtime.speech import speech_available, speech_options

        if not speech_available(self.asr):
            return {}
        return speech_options(node, self.lang, self.definition.languages)

    async def _listen_menu(self, node: MenuNode, files: list[str],
                           spoken: dict[str, tuple[str, ...]]) -> tuple[str, str | None]:
        """One speech-or-key turn: (key or option key or "", why speech failed or None)."""
        from ivr.runtime import speech

        heard = await speech.listen(self, files, spoken)
        self.stats.speech[heard.outcome] += 1
        if heard.outcome == "dtmf":
            return heard.key or "", None
        detail = dict(node=node.id, text=heard.text or None, phrase=heard.phrase, confidence=heard.confidence)
        if heard.outcome == "accepted":
            self.log_step("speech", f"ivr: heard {heard.phrase or heard.text!r} at {node.id}", key=heard.key,
                          **detail)
            return heard.key or "", None
        if heard.outcome == "confirm":
            self.log_step("speech", f"ivr: maybe {heard.phrase or heard.text!r} at {node.id}", key=heard.key,
                          outcome="confirm", **detail)
            if await speech.confirm(self, heard):
                return heard.key or "", None
            self.stats.speech["denied"] += 1
            self.log_step("speech_rejected", f"ivr: {heard.phrase!r} not confirmed at {node.id}", **detail)
            return "", "denied"
        event = "speech_no_input" if heard.outcome == "no_input" else "speech_rejected"
        self.log_step(event, f"ivr: no usable speech at {node.id} ({heard.outcome})", outcome=heard.outcome,
                      **detail)
        return "", heard.outcome

    async def _node_announcement(self, node: AnnouncementNode) -> str | None:
        hours = self.definition.business_hours
        if not node.in_schedule(self.now(), hours.timezone if hours is not None else "Asia/Shanghai"):
            self.log_step("announcement_skipped", f"ivr: {node.id} is out of its schedule", node=node.id)
            return node.next or self._previous_menu()
        await self.say_keeping_keys(node.prompt, text=node.text)
        self.log_step("announcement", f"ivr: heard {node.id}", node=node.id)
        return node.next or self._previous_menu()

    async def _node_digits(self, node: DigitInputNode) -> str | None:
        value = await self.enter_digits(node.prompt, node.min_length, node.max_length, retries=node.retries,
                                        text=node.text, terminator=node.terminator, timeout=node.timeout)
        if value is None:
            if node.on_failure:
                return node.on_failure
            return await self.give_up()
        self.variables[node.variable] = value
        self.log_step("digits", f"ivr: {node.variable} entered", node=node.id, variable=node.variable)
        return node.next

    async def _node_action(self, node: ActionNode) -> str | None:
        flow = self.flows[node.action]
        self.stats.actions[node.action] += 1
        self.log_step("action", f"ivr: {node.action}", node=node.id, action=node.action)
        result = await flow(self, node)
        if result == LEFT or self.left:
            return LEFT
        self.served = True
        return node.next or self._previous_menu()

    async def _node_queue(self, node: QueueNode) -> str | None:
        await self.to_agent("caller_choice", queue=node.queue, skills=node.skills,
                            prompt=node.prompt or None, text=node.text)
        return LEFT

    async def _node_voicemail(self, node: VoicemailNode) -> str | None:
        result = await self.node_flows["voicemail"](self, node)
        if result == LEFT:
            return LEFT
        self.served = True
        return node.next or self._previous_menu()

    async def _node_callback(self, node: CallbackNode) -> str | None:
        result = await self.node_flows["callback"](self, node)
        if result == LEFT:
            return LEFT
        self.served = True
        return node.next or self._previous_menu()

    async def _node_goto(self, node: GotoNode) -> str | None:
        return node.target

    async def _node_language(self, node: LanguageNode) -> str | None:
        self.lang = node.language
        self.log_step("language", f"ivr: language {node.language}", node=node.id, language=node.language)
        await self.call.set_var("hotline_language", node.language)
        if node.speaks:
            await self.say(node.prompt, text=node.text)
        return node.next or self._previous_menu()

    async def _node_hangup(self, node: HangupNode) -> str | None:
        if node.speaks:
            await self.say(node.prompt, text=node.text)
        self.log_step("hangup", f"ivr: hung up at {node.id}", node=node.id, cause=node.cause)
        await self.call.hangup(node.cause)
        self.left = True
        return LEFT

    # -- media helpers -------------------------------------------------------------------

    async def files(self, prompt_id: str | None, text: Mapping[str, str] | None = None, lang: str | None = None,
                    **variables: Any) -> list[str]:
        """Media paths for a prompt in the call's language."""
        return list(await self.prompts.files(prompt_id, lang or self.lang, text, **variables))

    async def node_files(self, node: Any) -> list[str]:
        """A node's words; a multilingual node is said once in every language of the menu."""
        langs = self.definition.languages if getattr(node, "multilingual", False) else (self.lang,)
        out: list[str] = []
        for lang in langs:
            out += await self.files(node.prompt, node.text, lang=lang)
        return out

    async def say(self, prompt_id: str | None, text: Mapping[str, str] | None = None, **variables: Any) -> None:
        """Play a prompt to the end (a playback terminator key may cut it short)."""
        files = await self.files(prompt_id, text, **variables)
        if files:
            await self.call.playback(files)

    async def say_all(self, prompts: list[tuple[str, dict[str, Any]]]) -> None:
        """Several prompts as one playback."""
        files: list[str] = []
        for prompt_id, variables in prompts:
            files += await self.files(prompt_id, **variables)
        if files:
            await self.call.playback(files)

    async def ask(self, files: list[str], timeout: float, min_digits: int = 1, max_digits: int = 1,
                  terminators: str = "none", regexp: str = r"^[0-9*#]+$") -> str:
        """Play ``files`` with barge-in and collect keys; ``""`` on timeout."""
        var = f"hotline_in_{next(_counter)}"
        prompt = file_list(files) if files else _SILENCE
        digit_timeout = int(self.config.digit_timeout * 1000) if max_digits > 1 else None
        return await self.call.play_and_get_digits(min_digits, max_digits, 1, int(timeout * 1000), terminators,
                                                   prompt, _SILENCE, var, regexp, digit_timeout)

    async def choose(self, prompt_id: str | None, keys: str, *, retries: int | None = None,
                     text: Mapping[str, str] | None = None, timeout: float | None = None,
                     **variables: Any) -> str | None:
        """A small in-flow menu: the key pressed (one of ``keys``), or None after ``retries`` failures."""
        files = await self.files(prompt_id, text, **variables)
        retries = self.config.retries if retries is None else retries
        failures = 0
        while True:
            key = await self.ask(files, timeout or self.config.input_timeout)
            if key and key in keys:
                return key
            if key and key == self.settings.repeat_key:
                continue
            kind = "timeout" if not key else "invalid"
            failures += 1
            self.errors += 1
            self.stats.errors[kind] += 1
            self.log_step(kind, f"ivr: {kind} at {prompt_id}", prompt=prompt_id, key=key or None)
            if failures > retries or self.errors >= self.settings.max_errors:
                return None
            await self.say("timeout" if kind == "timeout" else "invalid_input")

    async def enter_digits(self, prompt_id: str | None, min_length: int, max_length: int, *,
                           retries: int | None = None, text: Mapping[str, str] | None = None, terminator: str = "#",
                           timeout: float | None = None, **variables: Any) -> str | None:
        """Collect a digit string ending with ``terminator``; None after ``retries`` failures."""
        files = await self.files(prompt_id, text, **variables)
        retries = self.config.retries if retries is None else retries
        failures = 0
        while True:
            value = await self.ask(files, timeout or self.config.input_timeout, min_length, max_length,
                                   terminator, r"^\d+$")
            if value and min_length <= len(value) <= max_length:
                return value
            kind = "timeout" if not value else "invalid"
            failures += 1
            self.errors += 1
            self.stats.errors[kind] += 1
            self.log_step(kind, f"ivr: {kind} entering digits at {prompt_id}", prompt=prompt_id)
            if failures > retries or self.errors >= self.settings.max_errors:
                return None
            await self.say("timeout" if kind == "timeout" else "invalid_input")

    # -- leaving the IVR -------------------------------------------------------------------

    async def to_agent(self, reason: str, *, queue: str | None = None, skills: tuple[str, ...] | None = None,
                       prompt: str | None = "transferring", text: Mapping[str, str] | None = None) -> str:
        """Hand the caller to a person (the ACD hook); returns LEFT."""
        request = HandoffRequest(
            queue=queue or self.settings.agent_queue, skills=tuple(skills or self.settings.agent_skills),
            reason=reason, language=self.lang, customer_id=self.customer_id,
            vip=bool(self.caller and self.caller.vip), blacklisted=self.blacklisted,
            media_source=self.media_source, menu_version=self.menu_version, path=tuple(self.path))
        self.stats.handoffs[reason] += 1
        self.handed_off = True
        self.report(events.IVR_OUTCOME, outcome=IvrOutcome.TO_AGENT.value,
                    exit_node=self.path[-1] if self.path else None)
        self.log_step("handoff", f"ivr: to agents ({reason})", reason=reason, queue=request.queue,
                      skills=list(request.skills))
        if prompt or text:
            await self.say(prompt, text=text)
        await self.handoff.hand_off(self.call, request)
        self.left = True
        return LEFT

    async def give_up(self) -> str:
        """Too many errors in a flow: say so and hand the caller to an agent."""
        return await self.to_agent("too_many_errors", prompt="too_many_errors")

    # -- records -----------------------------------------------------------------------------

    def log_step(self, event: str, summary: str, **detail: Any) -> None:
        """Log one step as an interaction, in the background but in order (awaited before the session ends)."""
        detail = {"event": event, "lang": self.lang, **{k: v for k, v in detail.items() if v is not None}}

        def write(_: Any) -> defer.Deferred:
            return self.gateway.log_interaction(call_uuid=self.uuid, customer_id=self.customer_id,
                                                address=self.address, summary=summary, detail=detail)

        def failed(f: Any) -> None:
            log.warning("call %s: interaction %s not logged: %s", self.uuid, event, f.getErrorMessage())

        self._log_chain = self._log_chain.addCallback(write).addErrback(failed)

    async def _flush_log(self) -> None:
        await self._log_chain
