"""Expected wait from live handle times and staffing (not a constant).

Each queue keeps an exponentially weighted moving average of recent handle
times (talk + wrap-up). A caller at position *k* with *a* agents free now and
*n* agents staffed (logged in and not on break / not ready) waits about
``(k - a) / n`` handle times: the *n* agents each free up once per AHT on
average, and the first *a* callers are served at once. With nobody staffed
the wait is unknown (``None``) and the announcement says nothing about time.
"""

from __future__ import annotations

import math


class HandleTimes:
    """EWMA of one queue's handle times; ``prior`` until the first sample."""

    def __init__(self, prior: float = 180.0, alpha: float = 0.2) -> None:
        if not 0 < alpha <= 1:
            raise ValueError("alpha must be in (0, 1]")
        self.alpha = alpha
        self.value = float(prior)
        self.samples = 0

    def observe(self, seconds: float) -> float:
        """Add one finished call's handle time; returns the new average."""
        seconds = max(0.0, float(seconds))
        self.value = seconds if self.samples == 0 else self.alpha * seconds + (1 - self.alpha) * self.value
        self.samples += 1
        return self.value


class Estimator:
    """Handle-time averages per queue and the expected-wait formula."""

    def __init__(self, alpha: float = 0.2) -> None:
        if not 0 < alpha <= 1:
            raise ValueError("alpha must be in (0, 1]")
        self.alpha = alpha
        self._queues: dict[str, HandleTimes] = {}

    def handle_times(self, queue: str, prior: float = 180.0) -> HandleTimes:
        ht = self._queues.get(queue)
        if ht is None:
            ht = self._queues[queue] = HandleTimes(prior, self.alpha)
        return ht

    def observe(self, queue: str, handle_seconds: float, prior: float = 180.0) -> float:
        """Record a finished call's handle time for ``queue``."""
        return self.handle_times(queue, prior).observe(handle_seconds)

    def aht(self, queue: str, prior: float = 180.0) -> float:
        return self.handle_times(queue, prior).value

    def expected_wait(self, queue: str, position: int, staffed: int, available: int,
                      prior: float = 180.0) -> float | None:
        """Seconds a caller at ``position`` (1-based) should expect to wait; None when nobody is staffed."""
        return expected_wait(position, staffed, available, self.aht(queue, prior))


def expected_wait(position: int, staffed: int, available: int, aht: float) -> float | None:
    """``max(0, position - available) / staffed * aht``; None when ``staffed`` is 0."""
    if position <= available:
        return 0.0
    if staffed <= 0:
        return None
    return (position - available) / staffed * aht


def round_for_announcement(seconds: float | None) -> int | None:
    """Whole minutes to announce (at least 1), None when unknown."""
    if seconds is None:
        return None
    return max(1, math.ceil(seconds / 60.0))
