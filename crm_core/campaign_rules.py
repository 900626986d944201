"""The fixed rules every outbound campaign lives within, and the checks of a campaign's own settings.

Shared by the campaign services (which refuse settings outside these bounds)
and by the dialer's compliance checks (which enforce them again at dial
time). A campaign may narrow its calling hours, never widen them past
``LEGAL_CALLING_HOURS``; ring at least ``MIN_RING_SECONDS``; retry each
disposition no sooner and no more often than its rule says.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_core.exceptions import InvalidInput

#: Local time in the contact's time zone outside which nobody is called.
LEGAL_CALLING_HOURS = (dt.time(8, 0), dt.time(21, 0))
#: A call rings at least this long before it counts as not answered.
MIN_RING_SECONDS = 15
MAX_RING_SECONDS = 120
#: Abandoned answered calls allowed, in percent of answered calls (campaign and rolling 30 days).
DEFAULT_ABANDON_CAP_PERCENT = Decimal("3")
#: The rolling window of the abandonment cap.
ABANDON_WINDOW = dt.timedelta(days=30)
#: An answered call must reach an agent this fast, or it hears the identification message and is abandoned.
CONNECT_DEADLINE_SECONDS = 2.0

#: Dispositions with their own retry rule, and how many attempts each allows by default. Their spacing
#: defaults to the campaign's ``retry_minutes``, except after an abandoned call: a person who answered and
#: heard only the identification message is not rung again the same day.
RETRY_DISPOSITIONS = ("busy", "no_answer", "machine", "failed", "abandoned")
DEFAULT_MAX_PER_DISPOSITION: dict[str, int] = {"busy": 5, "no_answer": 3, "machine": 2, "failed": 3, "abandoned": 2}
MIN_ABANDONED_RETRY_MINUTES = 24 * 60
MAX_RETRY_MINUTES = 7 * 24 * 60
MAX_ATTEMPTS_LIMIT = 20


@dataclass(frozen=True)
class RetryRule:
    """How soon and how often one disposition is tried again."""

    retry_minutes: int
    max_attempts: int


def retry_rules(stored: Mapping[str, Any] | None, default_minutes: int) -> dict[str, RetryRule]:
    """The campaign's rule per disposition: its own ``retry_rules`` first, then the defaults above."""
    own = validate_retry_rules(stored)
    out = {}
    for disposition in RETRY_DISPOSITIONS:
        spacing = max(1, default_minutes)
        if disposition == "abandoned":
            spacing = max(spacing, MIN_ABANDONED_RETRY_MINUTES)
        rule = own.get(disposition, {})
        out[disposition] = RetryRule(rule.get("retry_minutes", spacing),
                                     rule.get("max_attempts", DEFAULT_MAX_PER_DISPOSITION[disposition]))
    return out


def validate_retry_rules(value: Any) -> dict[str, dict[str, int]]:
    """A retry-rules document as stored, or InvalidInput naming what is wrong."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput("retry rules must be an object per disposition", field="retry_rules")
    out: dict[str, dict[str, int]] = {}
    for disposition, rule in value.items():
        if disposition not in RETRY_DISPOSITIONS:
            raise InvalidInput(f"no retry rule for {disposition!r}; one of {', '.join(RETRY_DISPOSITIONS)}",
                               field="retry_rules")
        if not isinstance(rule, Mapping) or set(rule) - {"retry_minutes", "max_attempts"}:
            raise InvalidInput(f"retry rule {disposition}: only retry_minutes and max_attempts",
                               field="retry_rules")
        clean: dict[str, int] = {}
        for key, low, high in (("retry_minutes", 1, MAX_RETRY_MINUTES), ("max_attempts", 1, MAX_ATTEMPTS_LIMIT)):
            if key in rule:
                number = rule[key]
                if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
                    raise InvalidInput(f"retry rule {disposition}.{key} must be a whole number {low}-{high}",
                                       field="retry_rules")
                clean[key] = number
        out[str(disposition)] = clean
    return out


def validate_calling_hours(start: dt.time, end: dt.time) -> None:
    """A campaign's window must lie inside the legal hours and end after it starts."""
    low, high = LEGAL_CALLING_HOURS
    if not (low <= start < end <= high):
        raise InvalidInput(f"calling hours must lie within {low:%H:%M}-{high:%H:%M} and end after they start "
                           f"(got {start:%H:%M}-{end:%H:%M})", field="calling_hours")


def validate_timezone(name: str) -> ZoneInfo:
    """The IANA zone of ``name``, or InvalidInput."""
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r} (use an IANA name like Asia/Shanghai)",
                           field="timezone") from None


def validate_ring_seconds(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_RING_SECONDS <= value <= MAX_RING_SECONDS:
        raise InvalidInput(f"ring time must be {MIN_RING_SECONDS}-{MAX_RING_SECONDS} seconds", field="ring_seconds")
    return value


def validate_percent(value: Any, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput(f"{field} must be a number", field=field) from None
    if not Decimal(0) <= number <= Decimal(100):
        raise InvalidInput(f"{field} must be 0-100", field=field)
    return number


def validate_ratio(value: Any) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput("dial ratio must be a number", field="dial_ratio") from None
    if not Decimal(1) <= number <= Decimal(10):
        raise InvalidInput("dial ratio must be 1-10 calls per free agent", field="dial_ratio")
    return number


def retry_decision(result: str, *, same_result_count: int, attempts: int, max_attempts: int,
                   rule: RetryRule, at: dt.datetime) -> tuple[str, dt.datetime | None]:
    """After a failed attempt: ("pending", when to try again) or ("failed", None) once a limit is reached.

    ``same_result_count`` counts this attempt among the contact's attempts with the same result;
    ``attempts`` is every real dial of the contact, this one included.
    """
    if same_result_count >= rule.max_attempts or attempts >= max_attempts:
        return "failed", None
    return "pending", at + dt.timedelta(minutes=rule.retry_minutes)
