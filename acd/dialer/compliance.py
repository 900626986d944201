"""Outbound compliance as pure functions of a campaign's settings and an injected "now".

Who may be called when, and how: calling hours in the contact's own time
zone (never outside the legal 08:00-21:00 local, a campaign may only narrow
them), public holidays when the campaign says so (the ``holidays``
package's calendar, Chinese by default, including its substitute days
off), a ring time of at least 15 s, the campaign's one caller ID on every
call. The do-not-call check and the "one call per number at a time" claim
live in crm_core (``claim_due_contacts``): they are database facts. Retry
spacing and attempt limits per disposition are ``crm_core.campaign_rules``.

Nothing here reads a clock: callers pass ``now`` (an aware datetime), or
build a :class:`CampaignCompliance` with any object that has ``seconds()``
(a Twisted ``IReactorTime``, a ``task.Clock`` in tests).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

import holidays

from crm_core.campaign_rules import LEGAL_CALLING_HOURS, MIN_RING_SECONDS
from crm_core.services.dialing import Candidate, CampaignSettings, Screen

UTC = dt.timezone.utc
#: How far ahead ``next_allowed`` looks for an open window (a month of holidays cannot block longer).
SEARCH_DAYS = 40


class NoCallerId(ValueError):
    """A campaign without its caller ID must not dial (one caller ID per campaign, never a random one)."""


class Seconds(Protocol):
    def seconds(self) -> float: ...


@dataclass(frozen=True)
class CallingRules:
    """The time rules of one campaign."""

    start: dt.time
    end: dt.time
    timezone: str = "Asia/Shanghai"
    skip_holidays: bool = False
    holiday_country: str = "CN"

    @classmethod
    def of(cls, settings: CampaignSettings) -> "CallingRules":
        return cls(settings.calling_hours[0], settings.calling_hours[1], settings.timezone,
                   settings.skip_holidays, settings.holiday_country)

    def window(self) -> tuple[dt.time, dt.time]:
        """The campaign's hours clamped to the legal ones (a stored wider window is narrowed, never used)."""
        low, high = LEGAL_CALLING_HOURS
        return max(self.start, low), min(self.end, high)


@lru_cache(maxsize=64)
def _calendar(country: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=[year])


def is_holiday(day: dt.date, country: str = "CN") -> bool:
    """Whether ``day`` is a public holiday (or a substitute day off) in ``country``."""
    return day in _calendar(country, day.year)


def holiday_name(day: dt.date, country: str = "CN") -> str | None:
    return _calendar(country, day.year).get(day)


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def check_time(now: dt.datetime, rules: CallingRules, timezone: str | None = None) -> Screen:
    """May a contact in ``timezone`` (default: the campaign's) be called at ``now``? If not, from when."""
    zone = _zone(timezone or rules.timezone)
    local = now.astimezone(zone)
    start, end = rules.window()
    if start >= end:
        return Screen(False, None, "no calling window")
    if rules.skip_holidays and is_holiday(local.date(), rules.holiday_country):
        return Screen(False, next_allowed(now, rules, timezone), "holiday")
    if start <= local.time() < end:
        return Screen(True)
    return Screen(False, next_allowed(now, rules, timezone), "hours")


def next_allowed(now: dt.datetime, rules: CallingRules, timezone: str | None = None) -> dt.datetime | None:
    """The first moment at or after ``now`` when calling is allowed (UTC), None if none within SEARCH_DAYS."""
    zone = _zone(timezone or rules.timezone)
    local = now.astimezone(zone)
    start, end = rules.window()
    if start >= end:
        return None
    day = local.date()
    for _ in range(SEARCH_DAYS):
        if not (rules.skip_holidays and is_holiday(day, rules.holiday_country)):
            opens = dt.datetime.combine(day, start, zone)
            closes = dt.datetime.combine(day, end, zone)
            if local < closes:
                return max(local, opens).astimezone(UTC)
        day += dt.timedelta(days=1)
    return None


def ring_timeout(ring_seconds: int) -> int:
    """How long a call rings before it is given up: never under the legal minimum."""
    return max(MIN_RING_SECONDS, int(ring_seconds))


def caller_id(settings: CampaignSettings) -> str:
    """The campaign's one caller ID; NoCallerId when it has none (then nothing is dialled)."""
    if not settings.caller_id:
        raise NoCallerId(f"campaign {settings.name} has no caller ID")
    return settings.caller_id


class CampaignCompliance:
    """The time rules of one campaign against an injected clock: the claim screen and a pre-dial check."""

    def __init__(self, settings: CampaignSettings, clock: Seconds) -> None:
        self.rules = CallingRules.of(settings)
        self.clock = clock
        self.zones = (settings.timezone, *settings.contact_timezones)

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock.seconds(), UTC)

    def screen(self, candidate: Candidate) -> Screen:
        """``claim_due_contacts``' screen: the contact's own time zone decides."""
        return check_time(self.now(), self.rules, candidate.timezone)

    def campaign_open(self) -> Screen:
        """Is it calling time in the campaign's own zone?"""
        return check_time(self.now(), self.rules)

    def any_zone_open(self) -> bool:
        """May anybody in this campaign be called now, in the campaign's zone or a contact's own one?"""
        now = self.now()
        return any(check_time(now, self.rules, zone).allowed for zone in self.zones)
