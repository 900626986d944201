"""IVR statistics counted in memory as calls go (the durable record is the interactions table).

Reports read the ``interactions`` rows (``detail.event`` = option, product,
handoff...); these counters feed the live wallboard and ``/metrics``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class IvrStats:
    """Counters shared by every session of one engine."""

    calls: int = 0
    options: Counter = field(default_factory=Counter)  # (menu node, key) -> times chosen
    actions: Counter = field(default_factory=Counter)  # action name -> times started
    products: Counter = field(default_factory=Counter)  # phone code -> times asked about
    handoffs: Counter = field(default_factory=Counter)  # reason -> times
    errors: Counter = field(default_factory=Counter)  # "invalid" / "timeout" / "system"
    speech: Counter = field(default_factory=Counter)  # speech turn outcome -> times (accepted, confirm, ...)

    def option(self, node_id: str, key: str) -> None:
        self.options[(node_id, key)] += 1

    def product(self, code: str) -> None:
        self.products[code] += 1
