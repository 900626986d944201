"""Token buckets: a channel's sending rate and burst, on an injected clock.

A bucket holds up to ``burst`` tokens and gains ``rate`` per second; each
message sent takes one. The dispatcher asks how many it may take now and,
when the bucket is empty, how long until the next one (never sleeping).
"""

from __future__ import annotations

import math
from typing import Any


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up; time from ``clock.seconds()``."""

    def __init__(self, rate: float, burst: float | None = None, *, clock: Any) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1.0, rate))
        if self.burst < 1:
            raise ValueError("burst must be at least 1")
        self._clock = clock
        self._tokens = self.burst
        self._at = clock.seconds()

    def _refill(self) -> None:
        now = self._clock.seconds()
        if now > self._at:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def available(self) -> int:
        """Whole tokens there are now."""
        self._refill()
        return int(math.floor(self._tokens + 1e-9))

    def take(self, n: int = 1) -> bool:
        """Take ``n`` tokens if there are that many; whether it did."""
        self._refill()
        if self._tokens + 1e-9 < n:
            return False
        self._tokens -= n
        return True

    def wait_time(self, n: int = 1) -> float:
        """Seconds until ``n`` tokens are there (0 when they are)."""
        self._refill()
        missing = n - self._tokens
        return 0.0 if missing <= 1e-9 else missing / self.rate
