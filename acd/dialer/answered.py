"""What an answered campaign call meets: machine detection, an agent within the deadline, or a message.

Runs on the answered leg the campaign dialplan hands to the CallServer
(``socket ... async full``). With an answering-machine policy other than
``off`` (and mod_amd on the switch: ``DialerConfig.amd_available``) it runs
mod_amd's ``amd`` first: on a machine it hangs up, or waits
for mod_avmd's beep and plays the campaign's voice file, or (policy
``live``) goes on as with a person. An automated campaign plays its voice
file or runs its IVR script. Otherwise the call is offered to the
campaign's agents with the connect deadline (2 s): taken, it stays until it
ends; not taken, it hears the identification message (who called, a number
to call back) and is hung up, an abandoned call. The attempt is closed when
the leg hangs up, with everything learnt on the way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime

from acd.dialer.agents import CampaignAgents, Connected
from acd.dialer.attempts import Attempt
from crm_core.enums import AmdPolicy, CampaignMode
from crm_core.services.dialing import ScriptResult

log = logging.getLogger(__name__)


class AutomatedScript(Protocol):
    def run(self, call: Any, attempt: Attempt) -> defer.Deferred:
        """Run the campaign's IVR script on the answered call; fires with a :class:`ScriptResult`."""


@dataclass
class AnswerContext:
    """The collaborators an answered call needs (built once by the dialer)."""

    clock: IReactorTime
    agents: CampaignAgents
    switch: Any
    connect_deadline: float
    identification_file: str
    beep_wait: float
    record_answered: Callable[[Attempt], defer.Deferred]
    record_connected: Callable[[Attempt], defer.Deferred]
    on_live: Callable[[Attempt, bool], None]
    on_outcome: Callable[[Attempt, str], None]  # "connected" | "abandoned"
    on_handled: Callable[[Attempt, float], None]
    script: AutomatedScript | None = None
    amd_available: bool = False


def _deadline(clock: IReactorTime, d: defer.Deferred, seconds: float) -> defer.Deferred:
    """``d``'s result, or None if it has not fired within ``seconds`` (``d`` is then cancelled)."""
    out: defer.Deferred = defer.Deferred()
    timer = clock.callLater(seconds, lambda: out.called or out.callback(None))

    def done(result: Any) -> Any:
        if timer.active():
            timer.cancel()
        if not out.called:
            out.callback(result)
        return None

    d.addBoth(done)
    return out


async def handle(ctx: AnswerContext, attempt: Attempt, call: Any) -> None:
    """Drive one answered campaign leg to its end; fills ``attempt`` (the dialer closes it)."""
    settings = attempt.settings
    now = ctx.clock.seconds
    if attempt.answered_at is None:
        attempt.answered_at = now()
    if settings.amd_policy != AmdPolicy.OFF and ctx.amd_available:
        event = await call.execute("amd")
        attempt.amd_result = (event.variables.get("amd_result") or call.variables.get("amd_result") or "NOTSURE")
        await ctx.record_answered(attempt)
        if attempt.amd_result == "MACHINE" and settings.amd_policy != AmdPolicy.TREAT_AS_LIVE:
            attempt.live, attempt.result = False, "machine"
            ctx.on_live(attempt, False)
            if settings.amd_policy == AmdPolicy.LEAVE_MESSAGE and settings.voice_file:
                attempt.message_left = await _leave_message(ctx, call, settings.voice_file)
            await call.hangup("NORMAL_CLEARING")
            return
    else:
        await ctx.record_answered(attempt)
    attempt.live, attempt.live_at = True, now()
    ctx.on_live(attempt, True)
    if settings.mode == CampaignMode.IVR:
        await _automated(ctx, attempt, call)
        return
    await offer_to_agents(ctx, attempt, call)


async def offer_to_agents(ctx: AnswerContext, attempt: Attempt, call: Any) -> None:
    """Offer a live call to the campaign's agents with the connect deadline; stay until it ends.

    Nobody took it in time: the identification message, hang-up, an abandoned call. The wait to the
    agent counts from ``attempt.live_at`` (when the call was known to need one).
    """
    settings = attempt.settings
    now = ctx.clock.seconds
    offer = ctx.agents.connect(call, settings.id, ctx.connect_deadline)
    connected: Connected | None = await _deadline(ctx.clock, offer, ctx.connect_deadline)
    if connected is None:
        attempt.result = "abandoned"
        ctx.on_outcome(attempt, "abandoned")
        await call.playback(settings.abandon_message or ctx.identification_file)
        await call.hangup("NORMAL_CLEARING")
        return
    attempt.agent_id, attempt.connected_at = connected.agent_id, now()
    attempt.wait_to_agent = attempt.connected_at - attempt.live_at
    attempt.result = "answered"
    ctx.on_outcome(attempt, "connected")
    connected.done.addCallback(lambda seconds: ctx.on_handled(attempt, seconds))
    await ctx.record_connected(attempt)
    ended = defer.DeferredList([connected.ended, call.when_hung_up()], fireOnOneCallback=True, consumeErrors=True)
    await ended
    if not call.hung_up:
        await call.hangup("NORMAL_CLEARING")


async def _leave_message(ctx: AnswerContext, call: Any, voice_file: str) -> bool:
    """Wait for the machine's beep (mod_avmd), then play the voice file; True if it was played."""
    beeped: defer.Deferred = defer.Deferred()

    def on_beep(event: Any) -> None:
        if event.get("Unique-ID") == call.uuid and not beeped.called:
            beeped.callback(True)

    ctx.switch.subscribe("CUSTOM", on_beep, subclass="avmd::beep")
    try:
        await call.execute("avmd_start")
        heard = await _deadline(ctx.clock, beeped, ctx.beep_wait)
        if not heard or call.hung_up:
            return False
        result = await call.playback(voice_file)
        return bool(result.played) and not call.hung_up
    finally:
        ctx.switch.unsubscribe("CUSTOM", on_beep, subclass="avmd::beep")


async def _automated(ctx: AnswerContext, attempt: Attempt, call: Any) -> None:
    settings = attempt.settings
    attempt.result = "answered"
    if settings.ivr_script and ctx.script is not None:
        outcome: ScriptResult = await ctx.script.run(call, attempt)
        attempt.answers.update(outcome.answers)
        attempt.do_not_call = attempt.do_not_call or outcome.do_not_call
        if outcome.failure:
            attempt.result, attempt.cause = "failed", outcome.failure
        elif outcome.to_agent and not call.hung_up:
            attempt.live_at = ctx.clock.seconds()  # the 2-s rule runs from the moment the person asked
            await offer_to_agents(ctx, attempt, call)
            return
    elif settings.voice_file:
        result = await call.playback(settings.voice_file)
        attempt.message_left = bool(result.played)
    else:
        attempt.result, attempt.cause = "failed", "NO_SCRIPT"
        log.error("campaign %s: automated call %s has no script runner and no voice file", settings.id, call.uuid)
    if not call.hung_up:
        await call.hangup("NORMAL_CLEARING")
