"""Handing a caller to a person: the hook the ACD implements, and the default that transfers.

The session never decides how agents are reached; it builds a
:class:`HandoffRequest` (queue, skills, why, who) and awaits
``AgentHandoff.hand_off``. Until ``acd/`` provides its router,
:class:`TransferHandoff` sets the request on the channel as variables (so a
dialplan, queue app or the agent desk can read them) and transfers the call
to a configured extension.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class HandoffRequest:
    """Who needs an agent, with which skills, and why."""

    queue: str
    skills: tuple[str, ...]
    reason: str  # "caller_choice", "too_many_errors", "system_error", "new_address", ...
    language: str
    customer_id: int | None = None
    vip: bool = False
    blacklisted: bool = False
    media_source: str | None = None
    menu_version: int | None = None
    path: tuple[str, ...] = ()  # the menu nodes the caller went through, in order


class AgentHandoff(Protocol):
    """What the ACD implements: take the call off the IVR's hands (async)."""

    async def hand_off(self, call: Any, request: HandoffRequest) -> None: ...


class TransferHandoff:
    """Default hand-off: channel variables for the agent side, then ``transfer <extension> XML <context>``."""

    def __init__(self, extension: str = "agents", context: str = "default") -> None:
        self.extension = extension
        self.context = context
        self.requests: list[HandoffRequest] = []  # for statistics and tests

    async def hand_off(self, call: Any, request: HandoffRequest) -> None:
        self.requests.append(request)
        variables = {
            "hotline_queue": request.queue,
            "hotline_skills": ",".join(request.skills),
            "hotline_handoff_reason": request.reason,
            "hotline_language": request.language,
            "hotline_vip": "true" if request.vip else "false",
            "hotline_blacklisted": "true" if request.blacklisted else "false",
        }
        if request.customer_id is not None:
            variables["hotline_customer_id"] = str(request.customer_id)
        if request.media_source:
            variables["hotline_media_source"] = request.media_source
        await call.set_vars(variables)
        await call.transfer(self.extension, "XML", self.context)
