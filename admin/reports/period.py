"""The date range of a report: local calendar days, validated, turned into an aware UTC half-open interval.

Report days are local days (``utc_offset_minutes`` east of UTC, 480 for
China Standard Time by default): the range ``2026-11-01 .. 2026-11-30`` means
from local midnight of the first day to local midnight after the last.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

UTC = dt.timezone.utc
#: The longest range a report accepts (a year and a day: a leap year plus its neighbour's first day).
MAX_DAYS = 366
DEFAULT_DAYS = 7


class PeriodError(ValueError):
    """A date range a report cannot run on; ``message_id`` picks the translated message."""

    def __init__(self, message_id: str, **details: object) -> None:
        super().__init__(message_id)
        self.message_id = message_id
        self.details = details


@dataclass(frozen=True)
class Period:
    """Local days ``first`` .. ``last`` (inclusive) and the UTC instants they span."""

    first: dt.date
    last: dt.date
    utc_offset_minutes: int = 0

    @property
    def tz(self) -> dt.timezone:
        return dt.timezone(dt.timedelta(minutes=self.utc_offset_minutes))

    @property
    def start(self) -> dt.datetime:
        """Local midnight of ``first``, as aware UTC."""
        return dt.datetime.combine(self.first, dt.time(), self.tz).astimezone(UTC)

    @property
    def end(self) -> dt.datetime:
        """Local midnight after ``last`` (exclusive), as aware UTC."""
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), self.tz).astimezone(UTC)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def day_list(self) -> list[dt.date]:
        """Every local day of the range, in order (the x axis of daily charts)."""
        return [self.first + dt.timedelta(days=i) for i in range(self.days)]


def _parse(raw: str | None, which: str) -> dt.date | None:
    if raw is None or not raw.strip():
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise PeriodError("bad_date", which=which, value=raw.strip()[:40]) from None


def parse_period(start: str | None, end: str | None, *, today: dt.date, utc_offset_minutes: int = 0,
                 default_days: int = DEFAULT_DAYS) -> Period:
    """The period for ``start``/``end`` (YYYY-MM-DD, either may be blank); PeriodError when invalid."""
    first, last = _parse(start, "start"), _parse(end, "end")
    if last is None:
        last = today if first is None else min(today, first + dt.timedelta(days=default_days - 1))
    if first is None:
        first = last - dt.timedelta(days=default_days - 1)
    if last < first:
        raise PeriodError("end_before_start", start=first.isoformat(), end=last.isoformat())
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError("too_long", days=(last - first).days + 1, max=MAX_DAYS)
    return Period(first, last, utc_offset_minutes)


def local_today(utc_offset_minutes: int, now: dt.datetime | None = None) -> dt.date:
    """Today's local date."""
    now = now or dt.datetime.now(UTC)
    return now.astimezone(dt.timezone(dt.timedelta(minutes=utc_offset_minutes))).date()
