"""The dialer's in-memory view of one call in flight, and how a switch cause becomes an attempt result.

The database row (``campaign_attempts``) is the record; this is the cache
the pacing and the answered-call handling work from while the call lives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crm_core.services.dialing import CampaignSettings, Claim

#: originate failure causes -> attempt results (anything else is "failed")
NO_ANSWER_CAUSES = frozenset({"NO_ANSWER", "NO_USER_RESPONSE", "PROGRESS_TIMEOUT", "ALLOTTED_TIMEOUT",
                              "RECOVERY_ON_TIMER_EXPIRE"})
BUSY_CAUSES = frozenset({"USER_BUSY", "CALL_REJECTED", "USER_CHALLENGE"})


def result_for_cause(cause: str) -> str:
    """The attempt result of an originate that failed with ``cause`` (``-ERR <cause>``)."""
    if cause in NO_ANSWER_CAUSES:
        return "no_answer"
    if cause in BUSY_CAUSES:
        return "busy"
    return "failed"


@dataclass
class Attempt:
    """One claimed contact's call, from the originate to the closed attempt."""

    claim: Claim
    settings: CampaignSettings
    placed_at: float
    answered_at: float | None = None
    live_at: float | None = None  # known to need an agent (answered, detection done)
    amd_result: str | None = None
    live: bool | None = None
    agent_id: int | None = None
    connected_at: float | None = None
    wait_to_agent: float | None = None
    message_left: bool = False
    result: str | None = None
    cause: str | None = None
    answers: dict[str, str] = field(default_factory=dict)
    do_not_call: bool = False  # the person asked (in an automated campaign's script) not to be called again
    call: Any = None  # the answered leg on the CallServer, while a handler runs it
    recovered: bool = False
    closing: bool = False
    reported_answer: bool = False  # the call record has its answer

    @property
    def uuid(self) -> str:
        return self.claim.call_uuid

    @property
    def ringing(self) -> bool:
        return self.answered_at is None and self.result is None

    def talk_seconds(self, now: float) -> float | None:
        start = self.connected_at if self.connected_at is not None else self.answered_at
        return None if start is None else max(0.0, now - start)
