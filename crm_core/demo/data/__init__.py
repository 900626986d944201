"""The demo shop's data tables (CSV and YAML shipped in the package), read once and cached."""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib import resources
from typing import Any

import yaml


def _text(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


@cache
def shop() -> dict[str, Any]:
    """Categories, suppliers, warehouses, media plans, promotions, skills, agents, queues, campaign, users."""
    return yaml.safe_load(_text("shop.yaml"))


@cache
def service() -> dict[str, Any]:
    """Knowledge-base articles, complaint scripts and callback notes."""
    return yaml.safe_load(_text("service.yaml"))


@cache
def base_products() -> tuple[dict[str, str], ...]:
    """One row per base product (category, Chinese and English name and selling point, base price)."""
    return tuple(csv.DictReader(io.StringIO(_text("products.csv"))))
