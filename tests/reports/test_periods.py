"""Report periods: ISO weeks with their ISO year, months, the last complete one.

ERPNext's Issue Analytics labels a week by its calendar year and week number, so the week
of 2027-01-01 reads "2027 week 53" (or its cases land in no bucket): these fail it."""

from __future__ import annotations

import datetime as dt

import pytest

from kakosheet.errors import UsageError
from kakosheet.reports.periods import PeriodKind, last_complete, parse_period, period_of

WEEKLY, MONTHLY = PeriodKind.WEEKLY, PeriodKind.MONTHLY


def test_new_years_day_2027_belongs_to_2026_w53() -> None:
    week = period_of(WEEKLY, dt.date(2027, 1, 1))
    assert (week.label, week.start, week.last_day) == ("2026-W53", dt.date(2026, 12, 28), dt.date(2027, 1, 3))
    assert week.next().label == "2027-W01" and week.next().start == dt.date(2027, 1, 4)
    assert parse_period(WEEKLY, "2026-W53") == week
    assert period_of(WEEKLY, dt.date(2025, 12, 29)).label == "2026-W01"  # a Monday of December in next year's W01


def test_weeks_that_do_not_exist_are_refused() -> None:
    with pytest.raises(UsageError, match="2026-W47"):
        parse_period(WEEKLY, "2025-W53")  # 2025 has 52 ISO weeks
    with pytest.raises(UsageError, match="2026-11"):
        parse_period(MONTHLY, "2026-13")


@pytest.mark.parametrize(
    ("kind", "text"),
    [(WEEKLY, "0001-W01"), (WEEKLY, "0001-W05"), (WEEKLY, "9999-W52"), (MONTHLY, "0001-01"), (MONTHLY, "9999-12")],
)
def test_a_period_whose_report_leaves_the_calendar_is_refused(kind: PeriodKind, text: str) -> None:
    """A report reaches 12 periods back and one ahead: at the calendar's edge that is a usage error, not exit 70."""
    with pytest.raises(UsageError, match="1900 to 9998"):
        parse_period(kind, text)
    assert parse_period(kind, text.replace("0001", "1900").replace("9999", "9998")).back(14)[0].previous()


def test_months_and_the_trend_back_across_a_year() -> None:
    february = parse_period(MONTHLY, "2028-02")
    assert (february.start, february.last_day) == (dt.date(2028, 2, 1), dt.date(2028, 2, 29))
    assert [p.label for p in parse_period(WEEKLY, "2027-W02").back(4)] == [
        "2026-W52",
        "2026-W53",
        "2027-W01",
        "2027-W02",
    ]


def test_the_last_complete_period() -> None:
    assert last_complete(WEEKLY, dt.date(2027, 1, 4)).label == "2026-W53"  # Monday: last week is done
    assert last_complete(WEEKLY, dt.date(2027, 1, 3)).label == "2026-W52"  # Sunday: this week is not
    assert last_complete(MONTHLY, dt.date(2027, 1, 1)).label == "2026-12"
