"""Live per-queue statistics for today: counters the ACD bumps as calls happen, and snapshots.

Service level = answered within the target / (answered + abandoned), a
conservative reading where every abandon counts against it. ASA is the mean
wait of answered calls, AHT the mean handle time (talk + wrap-up) of
finished calls, abandonment rate = abandoned / (answered + abandoned). The
day rolls over at local midnight (``utc_offset`` seconds east of UTC).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DayCounters:
    day: int
    offered: int = 0
    answered: int = 0
    answered_in_sl: int = 0
    abandoned: int = 0
    overflowed: int = 0
    wait_answered: float = 0.0
    handled: int = 0
    handle_seconds: float = 0.0


@dataclass(frozen=True)
class QueueSnapshot:
    """A queue right now, for the wallboard and ``/metrics``."""

    queue: str
    waiting: int
    longest_wait: float
    agents: dict[str, int]
    offered: int
    answered: int
    abandoned: int
    overflowed: int
    service_level: float | None
    sl_target_percent: float
    sl_target_seconds: float
    asa: float | None
    abandonment_rate: float | None
    aht: float | None
    expected_wait: float | None
    extra: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class QueueStats:
    """Today's counters of every queue."""

    def __init__(self, utc_offset: float = 0.0) -> None:
        self.utc_offset = utc_offset
        self._days: dict[str, DayCounters] = {}

    def today(self, queue: str, now: float) -> DayCounters:
        day = int((now + self.utc_offset) // 86400)
        counters = self._days.get(queue)
        if counters is None or counters.day != day:
            counters = self._days[queue] = DayCounters(day)
        return counters

    def offered(self, queue: str, now: float) -> None:
        self.today(queue, now).offered += 1

    def answered(self, queue: str, now: float, waited: float, sl_seconds: float) -> None:
        c = self.today(queue, now)
        c.answered += 1
        c.wait_answered += waited
        if waited <= sl_seconds:
            c.answered_in_sl += 1

    def abandoned(self, queue: str, now: float) -> None:
        self.today(queue, now).abandoned += 1

    def overflowed(self, queue: str, now: float) -> None:
        self.today(queue, now).overflowed += 1

    def handled(self, queue: str, now: float, handle_seconds: float) -> None:
        c = self.today(queue, now)
        c.handled += 1
        c.handle_seconds += handle_seconds

    def ratios(self, queue: str, now: float) -> tuple[float | None, float | None, float | None, float | None]:
        """(service level, ASA, abandonment rate, AHT) for today; None where nothing happened yet."""
        c = self.today(queue, now)
        closed = c.answered + c.abandoned
        sl = c.answered_in_sl / closed if closed else None
        asa = c.wait_answered / c.answered if c.answered else None
        abandon = c.abandoned / closed if closed else None
        aht = c.handle_seconds / c.handled if c.handled else None
        return sl, asa, abandon, aht
