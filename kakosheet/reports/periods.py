"""Report periods: ISO weeks labelled with their ISO year (2026-W53 holds 2027-01-01), and months."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from kakosheet.errors import UsageError


class PeriodKind(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"


_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})", re.ASCII)
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)
# A report reaches a year of periods back and one ahead; these years keep that inside the calendar.
_YEARS = range(1900, 9999)


@dataclass(frozen=True, order=True)
class Period:
    """One week (Monday to Sunday) or month of local dates; ``end`` is the first day after it."""

    start: dt.date
    end: dt.date
    kind: PeriodKind

    @property
    def label(self) -> str:
        if self.kind is PeriodKind.WEEKLY:
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def previous(self) -> Period:
        return period_of(self.kind, self.start - dt.timedelta(days=1))

    def next(self) -> Period:
        return period_of(self.kind, self.end)

    def back(self, count: int) -> list[Period]:
        """The ``count`` periods ending with this one, oldest first (empty ones included)."""
        periods = [self]
        while len(periods) < count:
            periods.append(periods[-1].previous())
        return periods[::-1]


def period_of(kind: PeriodKind, day: dt.date) -> Period:
    """The week or month a local date belongs to."""
    if kind is PeriodKind.WEEKLY:
        start = day - dt.timedelta(days=day.weekday())
        return Period(start, start + dt.timedelta(days=7), kind)
    start = day.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return Period(start, end, kind)


def last_complete(kind: PeriodKind, today: dt.date) -> Period:
    """The last period that ended before ``today`` (the team's local date)."""
    return period_of(kind, today).previous()


def parse_period(kind: PeriodKind, text: str) -> Period:
    """``2026-W47`` for a week, ``2026-11`` for a month; a usage error names the form expected."""
    text = text.strip()
    year = text[:4]
    if year.isdigit() and year.isascii() and int(year) not in _YEARS:
        raise UsageError(f"--period: {text!r} is outside the years a report covers ({_YEARS[0]} to {_YEARS[-1]})")
    if kind is PeriodKind.WEEKLY:
        match = _WEEK.fullmatch(text)
        if match:
            try:
                return period_of(kind, dt.date.fromisocalendar(int(match[1]), int(match[2]), 1))
            except ValueError:
                pass
        raise UsageError(f"--period: {text!r} is not an ISO week of a weekly report; write it as 2026-W47")
    match = _MONTH.fullmatch(text)
    if match and 1 <= int(match[2]) <= 12:
        return period_of(kind, dt.date(int(match[1]), int(match[2]), 1))
    raise UsageError(f"--period: {text!r} is not a month of a monthly report; write it as 2026-11")
