"""Preview dialling: the agent sees the next contact, then dials it or skips it.

:class:`PreviewDesk` is the backend the agent desk calls (engine service
``preview``). ``next(agent_id)`` claims the next due contact of a running
preview campaign the agent works on -- the same claim as the dialer loop's
(an open attempt with its call uuid, DNC and calling hours screened, mode
``preview``) -- and holds it for the agent. ``dial`` places the call;
``skip`` closes the attempt with the agent's reason. A contact claimed and
neither dialled nor skipped within ``release_after`` seconds is released
(the try is not counted, the contact is due again), and so are the held
contacts when the engine stops.

Dialling goes customer first, then the agent: the agent is reserved in the
ACD (ringing, reason ``campaign``, so no inbound call is offered meanwhile),
the dialer originates the attempt exactly as it does for its own claims
(caller ID, ring time, the compliance check at dial time, the call
record), and the answered call is bridged to the reserved agent by the ACD
within the 2-second rule. One road for every campaign call means one set
of records and rules; the cost is that the agent does not hear the
contact's phone ring (agents' phones should auto-answer, as for every
blended agent). The reservation ends with the attempt (not answered,
busy...) or turns into the call.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime

from acd.exceptions import AcdError
from crm_core.enums import CampaignMode, CampaignStatus
from crm_core.services import dialing

log = logging.getLogger(__name__)
UTC = dt.timezone.utc

#: A contact held longer than this without a dial or a skip goes back (seconds).
RELEASE_AFTER = 600.0


class PreviewError(AcdError, ValueError):
    """The request cannot be done (not this agent's contact, agent not free, unknown reason); the desk shows it."""

    error_id = "acd-preview-refused"


class PreviewAgents(Protocol):
    def works_on(self, agent_id: int, campaign_id: int) -> bool:
        """The agent works on the campaign (is one of its agents)."""

    def reserve(self, agent_id: int, call_uuid: str) -> None:
        """Hold a free agent for the call about to be placed (raises if the agent is not free)."""

    def release(self, call_uuid: str) -> None:
        """The reserved call will not reach the agent: free the agent (nothing if the call did)."""


@dataclass
class _Held:
    agent_id: int
    claim: dialing.Claim
    campaign_name: str
    timer: Any = None


class PreviewDesk:
    """Preview dialling for agents; see the module docstring. Every method returns a Deferred."""

    def __init__(self, clock: IReactorTime, gateway: Any, dialer: Any, agents: PreviewAgents, *,
                 release_after: float = RELEASE_AFTER) -> None:
        self.clock = clock
        self.gateway = gateway
        self.dialer = dialer
        self.agents = agents
        self.release_after = release_after
        self._held: dict[int, _Held] = {}  # attempt id -> held contact
        self._dialled: set[str] = set()  # call uuids of reserved agents' calls in flight
        dialer.on_closed.append(self._closed)

    # -- the interface ----------------------------------------------------------------------------------

    def next(self, agent_id: int) -> defer.Deferred:
        """The agent's next contact (a dict, see :meth:`_view`), or None when nothing is due."""
        return defer.ensureDeferred(self._next(agent_id))

    def dial(self, agent_id: int, attempt_id: int) -> defer.Deferred:
        """Place the held contact's call; fires with ``{"call_uuid": ...}`` once the originate is sent."""
        return defer.ensureDeferred(self._dial(agent_id, attempt_id))

    def skip(self, agent_id: int, attempt_id: int, reason: str) -> defer.Deferred:
        """Close the held contact's attempt as skipped: ``wrong_number``, ``do_not_call`` (DNC list) or ``later``."""
        return defer.ensureDeferred(self._skip(agent_id, attempt_id, reason))

    def stop(self) -> defer.Deferred:
        """The engine stops: every held contact goes back (not dialled, the try not counted)."""
        return defer.DeferredList([self._release(attempt_id, "ENGINE_STOP") for attempt_id in list(self._held)],
                                  consumeErrors=True)

    # -- steps ------------------------------------------------------------------------------------------

    async def _next(self, agent_id: int) -> dict[str, Any] | None:
        for held in self._held.values():
            if held.agent_id == agent_id:
                return self._view(held)  # one contact at a time: the same one until dialled or skipped
        listed = await self.gateway.run(dialing.running_campaigns)
        for campaign_id, _version, status in listed:
            if status != CampaignStatus.RUNNING.value:
                continue
            run = await self.dialer.campaign_run(campaign_id)
            if run.settings.mode != CampaignMode.PREVIEW.value or not self.agents.works_on(agent_id, campaign_id):
                continue
            if not run.compliance.any_zone_open():
                continue
            now, engine, screen = self._now(), self.dialer.config.engine_id, run.compliance.screen
            batch = await self.gateway.run(lambda s, c=campaign_id: dialing.claim_due_contacts(
                s, c, 1, now=now, engine_id=engine, screen=screen, mode=CampaignMode.PREVIEW.value))
            if batch.claims:
                claim = batch.claims[0]
                held = _Held(agent_id, claim, run.settings.name)
                held.timer = self.clock.callLater(self.release_after, self._expired, claim.attempt_id)
                self._held[claim.attempt_id] = held
                return self._view(held)
        return None

    async def _dial(self, agent_id: int, attempt_id: int) -> dict[str, Any]:
        held = self._take(agent_id, attempt_id)
        call_uuid = held.claim.call_uuid
        try:
            self.agents.reserve(agent_id, call_uuid)
        except Exception as exc:
            self._hold_again(held)
            raise PreviewError(f"agent {agent_id} cannot dial now: {exc}") from None
        self._dialled.add(call_uuid)
        try:
            await self.dialer.dial_claim(held.claim)
        except Exception:
            self._dialled.discard(call_uuid)
            self.agents.release(call_uuid)
            self._hold_again(held)
            raise
        return {"call_uuid": call_uuid}

    async def _skip(self, agent_id: int, attempt_id: int, reason: str) -> None:
        if reason not in dialing.SKIP_REASONS:
            raise PreviewError(f"unknown skip reason {reason!r} (one of {', '.join(dialing.SKIP_REASONS)})")
        held = self._take(agent_id, attempt_id)
        now = self._now()
        try:
            await self.gateway.run(lambda s: dialing.skip_attempt(s, attempt_id, reason, at=now,
                                                                  by=f"agent {agent_id}"))
        except Exception:
            self._hold_again(held)
            raise
        return None

    # -- holding ---------------------------------------------------------------------------------------

    def _take(self, agent_id: int, attempt_id: int) -> _Held:
        held = self._held.get(attempt_id)
        if held is None or held.agent_id != agent_id:
            raise PreviewError(f"attempt {attempt_id} is not a contact agent {agent_id} holds")
        del self._held[attempt_id]
        if held.timer is not None and held.timer.active():
            held.timer.cancel()
        return held

    def _hold_again(self, held: _Held) -> None:
        held.timer = self.clock.callLater(self.release_after, self._expired, held.claim.attempt_id)
        self._held[held.claim.attempt_id] = held

    def _expired(self, attempt_id: int) -> None:
        log.info("preview attempt %s neither dialled nor skipped: released", attempt_id)
        self._release(attempt_id, "PREVIEW_TIMEOUT")

    def _release(self, attempt_id: int, cause: str) -> defer.Deferred:
        held = self._held.pop(attempt_id, None)
        if held is None:
            return defer.succeed(None)
        if held.timer is not None and held.timer.active():
            held.timer.cancel()
        now = self._now()
        d = self.gateway.run(lambda s: dialing.release_unsent(s, attempt_id, at=now, cause=cause))
        d.addErrback(lambda f: log.error("preview attempt %s not released: %s", attempt_id, f.getErrorMessage()))
        return d

    def _closed(self, attempt: Any) -> None:
        """The dialer closed an attempt: a reserved agent whose call did not reach them is free again."""
        uuid = attempt.uuid
        if uuid in self._dialled:
            self._dialled.discard(uuid)
            self.agents.release(uuid)

    def held(self) -> dict[int, int]:
        """attempt id -> agent id of the contacts held now."""
        return {attempt_id: h.agent_id for attempt_id, h in self._held.items()}

    def _view(self, held: _Held) -> dict[str, Any]:
        c = held.claim
        return {"attempt_id": c.attempt_id, "campaign_id": c.campaign_id, "campaign_name": held.campaign_name,
                "contact_id": c.contact_id, "number": c.number, "fields": dict(c.data or {}),
                "customer_id": c.customer_id}

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock.seconds(), UTC)
