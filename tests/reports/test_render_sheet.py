"""The report tab is laid out from the same records as the JSON: every section's figures in
its cells, the Case IDs beside each row, charts whose ranges cover exactly the cells they draw,
and the period's cases under the filter. (Drawing it into a workbook: tests/sources, tests/gsheet.)"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from kakosheet.core.owned_tab import OwnedTab, Span, TabCell
from kakosheet.reports.render_sheet import IDS_COLUMN, render_sheet, report_mark
from tests.reports.test_render import HOSTILE, built


def _value(tab: OwnedTab, row: int, column: int) -> object:
    cells = tab.rows[row - 1]
    cell = cells[column] if column < len(cells) else None
    return cell.value if isinstance(cell, TabCell) else None


def _values(tab: OwnedTab, span: Span) -> list[object]:
    return [_value(tab, row, span.column) for row in range(span.first_row, span.last_row + 1)]


def _row_of(tab: OwnedTab, text: str) -> int:
    return next(n for n, row in enumerate(tab.rows, start=1) if row and row[0] is not None and row[0].value == text)


def test_the_tab_holds_every_section_with_its_cases_and_charts_over_the_right_cells(tmp_path: Path) -> None:
    report, doc = built(tmp_path)
    tab = render_sheet(report)

    assert tab.title == "Report 2026-W53" and tab.mark == report_mark(report) == "kakosheet: weekly report 2026-W53"
    assert tab.rows[0][0] == TabCell(tab.mark, bold=True)

    # Section 1: each reason row's count, with its case IDs in the IDs column.
    header = _row_of(tab, "1. Top failure reasons") + 2  # the title, its note, then the header
    assert _value(tab, header, 0) == "Log" and _value(tab, header, IDS_COLUMN) == "Case IDs"
    for offset, row in enumerate(doc["reasons"]["rows"], start=1):
        assert _value(tab, header + offset, 1) == (row["reason"] if row["reason"] is not None else "(blank)")
        assert _value(tab, header + offset, 2) == row["figure"]["count"]
        assert _value(tab, header + offset, IDS_COLUMN) == (", ".join(row["figure"]["case_ids"]) or None)

    # Money is exact and carries its currency's format.
    costs = _row_of(tab, "3. Cost of exceptions") + 2
    nets = {
        _value(tab, r, 0): tab.rows[r - 1][3]
        for r in range(costs + 1, costs + 20)
        if r <= len(tab.rows) and _value(tab, r, 1) == "net"
    }
    usd = nets["USD"]
    assert usd is not None and usd.value == Decimal("85.50") and usd.number_format == '#,##0.00 "USD"'

    charts = {chart.slot: chart for chart in tab.charts}
    assert set(charts) == {"reasons", "parties", "trend"}
    reasons = charts["reasons"]
    all_logs = [r for r in doc["reasons"]["rows"] if r["log"] == "all"]
    assert _values(tab, reasons.categories) == [r["reason"] or "(blank)" for r in all_logs]
    assert _values(tab, reasons.series[0].values) == [r["figure"]["count"] for r in all_logs]
    assert {_value(tab, row, 0) for row in range(reasons.categories.first_row, reasons.categories.last_row + 1)} == {
        "all"
    }

    trend = charts["trend"]
    periods = doc["trend"]["periods"]
    assert _values(tab, trend.categories) == periods
    assert [s.name for s in trend.series] == list(report.logs)
    for series in trend.series:
        counts = [p["cases"]["count"] for p in doc["trend"]["points"] if p["log"] == series.name]
        assert _values(tab, series.values) == counts
        # Each line is a column named by its header cell (Google Sheets names a series only so).
        assert _value(tab, series.values.first_row - 1, series.values.column) == series.name
        assert (series.values.first_row, series.values.last_row) == (
            trend.categories.first_row,
            trend.categories.last_row,
        )

    parties = charts["parties"]
    assert _values(tab, parties.categories) == [r["party"] for r in doc["parties"]["rows"]][:20]
    # Charts do not sit on each other.
    placed = sorted(tab.charts, key=lambda c: c.anchor_row)
    for upper, lower in zip(placed, placed[1:], strict=False):
        assert lower.anchor_row > upper.anchor_row + upper.height_rows

    # The period's cases, under the filter; a hostile text stays text.
    assert tab.filter is not None
    assert _value(tab, tab.filter.header_row, 1) == "Case ID"
    case_ids = [_value(tab, row, 1) for row in range(tab.filter.header_row + 1, tab.filter.last_row + 1)]
    assert case_ids == [line["case_id"] for line in doc["cases"]]
    assert tab.filter.last_row == len(tab.rows)
    texts = [cell.value for row in tab.rows for cell in row if cell is not None and isinstance(cell.value, str)]
    assert any(HOSTILE in text for text in texts)
    dates = [c for row in tab.rows[tab.filter.header_row :] for c in row if c and isinstance(c.value, dt.date)]
    assert dates and all(c.number_format == "yyyy-mm-dd" for c in dates)


def test_an_empty_period_still_makes_a_tab_without_charts(tmp_path: Path) -> None:
    from kakosheet.app.report import ReportOptions, make_report
    from kakosheet.reports.periods import PeriodKind
    from tests.reports.store import build_team

    store = f"sqlite:///{tmp_path / 'store.db'}"
    config = build_team(tmp_path / "team", store)
    report = make_report(config, ReportOptions(PeriodKind.WEEKLY, "2025-W10", store_url=store))
    tab = render_sheet(report)
    assert {chart.slot for chart in tab.charts} <= {"trend"}  # the trend lists every period, empty ones too
    assert tab.filter is not None and tab.filter.last_row == tab.filter.header_row
    assert "(none)" in [row[0].value for row in tab.rows if row and row[0] is not None]
