"""Automatic call distribution: agents, queues, skills and previous-agent routing, statistics, consistency.

How the IVR hands a caller over::

    from acd import Acd, BridgeLeg
    outcome = await acd.enqueue(BridgeLeg(call, clock, switch), "sales", skills={"mandarin": 3},
                                customer={"id": 42, "name": "Wang Li"}, priority=PRIORITY_VIP)
    # outcome.kind: served | abandoned | overflow (outcome.overflow.kind: voicemail/callback) | full | failed

See docs/acd.md.
"""

from acd.agents import AgentState
from acd.connect import BridgeLeg, CallerLeg, ConnectResult
from acd.engine import Acd
from acd.queues import PRIORITY_CALLBACK_DUE, PRIORITY_NORMAL, PRIORITY_VIP, Overflow, QueueConfig, QueueOutcome
from acd.supervision import Supervision
from acd.transfer import Consultation

__all__ = ["Acd", "AgentState", "BridgeLeg", "CallerLeg", "Consultation", "ConnectResult", "Overflow",
           "PRIORITY_CALLBACK_DUE", "PRIORITY_NORMAL", "PRIORITY_VIP", "QueueConfig", "QueueOutcome", "Supervision"]
