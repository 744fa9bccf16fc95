"""The report as a tab of the team's own workbook (`Report 2026-W47`): every section stacked as
a table with its Case IDs, three native charts beside them, and the period's cases at the
bottom under a filter. An owned tab (core/owned_tab.py): each source adapter draws it, and a
re-run for the same period replaces it, charts included, each in its slot."""

from __future__ import annotations

from kakosheet.core.owned_tab import SHEET_ROWS, Chart, ChartKind, Filter, OwnedTab, Series, Span, TabCell
from kakosheet.core.plural import counted
from kakosheet.reports.formats import CASE_COLUMNS, case_cells, cell_format, fit_cell
from kakosheet.reports.model import Report
from kakosheet.reports.tables import Cell, Kind, Table, layout

IDS_COLUMN = 9  # J: every section's Case IDs, in one column whatever its width
CHART_COLUMN = len(CASE_COLUMNS) + 1  # beside the widest table (the cases)
CHART_ROWS = 18
_WIDTHS = (16, 30, 11, 11, 11, 11, 11, 12, 12, 60, 11, 11, 4)
_TOP_SHOWN = 20  # parties drawn in the chart
_WHAT = "Written by kakosheet report from the store and rewritten on every run: edit the logs, not this tab."

Row = tuple[TabCell | None, ...]


def report_tab_title(report: Report) -> str:
    return f"Report {report.period}"


def report_mark(report: Report) -> str:
    """What the tab's first cell says: the tab is kakosheet's, and which report it holds."""
    return f"kakosheet: {report.kind} report {report.period}"


def render_sheet(report: Report) -> OwnedTab:
    """The report tab, from the same layout md, html and xlsx draw."""
    laid = layout(report)
    sheet = _Sheet()
    sheet.add((TabCell(report_mark(report), bold=True),))
    sheet.add((TabCell(laid.title, bold=True),))
    sheet.add((TabCell(laid.subtitle),))
    sheet.add((TabCell(_WHAT),))
    charts: list[Chart] = []
    next_chart_row = 1
    for table in laid.tables:
        sheet.add(())
        title_row = sheet.add((TabCell(table.title, bold=True),))
        first, last = _table(sheet, table)
        if table.key == "trend":  # a chart's lines are the columns of a table, each named by its header
            first, last = _trend_by_log(sheet, report)
        chart = _chart(report, table, first, last, max(title_row, next_chart_row))
        if chart is not None:
            charts.append(chart)
            next_chart_row = chart.anchor_row + CHART_ROWS + 1
    sheet.add(())
    sheet.add((TabCell(f"Cases of {report.period}", bold=True),))
    sheet.add((TabCell("filter here to the cases behind any figure"),))
    header_row = sheet.add(tuple(TabCell(name, bold=True) for name in CASE_COLUMNS))
    room = SHEET_ROWS - header_row - 1  # the last row says how many were left off
    lines = report.cases if len(report.cases) <= room + 1 else report.cases[:room]
    for line in lines:
        sheet.add(tuple(_cell(cell) for cell in case_cells(line)))
    if len(lines) < len(report.cases):
        more = len(report.cases) - len(lines)
        sheet.add((TabCell(f"… and {counted(more, 'more case')}: a worksheet holds {SHEET_ROWS:,} rows"),))
    cases_filter = Filter(header_row, max(sheet.last_row, header_row), 0, len(CASE_COLUMNS) - 1)
    return OwnedTab(
        title=report_tab_title(report),
        mark=report_mark(report),
        rows=tuple(sheet.rows),
        widths=_WIDTHS,
        frozen_rows=1,
        filter=cases_filter,
        charts=tuple(charts),
    )


class _Sheet:
    """Rows as they are added; row numbers are the sheet's (1-based)."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def add(self, row: Row) -> int:
        self.rows.append(row)
        return len(self.rows)

    @property
    def last_row(self) -> int:
        return len(self.rows)


def _table(sheet: _Sheet, table: Table) -> tuple[int, int]:
    """A section's note, header and rows; returns its first and last data rows (last < first: none)."""
    if table.note:
        sheet.add((TabCell(table.note),))
    header: list[TabCell | None] = [TabCell(name, bold=True) for name in table.columns]
    header += [None] * (IDS_COLUMN - len(header)) + [TabCell("Case IDs", bold=True)]
    sheet.add(tuple(header))
    first = sheet.last_row + 1
    if not table.rows:
        sheet.add((TabCell("(none)"),))
        return first, first - 1
    for cells, ids in zip(table.rows, table.case_ids, strict=True):
        row: list[TabCell | None] = [_cell(cell) for cell in cells]
        row += [None] * (IDS_COLUMN - len(row)) + [TabCell(fit_cell(", ".join(ids))) if ids else None]
        sheet.add(tuple(row))
    return first, sheet.last_row


def _cell(cell: Cell) -> TabCell | None:
    if cell.value is None:
        return TabCell(cell.text()) if cell.kind is Kind.TEXT else None
    if isinstance(cell.value, str):
        return TabCell(fit_cell(cell.value))
    return TabCell(cell.value, cell_format(cell))


def _chart(report: Report, table: Table, first: int, last: int, anchor_row: int) -> Chart | None:
    if last < first:
        return None
    if table.key == "reasons":
        rows = [first + i for i, r in enumerate(report.reasons.rows) if r.log == "all"]
        if not rows:
            return None
        span = Span(2, rows[0], rows[-1])  # the rows of "all" logs together are one block
        return _placed(
            "reasons",
            ChartKind.BAR,
            "Top failure reasons (all logs)",
            Span(1, rows[0], rows[-1]),
            (Series("Cases", span),),
            anchor_row,
        )
    if table.key == "parties":
        shown = min(last, first + _TOP_SHOWN - 1)
        if report.parties.ranked_by == "rate":
            series: tuple[Series, ...] = (
                Series("Rate", Span(6, first, shown)),
                Series("Alarm limit", Span(7, first, shown)),
            )
            title = "After-sales rate by party, with the alarm limit"
        else:
            series = (Series("Cases", Span(2, first, shown)),)
            title = "Cases by party (no order data: counts, not rates)"
        return _placed("parties", ChartKind.BAR, title, Span(1, first, shown), series, anchor_row)
    if table.key == "trend":
        lines = tuple(Series(log, Span(1 + index, first, last)) for index, log in enumerate(report.logs))
        return _placed("trend", ChartKind.LINE, "Cases per period", Span(0, first, last), lines, anchor_row)
    return None


def _trend_by_log(sheet: _Sheet, report: Report) -> tuple[int, int]:
    """The trend's cases as a period-by-log table (what its chart draws); its first and last data rows."""
    counts = {(point.period, point.log): point.cases.count for point in report.trend.points}
    sheet.add(())
    sheet.add((TabCell("Period", bold=True), *(TabCell(log, bold=True) for log in report.logs)))
    first = sheet.last_row + 1
    for period in report.trend.periods:
        sheet.add((TabCell(period), *(TabCell(counts.get((period, log), 0), "0") for log in report.logs)))
    return first, sheet.last_row


def _placed(
    slot: str, kind: ChartKind, title: str, categories: Span, series: tuple[Series, ...], anchor_row: int
) -> Chart:
    return Chart(
        slot=slot,
        kind=kind,
        title=title,
        categories=categories,
        series=series,
        anchor_row=anchor_row,
        anchor_column=CHART_COLUMN,
        width_columns=8,
        height_rows=CHART_ROWS,
    )
