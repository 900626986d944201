"""The IVR's AgentHandoff implemented by the ACD: the adapter that lets ``ivr`` and ``acd`` stay strangers.

Layering is ``hotline -> ivr | acd``: the IVR only knows its
:class:`~ivr.runtime.handoff.AgentHandoff` hook and the ACD only knows
``Acd.enqueue``; this composition-root module translates a
:class:`~ivr.runtime.handoff.HandoffRequest` into an ``enqueue`` (queue name
mapped to a configured queue, skill names to minimum levels, VIP priority,
customer data for the screen pop) and then finishes the call according to the
:class:`~acd.queues.QueueOutcome`: hang up after service, confirm a booked
callback, apologise when the queue is full, closed or the ACD failed.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

from acd import PRIORITY_NORMAL, PRIORITY_VIP, BridgeLeg
from acd.exceptions import AcdError

log = logging.getLogger(__name__)


def queue_announcer(prompts: Any) -> Callable[[Any, int, "float | None"], Any]:
    """The ACD's position / expected-wait announcement in the caller's language, from the prompt catalogue
    (``queue_position``, ``queue_position_no_estimate``, ``queue_next``); Deferred of the files to play."""
    from acd.estimator import round_for_announcement

    def announce(caller: Any, position: int, expected_wait: float | None) -> Any:
        ahead = max(0, position - 1)
        language = getattr(caller, "language", None) or "zh"
        if ahead == 0:
            return prompts.files("queue_next", language)
        minutes = round_for_announcement(expected_wait)
        if minutes is None:
            return prompts.files("queue_position_no_estimate", language, position=ahead)
        return prompts.files("queue_position", language, position=ahead, wait=minutes)

    return announce


#: Prompt ids (prompts/catalogue or the IVR's runtime texts) per outcome kind.
OUTCOME_PROMPTS = {"full": "queue_still_waiting", "failed": "system_error", "overflow": "system_error"}


class AcdHandoff:
    """``AgentHandoff`` for the IVR: ``await hand_off(call, request)`` runs the caller's whole stay in the ACD."""

    def __init__(self, acd: Any, clock: Any, switch: Callable[[], Any], prompts: Any = None, *,
                 default_queue: str | None = None, aliases: Mapping[str, str] | None = None,
                 skill_level: int = 1, leg_factory: Callable[..., Any] = BridgeLeg) -> None:
        self.acd = acd
        self.clock = clock
        self.switch = switch  # late-bound: the engine builds the Switch after the application
        self.prompts = prompts
        self.default_queue = default_queue
        self.aliases = dict(aliases or {})
        self.skill_level = skill_level
        self.leg_factory = leg_factory
        self.outcomes: list[Any] = []  # recent outcomes, for the engine tests and the demo banner

    def queue_for(self, name: str) -> str:
        """The ACD queue for an IVR queue name: itself if configured, else an alias, else the default."""
        if name in self.acd.queues:
            return name
        target = self.aliases.get(name) or self.default_queue
        if target in self.acd.queues:
            return target
        return next(iter(sorted(self.acd.queues)), name)

    async def hand_off(self, call: Any, request: Any) -> None:
        queue = self.queue_for(request.queue)
        customer: dict[str, Any] = {}
        if request.customer_id is not None:
            customer["id"] = request.customer_id
        if request.vip:
            customer["member_level"] = "vip"
        # the menu nodes the caller went through, as the desk shows them ("language>main>agent")
        path = ">".join(getattr(request, "path", ()) or ()) or None
        await self._stay(call, queue, request.language, lambda leg: self.acd.enqueue(
            leg, queue, skills={name: self.skill_level for name in request.skills}, customer=customer,
            priority=PRIORITY_VIP if request.vip else PRIORITY_NORMAL, ivr_path=path, language=request.language))

    async def resume(self, call: Any, place: Any) -> None:
        """A caller back after an engine restart, its queue place read off its channel (acd/resume.py)."""
        await self._stay(call, place.queue, place.language,
                         lambda leg: self.acd.resumer.resume(leg, place))

    async def _stay(self, call: Any, queue: str, language: str, enter: Callable[[Any], Any]) -> None:
        """Run the caller's stay in the ACD (``enter(leg)`` puts it in line), then finish by the outcome."""
        try:
            outcome = await enter(self.leg_factory(call, self.clock, self.switch()))
        except AcdError as exc:
            log.error("call %s: ACD refused the caller for %s: %s", call.uuid, queue, exc)
            await self._goodbye(call, "system_error", language, "NORMAL_TEMPORARY_FAILURE")
            return
        await self._outcome(call, queue, language, outcome)

    async def _outcome(self, call: Any, queue: str, language: str, outcome: Any) -> None:
        self.outcomes.append(outcome)
        del self.outcomes[:-100]
        log.info("call %s: left queue %s: %s (agent %s)", call.uuid, queue, outcome.kind, outcome.agent_id)
        if outcome.kind == "transferred":  # the switch has the caller now; nothing left for us to say
            return
        if outcome.kind in ("served", "abandoned"):
            if not call.hung_up:
                await call.hangup("NORMAL_CLEARING")
            return
        if outcome.kind == "callback":
            await self._goodbye(call, "callback_booked", language, "NORMAL_CLEARING",
                                wait=max(1, round((outcome.expected_wait or 60) / 60)))
            return
        await self._goodbye(call, OUTCOME_PROMPTS.get(outcome.kind, "system_error"), language,
                            "NORMAL_CLEARING" if outcome.kind != "failed" else "NORMAL_TEMPORARY_FAILURE")

    async def _goodbye(self, call: Any, prompt_id: str, lang: str, cause: str, **variables: Any) -> None:
        """Say ``prompt_id`` (best effort), then hang up with ``cause``: never leave a caller in silence."""
        if call.hung_up:
            return
        try:
            if self.prompts is not None:
                files = await self.prompts.files(prompt_id, lang, **variables)
                if files:
                    await call.playback(files[0] if len(files) == 1 else "file_string://" + "!".join(files))
        except Exception as exc:  # noqa: BLE001 -- the hang-up below must still happen
            log.warning("call %s: prompt %s failed: %s", call.uuid, prompt_id, exc)
        if not call.hung_up:
            await call.hangup(cause)
