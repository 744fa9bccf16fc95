"""The report as a standalone workbook: each section a real Excel table (number, money and date
formats, frozen header), native charts, and a Cases table to filter to the cases behind a figure.

openpyxl writes it: it is a new file, never the team's workbook. Text is always written as
text, so a case's description `=HYPERLINK(...)` is never a formula."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.series import SeriesLabel
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table as ExcelTable
from openpyxl.worksheet.table import TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from kakosheet.core.codes import minor_units
from kakosheet.reports.model import Report
from kakosheet.reports.tables import Cell, Kind, Table, layout

HEADER_ROW = 4  # title, note, a blank row, then the table
SHEET_NAMES = {
    "reasons": "Reasons",
    "parties": "Parties",
    "costs": "Costs",
    "refunds": "Refunds",
    "open": "Open cases",
    "flow": "Opened and closed",
    "trend": "Trend",
    "repeats": "Repeats",
    "quality": "Quality",
    "quality_logs": "Quality per log",
    "placeholders": "SLA",
    "since_publication": "Since publication",
}
CASE_COLUMNS = (
    "Log",
    "Case ID",
    "Date",
    "Reason",
    "Party",
    "Party kind",
    "Status",
    "Currency",
    "Net cost",
    "Age (days)",
    "Logged by",
    "Incomplete",
)


_NUMBER_FORMATS = {Kind.COUNT: "0", Kind.CHANGE: "+0;-0;0", Kind.DAYS: "0.0"}


def _money_format(currency: str | None) -> str:
    places = minor_units(currency) if currency else 2
    number = "#,##0" + ("." + "0" * places if places else "")
    return f'{number} "{currency}"' if currency else number


def _put(sheet: Worksheet, row: int, column: int, value: Any, number_format: str | None = None) -> None:
    cell = sheet.cell(row, column)
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # text stays text: never evaluated as a formula
    else:
        cell.value = value
    if number_format:
        cell.number_format = number_format


def _write_cell(sheet: Worksheet, row: int, column: int, cell: Cell) -> None:
    value = cell.value
    if cell.kind is Kind.MONEY and isinstance(value, Decimal):
        _put(sheet, row, column, value, _money_format(cell.currency))
    elif cell.kind is Kind.SHARE and isinstance(value, Decimal):
        _put(sheet, row, column, value, "0.0%")
    elif cell.kind in _NUMBER_FORMATS and value is not None:
        _put(sheet, row, column, value, _NUMBER_FORMATS[cell.kind])
    elif isinstance(value, dt.date):
        _put(sheet, row, column, value, "yyyy-mm-dd")
    else:
        _put(sheet, row, column, "" if value is None else str(value))


def _table_name(key: str) -> str:
    return "T_" + re.sub(r"[^A-Za-z0-9_]", "_", key)


def _frame(sheet: Worksheet, title: str, note: str, columns: tuple[str, ...]) -> None:
    _put(sheet, 1, 1, title)
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    if note:
        _put(sheet, 2, 1, note)
    for index, name in enumerate(columns, start=1):
        _put(sheet, HEADER_ROW, index, name)
        sheet.column_dimensions[get_column_letter(index)].width = max(12, min(40, len(name) + 4))
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 1)


def _add_table(sheet: Worksheet, key: str, columns: int, rows: int) -> None:
    if rows == 0:
        return
    ref = f"A{HEADER_ROW}:{get_column_letter(columns)}{HEADER_ROW + rows}"
    table = ExcelTable(displayName=_table_name(key), ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    sheet.add_table(table)


def _section(sheet: Worksheet, table: Table) -> None:
    columns = (*table.columns, "Case IDs")
    _frame(sheet, table.title, table.note, columns)
    for r, (row, ids) in enumerate(zip(table.rows, table.case_ids, strict=True), start=HEADER_ROW + 1):
        for c, cell in enumerate(row, start=1):
            _write_cell(sheet, r, c, cell)
        _put(sheet, r, len(columns), ", ".join(ids))
    sheet.column_dimensions[get_column_letter(len(columns))].width = 60
    _add_table(sheet, table.key, len(columns), len(table.rows))


def _reasons_chart(sheet: Worksheet, report: Report) -> None:
    together = [i for i, r in enumerate(report.reasons.rows) if r.log == "all"]
    if not together:
        return
    first, last = HEADER_ROW + 1 + together[0], HEADER_ROW + 1 + together[-1]
    chart = BarChart()
    chart.type = "bar"
    chart.title = "Top failure reasons (all logs)"
    chart.add_data(Reference(sheet, min_col=3, min_row=first, max_row=last), titles_from_data=False)
    chart.set_categories(Reference(sheet, min_col=2, min_row=first, max_row=last))
    chart.legend = None
    sheet.add_chart(chart, "K4")


def _trend_chart(sheet: Worksheet, report: Report) -> None:
    periods = len(report.trend.periods)
    if not report.trend.points or not periods:
        return
    chart = LineChart()
    chart.title = "Cases per period"
    for index, log in enumerate(report.logs):
        first = HEADER_ROW + 1 + index * periods
        series = Reference(sheet, min_col=4, min_row=first, max_row=first + periods - 1)
        chart.add_data(series, titles_from_data=False)
        chart.series[-1].tx = SeriesLabel(v=log)
    chart.set_categories(Reference(sheet, min_col=1, min_row=HEADER_ROW + 1, max_row=HEADER_ROW + periods))
    sheet.add_chart(chart, "H4")


def _parties_chart(sheet: Worksheet, report: Report) -> None:
    rows = len(report.parties.rows)
    if not rows:
        return
    first, last = HEADER_ROW + 1, HEADER_ROW + min(rows, 20)
    chart = BarChart()
    if report.parties.ranked_by == "rate":
        chart.title = "After-sales rate by party, with the alarm limit"
        chart.add_data(Reference(sheet, min_col=7, max_col=8, min_row=HEADER_ROW, max_row=last), titles_from_data=True)
    else:
        chart.title = "Cases by party (no order data: counts, not rates)"
        chart.add_data(Reference(sheet, min_col=3, min_row=HEADER_ROW, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=2, min_row=first, max_row=last))
    sheet.add_chart(chart, "L4")


def _cases(sheet: Worksheet, report: Report) -> None:
    _frame(sheet, f"Cases of {report.period}", "filter here to the cases behind any figure", CASE_COLUMNS)
    for r, line in enumerate(report.cases, start=HEADER_ROW + 1):
        values = (
            line.log,
            line.case_id,
            line.date,
            line.reason,
            line.party,
            line.party_kind,
            line.status,
            line.currency,
            line.net_cost,
            line.age_days,
            line.logged_by,
            "yes" if line.incomplete else "no",
        )
        for c, value in enumerate(values, start=1):
            if isinstance(value, dt.date):
                _put(sheet, r, c, value, "yyyy-mm-dd")
            elif isinstance(value, Decimal):
                _put(sheet, r, c, value, _money_format(line.currency))
            else:
                _put(sheet, r, c, "" if value is None else value, "0" if isinstance(value, int) else None)
    _add_table(sheet, "cases", len(CASE_COLUMNS), len(report.cases))


def render_xlsx(report: Report) -> bytes:
    """The workbook's bytes."""
    laid = layout(report)
    workbook = Workbook()
    summary = workbook.active
    summary.title = "Summary"
    _put(summary, 1, 1, laid.title)
    summary.cell(1, 1).font = Font(bold=True, size=16)
    _put(summary, 2, 1, laid.subtitle)
    for offset, table in enumerate(laid.tables, start=4):
        _put(summary, offset, 1, table.title)
        _put(summary, offset, 2, table.note)
    summary.column_dimensions["A"].width = 45
    sheets = {}
    for table in laid.tables:
        sheet = workbook.create_sheet(SHEET_NAMES.get(table.key, table.key[:31]))
        _section(sheet, table)
        sheets[table.key] = sheet
    _reasons_chart(sheets["reasons"], report)
    _trend_chart(sheets["trend"], report)
    _parties_chart(sheets["parties"], report)
    _cases(workbook.create_sheet("Cases"), report)
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()
