"""The demo shop behind ``hotline demo-data``: a TV-shopping company's catalogue, customers and history.

Deterministic (seeded) and idempotent (natural keys: SKU, phone code, phone
number, order number, agent login...), written through the domain services so
the invariants of production data (points ledger = balance, stock never
negative, legal status paths) hold for the demo too.
"""

from crm_core.demo.context import DEFAULT_SEED, DemoOptions
from crm_core.demo.loader import DemoPlan, load_demo, plan_demo
from crm_core.demo.summary import counts, orders_by_status, summary_lines

__all__ = [
    "DEFAULT_SEED",
    "DemoOptions",
    "DemoPlan",
    "counts",
    "load_demo",
    "orders_by_status",
    "plan_demo",
    "summary_lines",
]
