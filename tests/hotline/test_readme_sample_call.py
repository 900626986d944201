"""The README's sample call meets a demo customer with orders, and says what the banner of `hotline run` says.

The demo is planned from its seed without a database (``crm_core.demo.plan_demo``),
at the scale ``make run`` loads (1.0), so README, banner and demo data cannot drift apart.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from crm_core.demo import DemoOptions, plan_demo
from crm_core.phones import to_e164
from hotline.run_command import SAMPLE_CALLER, SAMPLE_HOTLINE, SAMPLE_SCRIPT

ROOT = Path(__file__).resolve().parents[2]
CALL = re.compile(r"hotline call --from (\S+) --to (\S+) \\?\s*--script \"([^\"]+)\"")


def _readme_call() -> tuple[str, str, str]:
    match = CALL.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert match, "the README shows a `hotline call --from ... --to ... --script \"...\"` example"
    return match.group(1), match.group(2), match.group(3)


def test_the_readme_caller_is_a_demo_customer_with_orders_who_is_not_blacklisted() -> None:
    caller, _, _ = _readme_call()
    plan = plan_demo(DemoOptions())  # what `make run` loads
    customer = next((c for c in plan.customers if c.mobile == to_e164(caller)), None)
    assert customer is not None, f"{caller} is not a demo customer"
    assert not customer.blacklisted
    assert sum(1 for order in plan.orders if order.customer == customer.mobile) >= 1


def test_the_readme_dials_a_hotline_number_of_the_demo_menu() -> None:
    _, hotline, _ = _readme_call()
    menu = yaml.safe_load((ROOT / "menus" / "demo.yaml").read_text(encoding="utf-8"))
    assert hotline in {str(k) for k in menu["entry_points"]}


def test_the_readme_and_the_run_banner_suggest_the_same_call() -> None:
    assert _readme_call() == (SAMPLE_CALLER, SAMPLE_HOTLINE, SAMPLE_SCRIPT)
