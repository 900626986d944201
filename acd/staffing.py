"""How many agents serve a queue now, and how long a caller at a given position can expect to wait.

Shared by the position announcements, the callback offer and the statistics:
expected wait = ``max(0, position - free agents) / staffed x AHT`` (AHT the
queue's EWMA of recent handle times, its ``default_aht`` until the first
call ends), unknown when nobody is staffed.
"""

from __future__ import annotations

from typing import Callable

from acd.agents import AgentBoard, AgentState
from acd.estimator import Estimator
from acd.queues import QueueConfig

S = AgentState
#: Agents who count as staffing a queue (logged in, not paused).
STAFFED = ("available", "ringing", "on_call", "wrap_up")


class Staffing:
    """Agents by state per queue and the expected wait, from the board and the handle-time estimator."""

    def __init__(self, board: AgentBoard, estimator: Estimator, config: Callable[[str], QueueConfig]) -> None:
        self.board = board
        self.estimator = estimator
        self.config = config  # queue name -> its QueueConfig (UnknownQueue if none)

    def counts(self, queue: str) -> dict[str, int]:
        """Agents logged into ``queue`` by state."""
        counts = {s.value: 0 for s in AgentState if s is not S.LOGGED_OUT}
        for agent_id in self.board.members(queue):
            counts[self.board.get(agent_id).state.value] += 1
        return counts

    def expected_wait(self, queue: str, position: int) -> float | None:
        """Expected wait of the caller at ``position`` from live AHT and staffing."""
        config = self.config(queue)
        counts = self.counts(queue)
        staffed = sum(counts[s] for s in STAFFED)
        return self.estimator.expected_wait(queue, position, staffed, counts["available"], config.default_aht)
