"""The dialer loop: ask pacing how many calls to place, claim contacts, check compliance, originate, record.

Every ``tick_seconds`` (a clock timer, so tests drive it with ``task.Clock``)
and whenever a call ends, for each running campaign:

1. outside the campaign's calling window: nothing;
2. ``Pacer.decide`` with the campaign's agents (an injected
   :class:`~acd.dialer.agents.CampaignAgents`) and its calls in flight;
3. ``claim_due_contacts`` through the DB gateway: the contacts come with
   an *open* attempt row and their ``origination_uuid``, the DNC list and
   each contact's calling hours checked at that moment;
4. ``originate`` through the Switch (``bgapi``) with the campaign's caller
   ID, ring time (never under 15 s) and ids as channel variables, to the
   ``campaign`` context of the dialplan, which hands an answered leg to
   the CallServer -- :meth:`Dialer.handle_call` runs it (``answered.py``);
5. results: ``-ERR <cause>`` closes the attempt (busy, no answer, failed);
   an answered leg is closed when it hangs up, with its disposition.

A paused or stopped campaign gets no new claims (the claim itself refuses
them, so it is "at once"); calls in flight run to their end. Edits of a
running campaign arrive with the claims' ``pacing_version`` and are
reloaded. At start the dialer resolves the open attempts it left behind
(``attempt_recovery.recover_open_attempts``: live channels are watched to their end, the
rest closed from what is known) and restores each campaign's abandon
counts, so a restart loses no attempt and dials nobody twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from sqlalchemy.orm import Session
from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall

from acd.dialer import answered
from acd.dialer.agents import CampaignAgents
from acd.dialer.attempts import Attempt, result_for_cause
from acd.dialer.compliance import CampaignCompliance, NoCallerId, caller_id, check_time, ring_timeout
from acd.dialer.pacing import Pacer, PacingPolicy, Snapshot
from acd.dialer.stats import AbandonBudget
from crm_core import call_events
from crm_core.campaign_rules import CONNECT_DEADLINE_SECONDS
from crm_core.phones import national_digits
from crm_core.services import attempt_recovery, campaign_figures, dialing
from freeswitch.esl.errors import ApiError, NotConnected

log = logging.getLogger(__name__)
UTC = dt.timezone.utc


class Gateway(Protocol):
    def run(self, fn: Callable[[Session], Any]) -> defer.Deferred:
        """Run ``fn(session)`` in one transaction off the reactor."""


@dataclass(frozen=True)
class DialerConfig:
    engine_id: str = dialing.DEFAULT_ENGINE_ID
    #: ``{national}`` (what Chinese carriers expect), ``{e164}`` or ``{digits}`` of the contact's number
    dial_string: str = "sofia/gateway/itsp/{national}"
    destination: str = "hotline_campaign XML campaign"
    tick_seconds: float = 1.0
    connect_deadline: float = CONNECT_DEADLINE_SECONDS
    identification_file: str = "campaigns/identification.wav"
    beep_wait: float = 30.0
    max_lines: int | None = None
    caller_id_name: str = "Hotline"
    #: mod_amd (the "amd" application) is loaded on the switch. FreeSWITCH hangs a call up when asked to run an
    #: application it does not have, so without it campaigns' machine policies are not applied (answers are live).
    amd_available: bool = False


class CampaignRun:
    """One campaign the dialer works on: its settings snapshot, compliance, pacer and calls in flight."""

    def __init__(self, settings: dialing.CampaignSettings, clock: IReactorTime, config: DialerConfig) -> None:
        self.settings = settings
        self.compliance = CampaignCompliance(settings, clock)
        self.pacer = Pacer(self._policy(settings, config))
        self.attempts: dict[str, Attempt] = {}
        self.config = config
        self.clock = clock

    @staticmethod
    def _policy(settings: dialing.CampaignSettings, config: DialerConfig) -> PacingPolicy:
        return PacingPolicy(mode=settings.mode, ratio=settings.dial_ratio, abandon_cap=settings.abandon_cap,
                            connect_deadline=config.connect_deadline, max_lines=config.max_lines)

    def reload(self, settings: dialing.CampaignSettings) -> None:
        """New settings (a live edit): pacing, caps and hours change, what was learnt stays."""
        self.settings = settings
        self.compliance = CampaignCompliance(settings, self.clock)
        self.pacer.policy = self._policy(settings, self.config)
        assert self.pacer.budget is not None
        self.pacer.budget.cap = settings.abandon_cap

    def snapshot(self, agents: CampaignAgents) -> Snapshot:
        now = self.clock.seconds()
        view = agents.view(self.settings.id)
        ringing = [now - a.placed_at for a in self.attempts.values() if a.ringing]
        # answered and not yet with an agent: waiting for one, or still in machine detection (may be a person)
        waiting = sum(1 for a in self.attempts.values()
                      if a.answered_at is not None and a.result is None and a.live is not False)
        return Snapshot(view.free, view.busy_elapsed, ringing, waiting, lines_in_use=len(self.attempts))


class Dialer:
    """Dials the running campaigns; see the module docstring."""

    def __init__(self, clock: IReactorTime, switch: Any, gateway: Gateway, agents: CampaignAgents,
                 config: DialerConfig | None = None, *, script: answered.AutomatedScript | None = None,
                 reporter: call_events.CallReporter | None = None) -> None:
        self.clock = clock
        #: the engine's call recorder: every campaign leg gets its CDR (outbound, campaign and attempt linked)
        self.reporter = reporter
        #: called with each attempt once its result is stored (the preview desk frees its agent)
        self.on_closed: list[Callable[[Attempt], Any]] = []
        self.switch = switch
        self.gateway = gateway
        self.agents = agents
        self.config = config or DialerConfig()
        self.campaigns: dict[int, CampaignRun] = {}
        self._by_uuid: dict[str, Attempt] = {}
        self._loop: LoopingCall | None = None
        self._ticking = False
        self._unsaved: list[Attempt] = []
        self.answer_context = answered.AnswerContext(
            clock=clock, agents=agents, switch=switch, connect_deadline=self.config.connect_deadline,
            identification_file=self.config.identification_file, beep_wait=self.config.beep_wait,
            amd_available=self.config.amd_available,
            record_answered=self._record_answered, record_connected=self._record_connected,
            on_live=self._on_live, on_outcome=self._on_outcome, on_handled=self._on_handled, script=script)

    # -- life ----------------------------------------------------------------------------------------
    def subscribe(self) -> None:
        """All switch event bindings of the dialer, in one place."""
        self.switch.subscribe("CHANNEL_ANSWER", self._on_answer_event)
        self.switch.subscribe("CHANNEL_HANGUP_COMPLETE", self._on_hangup_event)

    async def start(self) -> None:
        """Recover what a previous run left behind, then tick."""
        self.subscribe()
        await self.recover()
        self._loop = LoopingCall(self.tick)
        self._loop.clock = self.clock
        self._loop.start(self.config.tick_seconds, now=True).addErrback(
            lambda f: log.error("dialer loop stopped: %s", f.getTraceback()))

    def stop(self) -> None:
        """No new calls; calls in flight are left to end (their attempts close as they do)."""
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._loop = None

    async def recover(self) -> attempt_recovery.Recovery:
        """Resolve the open attempts of this engine: keep watching live channels, close the rest."""
        live: dict[str, bool] = {}
        try:
            for row in await self.switch.show_channels():
                live[row.uuid] = row.callstate in ("ACTIVE", "HELD")
        except Exception as exc:  # no switch: nothing is live that we could watch
            log.warning("dialer recovery without the switch's channel list: %s", exc)
        engine, now = self.config.engine_id, self._now()
        report: attempt_recovery.Recovery = await self.gateway.run(
            lambda s: attempt_recovery.recover_open_attempts(s, engine, live, now=now))
        for kept in report.kept:
            run = await self._run_for(kept.campaign_id)
            claim = dialing.Claim(kept.attempt_id, kept.campaign_id, kept.contact_id, None, kept.number,
                                  kept.call_uuid or "", None, 0)
            attempt = Attempt(claim, run.settings, self.clock.seconds(), recovered=True,
                              answered_at=self.clock.seconds() if kept.answered else None)
            run.attempts[attempt.uuid] = attempt
            self._by_uuid[attempt.uuid] = attempt
        log.info("dialer recovery: %d live calls kept, %d attempts closed", len(report.kept), len(report.closed))
        return report

    async def campaign_run(self, campaign_id: int) -> CampaignRun:
        """The campaign's run (loaded with its settings and abandon counts the first time)."""
        return await self._run_for(campaign_id)

    def settings_of(self, campaign_id: int) -> dialing.CampaignSettings | None:
        """The settings snapshot the dialer works from, if it works on the campaign."""
        run = self.campaigns.get(campaign_id)
        return run.settings if run is not None else None

    async def dial_claim(self, claim: dialing.Claim) -> None:
        """Dial one contact claimed elsewhere (the preview desk) like any claim of the loop."""
        run = await self._run_for(claim.campaign_id)
        self._originate(run, claim)

    async def _run_for(self, campaign_id: int) -> CampaignRun:
        run = self.campaigns.get(campaign_id)
        if run is None:
            settings = await self.gateway.run(lambda s: dialing.campaign_settings(s, campaign_id))
            run = CampaignRun(settings, self.clock, self.config)
            now = self._now()
            counts = await self.gateway.run(lambda s: campaign_figures.abandon_counts(s, campaign_id, now=now))
            run.pacer.budget = AbandonBudget(settings.abandon_cap, answered=counts.answered,
                                             abandoned=counts.abandoned, answered_window=counts.answered_30d,
                                             abandoned_window=counts.abandoned_30d, now=self.clock.seconds())
            self.campaigns[campaign_id] = run
        return run

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock.seconds(), UTC)

    # -- the loop ------------------------------------------------------------------------------------
    def tick(self) -> defer.Deferred | None:
        """One pass over the campaigns (skipped while the previous one still waits on the database)."""
        if self._ticking:
            return None
        self._ticking = True
        d = defer.ensureDeferred(self._tick())
        d.addErrback(lambda f: log.error("dialer tick failed: %s", f.getTraceback()))
        d.addBoth(self._ticked)
        return d

    def _ticked(self, _: Any) -> None:
        self._ticking = False

    async def _tick(self) -> None:
        await self._retry_unsaved()
        listed = await self.gateway.run(dialing.running_campaigns)
        for campaign_id, version, status in listed:
            run = await self._run_for(campaign_id)
            if run.settings.pacing_version != version or run.settings.status != status:
                run.reload(await self.gateway.run(lambda s, c=campaign_id: dialing.campaign_settings(s, c)))
            if status == "running":
                await self._dial(run)
        for campaign_id in set(self.campaigns) - {c for c, _v, _s in listed}:
            run = self.campaigns[campaign_id]
            if not run.attempts:
                del self.campaigns[campaign_id]  # stopped or completed, nothing in flight

    async def _dial(self, run: CampaignRun) -> None:
        if not run.compliance.any_zone_open():
            return  # nobody may be called now: claim nothing (no blocked attempt for every contact)
        if not self.switch.connected:
            return
        wanted = run.pacer.decide(run.snapshot(self.agents), self.clock.seconds()).calls
        if wanted <= 0:
            return
        try:
            caller_id(run.settings)
        except NoCallerId as exc:
            log.error("%s", exc)
            return
        campaign_id, engine, now, screen = run.settings.id, self.config.engine_id, self._now(), run.compliance.screen
        batch: dialing.ClaimBatch = await self.gateway.run(
            lambda s: dialing.claim_due_contacts(s, campaign_id, wanted, now=now, engine_id=engine, screen=screen))
        for claim in batch.claims:
            self._originate(run, claim)
        if batch.pacing_version != run.settings.pacing_version:
            run.reload(await self.gateway.run(lambda s: dialing.campaign_settings(s, campaign_id)))

    def _originate(self, run: CampaignRun, claim: dialing.Claim) -> None:
        settings = run.settings
        attempt = Attempt(claim, settings, self.clock.seconds())
        run.attempts[attempt.uuid] = attempt
        self._by_uuid[attempt.uuid] = attempt
        verdict = check_time(self._now(), run.compliance.rules)  # the window may have closed since the claim
        if not verdict.allowed and verdict.reason:
            self._release(attempt, "HOURS", verdict.not_before or self._now())
            return
        run.pacer.placed(attempt.uuid, attempt.placed_at)
        variables = {
            "origination_caller_id_number": national_digits(caller_id(settings)),
            "origination_caller_id_name": self.config.caller_id_name,
            "hotline_campaign_id": settings.id, "hotline_contact_id": claim.contact_id,
            "hotline_attempt_id": claim.attempt_id, "hotline_amd": settings.amd_policy,
            # what the campaign dialplan plays if the engine cannot take the answered call
            "hotline_abandon_message": settings.abandon_message or self.config.identification_file,
            "hotline_contact_number": claim.number,
        }
        if claim.customer_id is not None:
            variables["hotline_customer_id"] = claim.customer_id
        self._report(call_events.ENTERED, attempt, direction="outbound", ani=national_digits(caller_id(settings)),
                     dnis=claim.number, campaign_id=settings.id, customer_id=claim.customer_id)
        self._report(call_events.LINKED, attempt, kind="campaign_attempts", value=claim.attempt_id)
        dial = self.config.dial_string.format(national=national_digits(claim.number), e164=claim.number,
                                              digits=claim.number.lstrip("+"))
        d = self.switch.originate(dial, self.config.destination, variables, ring_timeout(settings.ring_seconds),
                                  origination_uuid=claim.call_uuid)
        d.addCallbacks(lambda _uuid: self._answered_now(attempt), lambda f: self._originate_failed(attempt, f))

    def _answered_now(self, attempt: Attempt) -> None:
        if attempt.answered_at is None:
            attempt.answered_at = self.clock.seconds()

    def _originate_failed(self, attempt: Attempt, failure: Any) -> None:
        if failure.check(ApiError):
            cause = failure.value.reply.removeprefix("-ERR").strip() or "NORMAL_TEMPORARY_FAILURE"
            attempt.result, attempt.cause = result_for_cause(cause), cause
            self._pacer(attempt).failed(self.clock.seconds() - attempt.placed_at, attempt.uuid, self.clock.seconds())
            self._close(attempt)
        elif failure.check(NotConnected):
            self._release(attempt, "NOT_SENT", None)
        else:  # timed out or lost the connection: the call may be live; its hangup (or recovery) decides
            log.warning("originate %s: no result (%s); waiting for the channel's end", attempt.uuid,
                        failure.getErrorMessage())

    # -- switch events --------------------------------------------------------------------------------
    def _on_answer_event(self, event: Any) -> None:
        attempt = self._by_uuid.get(event.uuid)
        if attempt is not None:
            self._answered_now(attempt)

    def _on_hangup_event(self, event: Any) -> None:
        attempt = self._by_uuid.get(event.uuid)
        if attempt is None or attempt.call is not None or attempt.closing:
            return  # not ours, or its handler closes it with the whole story
        cause = event.get("Hangup-Cause") or "NORMAL_CLEARING"
        if attempt.result is None:
            if attempt.answered_at is None:
                attempt.result = result_for_cause(cause)
            elif attempt.recovered:  # a previous run of the engine had it: it was handled there
                attempt.result = "answered"
            else:  # answered, but the engine never got it: the dialplan's identification message, then gone
                attempt.result = "abandoned"
                self._pacer(attempt).abandoned(self.clock.seconds())
        attempt.cause = attempt.cause or cause
        self._close(attempt)

    # -- answered calls ---------------------------------------------------------------------------------
    async def handle_call(self, call: Any) -> None:
        """The CallServer handler for answered campaign legs (``hotline_attempt_id`` on the channel)."""
        attempt = self._by_uuid.get(call.uuid)
        if attempt is None:
            log.error("campaign leg %s is not one of this dialer's calls; hanging up", call.uuid)
            await call.hangup("NORMAL_CLEARING")
            return
        attempt.call = call
        try:
            await answered.handle(self.answer_context, attempt, call)
        except Exception as exc:  # hung up on the way, or a failure: the attempt is still closed below
            if not call.hung_up:
                log.error("campaign call %s failed: %s", call.uuid, exc)
                await call.hangup("NORMAL_TEMPORARY_FAILURE")
        cause = await call.when_hung_up()
        attempt.cause = attempt.cause or cause
        if attempt.result is None:
            attempt.result = "answered"
        attempt.call = None
        self._close(attempt)

    def _pacer(self, attempt: Attempt) -> Pacer:
        return self.campaigns[attempt.claim.campaign_id].pacer

    def _report(self, event: str, attempt: Attempt, /, **fields: Any) -> None:
        """One step of the campaign leg's call record (never raises: the call goes on without it)."""
        if self.reporter is None or not attempt.uuid:
            return
        try:
            self.reporter.report(call_events.CallEvent(event, attempt.uuid, self.clock.seconds(), fields))
        except Exception:
            log.exception("campaign call %s: CDR %s not reported", attempt.uuid, event)

    def _record_answered(self, attempt: Attempt) -> defer.Deferred:
        if not attempt.reported_answer:
            attempt.reported_answer = True
            self._report(call_events.ANSWERED, attempt)
        at = dt.datetime.fromtimestamp(attempt.answered_at or self.clock.seconds(), UTC)
        attempt_id, amd = attempt.claim.attempt_id, attempt.amd_result
        return self.gateway.run(lambda s: dialing.mark_answered(s, attempt_id, at=at, amd_result=amd))

    def _record_connected(self, attempt: Attempt) -> defer.Deferred:
        at = self._now()
        attempt_id, agent_id, wait = attempt.claim.attempt_id, attempt.agent_id, attempt.wait_to_agent or 0.0
        return self.gateway.run(lambda s: dialing.mark_connected(s, attempt_id, agent_id=agent_id,
                                                                 wait_seconds=wait, at=at))

    def _on_live(self, attempt: Attempt, live: bool) -> None:
        delay = self.clock.seconds() - attempt.placed_at
        self._pacer(attempt).answered(delay, live, attempt.uuid, self.clock.seconds())

    def _on_outcome(self, attempt: Attempt, outcome: str) -> None:
        pacer = self._pacer(attempt)
        (pacer.connected if outcome == "connected" else pacer.abandoned)(self.clock.seconds())

    def _on_handled(self, attempt: Attempt, seconds: float) -> None:
        run = self.campaigns.get(attempt.claim.campaign_id)
        if run is not None:
            run.pacer.handled(seconds)

    # -- closing -----------------------------------------------------------------------------------------
    def _close(self, attempt: Attempt) -> None:
        if not attempt.closing:  # the record: the ACD ended the part with an agent; the dialer ends the rest
            if attempt.agent_id is None:
                self._report(call_events.ENDED, attempt, disposition=attempt.result or "failed",
                             hangup_cause=attempt.cause)
            self._report(call_events.HANGUP, attempt, cause=attempt.cause or "NORMAL_CLEARING",
                         side="caller" if attempt.answered_at is not None else "system")
        attempt.closing = True
        now = self._now()
        talk = attempt.talk_seconds(self.clock.seconds()) if attempt.result == "answered" else None
        a = attempt

        def close(session: Session) -> dialing.Closed:
            return dialing.close_attempt(
                session, a.claim.attempt_id, a.result or "failed", at=now, hangup_cause=a.cause, talk_seconds=talk,
                agent_id=a.agent_id, wait_to_agent=a.wait_to_agent, amd_result=a.amd_result,
                message_left=a.message_left, answers=a.answers or None, do_not_call=a.do_not_call)

        self.gateway.run(close).addCallbacks(lambda _c: self._forget(attempt), lambda f: self._unsaved_close(a, f))

    def _release(self, attempt: Attempt, cause: str, blocked_until: dt.datetime | None) -> None:
        if blocked_until is None and not attempt.closing:  # its record was opened: the call never left
            self._report(call_events.ENDED, attempt, disposition="not_sent", hangup_cause=cause)
            self._report(call_events.HANGUP, attempt, cause=cause, side="system")
        attempt.closing = True
        now, attempt_id = self._now(), attempt.claim.attempt_id
        self.gateway.run(lambda s: dialing.release_unsent(s, attempt_id, at=now, cause=cause,
                                                          blocked_until=blocked_until)).addCallbacks(
            lambda _c: self._forget(attempt), lambda f: self._unsaved_close(attempt, f))

    def _unsaved_close(self, attempt: Attempt, failure: Any) -> None:
        log.error("could not record attempt %s (will retry): %s", attempt.claim.attempt_id, failure.getErrorMessage())
        self._unsaved.append(attempt)

    async def _retry_unsaved(self) -> None:
        pending, self._unsaved = self._unsaved, []
        for attempt in pending:
            self._close(attempt)

    def _forget(self, attempt: Attempt) -> None:
        self._by_uuid.pop(attempt.uuid, None)
        run = self.campaigns.get(attempt.claim.campaign_id)
        if run is not None:
            run.attempts.pop(attempt.uuid, None)
        for hook in list(self.on_closed):
            try:
                hook(attempt)
            except Exception:
                log.exception("attempt %s: closed hook failed", attempt.claim.attempt_id)

    # -- figures -------------------------------------------------------------------------------------------
    def status(self, campaign_id: int) -> dict[str, Any]:
        """Live figures of one campaign: calls in flight, the pace, the abandon rate the pacer holds."""
        run = self.campaigns.get(campaign_id)
        if run is None:
            return {"campaign_id": campaign_id, "active": False}
        decision, budget = run.pacer.last, run.pacer.budget
        view = self.agents.view(campaign_id)
        return {"campaign_id": campaign_id, "active": True, "mode": run.settings.mode,
                "status": run.settings.status, "engine_id": self.config.engine_id,
                "ringing": sum(1 for a in run.attempts.values() if a.ringing),
                "in_flight": len(run.attempts), "last_decision": decision.calls, "target": decision.target,
                "abandon_rate": budget.rate() if budget else 0.0, "agents": view.free,
                "agents_busy": len(view.busy_elapsed)}

    def statuses(self) -> list[dict[str, Any]]:
        """The live figures of every campaign the dialer works on or still has calls of."""
        return [self.status(campaign_id) for campaign_id in sorted(self.campaigns)]

