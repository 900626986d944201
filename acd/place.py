"""A waiting caller's place in line, written on its channel so it outlives the engine.

When a caller enters a line the ACD writes its :class:`QueuePlace` (queue,
entry time, priority, skills, customer, IVR path, language) on the channel as
``hotline_acd_*`` variables (``uuid_setvar_multi``), and clears it when an
agent answers (``hotline_acd_agent=<id>``) or the caller leaves the line. A
call that comes back to a new engine carries its place in the outbound
socket's ``connect`` reply (see :mod:`acd.resume`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Mapping

log = logging.getLogger(__name__)

PREFIX = "hotline_acd_"
QUEUE_VAR = PREFIX + "queue"
AGENT_VAR = PREFIX + "agent"
#: set once the caller was offered a callback, so a caller back after a restart is not offered it again
OFFERED_VAR = PREFIX + "callback_offered"


@dataclass(frozen=True)
class QueuePlace:
    """A waiting caller's place in line, in the form it is written on its channel."""

    queue: str
    entered_at: float
    priority: int = 0
    skills: Mapping[str, int] = field(default_factory=dict)
    customer_id: int | None = None
    ivr_path: str | None = None
    language: str = "zh"
    callback_offered: bool = False

    def variables(self) -> dict[str, str]:
        """``hotline_acd_*`` channel variables (``;`` and ``=`` cannot appear: uuid_setvar_multi splits on them)."""
        def clean(text: object) -> str:
            return str(text).replace(";", ",").replace("=", ":")

        return {QUEUE_VAR: clean(self.queue), PREFIX + "entered": f"{self.entered_at:.3f}",
                PREFIX + "priority": str(self.priority),
                PREFIX + "skills": ",".join(f"{clean(k)}:{int(v)}" for k, v in sorted(self.skills.items())),
                PREFIX + "customer": "" if self.customer_id is None else str(self.customer_id),
                PREFIX + "ivr_path": clean(self.ivr_path or ""), PREFIX + "language": clean(self.language),
                OFFERED_VAR: "true" if self.callback_offered else "", AGENT_VAR: ""}

    @classmethod
    def from_variables(cls, variables: Mapping[str, str]) -> "QueuePlace | None":
        """The place a reconnected call carries, or None (not waiting, or a value that does not parse)."""
        queue = (variables.get(QUEUE_VAR) or "").strip()
        if not queue:
            return None
        try:
            skills = {}
            for item in filter(None, (variables.get(PREFIX + "skills") or "").split(",")):
                name, _, level = item.rpartition(":")
                skills[name] = int(level)
            customer = variables.get(PREFIX + "customer") or ""
            return cls(queue, float(variables[PREFIX + "entered"]), int(variables.get(PREFIX + "priority") or 0),
                       skills, int(customer) if customer else None, variables.get(PREFIX + "ivr_path") or None,
                       variables.get(PREFIX + "language") or "zh",
                       (variables.get(OFFERED_VAR) or "").lower() == "true")
        except (KeyError, ValueError) as exc:
            log.warning("queue place on the channel does not parse (%s): %s", exc,
                        {k: v for k, v in variables.items() if k.startswith(PREFIX)})
            return None


def left_line(agent_id: int | None = None) -> dict[str, str]:
    """The variables that say "no longer waiting" (answered by ``agent_id``, or left the line)."""
    return {QUEUE_VAR: "", AGENT_VAR: "" if agent_id is None else str(agent_id)}
