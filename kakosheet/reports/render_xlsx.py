"""The report as a standalone workbook: each section a real Excel table (number, money and date
formats, frozen header), native charts, and a Cases table to filter to the cases behind a figure.

XlsxWriter writes it (about 5x faster than openpyxl for a big period's Cases sheet, most of the
file's cells): it is a new file, never the team's workbook. Text is always written as text, so a
case's description `=HYPERLINK(...)` is never a formula."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from io import BytesIO
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from kakosheet.reports.formats import CASE_COLUMNS, cell_format, fit_cell, money_format
from kakosheet.reports.model import Report
from kakosheet.reports.tables import Cell, Table, layout

HEADER_ROW = 4  # title, note, a blank row, then the table (1-based, as Excel numbers rows)
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
_HEAD = HEADER_ROW - 1  # the header's row as XlsxWriter counts (from 0)


class _Book:
    """The workbook and its formats, each made once."""

    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        self._formats: dict[str, Format] = {}
        self.date = self.number_format("yyyy-mm-dd")
        self.count = self.number_format("0")

    def number_format(self, code: str) -> Format:
        found = self._formats.get(code)
        if found is None:
            found = self._formats[code] = self.workbook.add_format({"num_format": code})
        return found

    def money(self, currency: str | None) -> Format:
        return self.number_format(money_format(currency))

    def title(self, size: int) -> Format:
        key = f"title {size}"
        if key not in self._formats:
            self._formats[key] = self.workbook.add_format({"bold": True, "font_size": size})
        return self._formats[key]


def _text(sheet: Worksheet, row: int, column: int, value: str) -> None:
    """Text as a string cell, never a formula; past what a cell holds, cut with a note saying so."""
    sheet.write_string(row, column, fit_cell(value))


def _write_cell(book: _Book, sheet: Worksheet, row: int, column: int, cell: Cell) -> None:
    value, number_format = cell.value, cell_format(cell)
    if number_format is not None and isinstance(value, int | Decimal):
        sheet.write_number(row, column, value, book.number_format(number_format))
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, column, value, book.date)
    else:
        _text(sheet, row, column, "" if value is None else str(value))


def _table_name(key: str) -> str:
    return "T_" + re.sub(r"[^A-Za-z0-9_]", "_", key)


def _unique(columns: tuple[str, ...]) -> tuple[str, ...]:
    """Column names as a table needs them, each once: a repeated one numbered as Excel numbers it
    (Previous, Previous2); Excel repairs a file whose table repeats a name."""
    seen: set[str] = set()
    names = []
    for name in columns:
        unique, number = name, 1
        while unique.casefold() in seen:
            number += 1
            unique = f"{name}{number}"
        seen.add(unique.casefold())
        names.append(unique)
    return tuple(names)


def _frame(book: _Book, sheet: Worksheet, title: str, note: str, columns: tuple[str, ...], rows: int, key: str) -> None:
    """Title, note, column widths, the frozen header, and the table (header written by it) over ``rows`` rows."""
    columns = _unique(columns)
    sheet.write_string(0, 0, title, book.title(14))
    if note:
        _text(sheet, 1, 0, note)
    for index, name in enumerate(columns):
        sheet.set_column(index, index, max(12, min(40, len(name) + 4)))
    sheet.freeze_panes(HEADER_ROW, 0)
    if rows == 0:  # no table without rows: the header alone
        for index, name in enumerate(columns):
            sheet.write_string(_HEAD, index, name)
        return
    sheet.add_table(
        _HEAD,
        0,
        _HEAD + rows,
        len(columns) - 1,
        {
            "name": _table_name(key),
            "columns": [{"header": name} for name in columns],
            "style": "Table Style Medium 2",
            "autofilter": False,
        },
    )


def _section(book: _Book, sheet: Worksheet, table: Table) -> None:
    columns = (*table.columns, "Case IDs")
    _frame(book, sheet, table.title, table.note, columns, len(table.rows), table.key)
    sheet.set_column(len(columns) - 1, len(columns) - 1, 60)
    for r, (row, ids) in enumerate(zip(table.rows, table.case_ids, strict=True), start=HEADER_ROW):
        for c, cell in enumerate(row):
            _write_cell(book, sheet, r, c, cell)
        _text(sheet, r, len(columns) - 1, ", ".join(ids))


def _ref(sheet: str, column: int, first: int, last: int) -> str:
    """A chart's reference to one column's rows (1-based), the sheet's name quoted as Excel does."""
    letter = xl_col_to_name(column - 1)
    return f"='{sheet}'!${letter}${first}:${letter}${last}"


def _reasons_chart(book: _Book, sheet: Worksheet, report: Report) -> None:
    together = [i for i, r in enumerate(report.reasons.rows) if r.log == "all"]
    if not together:
        return
    first, last = HEADER_ROW + 1 + together[0], HEADER_ROW + 1 + together[-1]
    chart = book.workbook.add_chart({"type": "bar"})
    chart.add_series({"values": _ref(sheet.name, 3, first, last), "categories": _ref(sheet.name, 2, first, last)})
    chart.set_title({"name": "Top failure reasons (all logs)"})
    chart.set_legend({"none": True})
    sheet.insert_chart("K4", chart)


def _trend_chart(book: _Book, sheet: Worksheet, report: Report) -> None:
    periods = len(report.trend.periods)
    if not report.trend.points or not periods:
        return
    chart = book.workbook.add_chart({"type": "line"})
    chart.set_title({"name": "Cases per period"})
    categories = _ref(sheet.name, 1, HEADER_ROW + 1, HEADER_ROW + periods)
    for index, log in enumerate(report.logs):
        first = HEADER_ROW + 1 + index * periods
        chart.add_series(
            {"name": log, "values": _ref(sheet.name, 4, first, first + periods - 1), "categories": categories}
        )
    sheet.insert_chart("H4", chart)


def _parties_chart(book: _Book, sheet: Worksheet, report: Report) -> None:
    rows = len(report.parties.rows)
    if not rows:
        return
    first, last = HEADER_ROW + 1, HEADER_ROW + min(rows, 20)
    chart = book.workbook.add_chart({"type": "column"})
    categories = _ref(sheet.name, 2, first, last)
    if report.parties.ranked_by == "rate":
        chart.set_title({"name": "After-sales rate by party, with the alarm limit"})
        columns: tuple[int, ...] = (7, 8)
    else:
        chart.set_title({"name": "Cases by party (no order data: counts, not rates)"})
        columns = (3,)
    for column in columns:
        name = f"='{sheet.name}'!${xl_col_to_name(column - 1)}${HEADER_ROW}"
        chart.add_series({"name": name, "values": _ref(sheet.name, column, first, last), "categories": categories})
    sheet.insert_chart("L4", chart)


def _cases(book: _Book, sheet: Worksheet, report: Report) -> None:
    title = f"Cases of {report.period}"
    _frame(book, sheet, title, "filter here to the cases behind any figure", CASE_COLUMNS, len(report.cases), "cases")
    text, number, date = sheet.write_string, sheet.write_number, sheet.write_datetime
    for r, line in enumerate(report.cases, start=HEADER_ROW):
        text(r, 0, line.log)
        text(r, 1, line.case_id)
        date(r, 2, line.date, book.date)
        for c, value in ((3, line.reason), (4, line.party), (5, line.party_kind), (6, line.status), (7, line.currency)):
            if value is not None:
                text(r, c, value)
        if line.net_cost is not None:
            number(r, 8, line.net_cost, book.money(line.currency))
        number(r, 9, line.age_days, book.count)
        if line.logged_by is not None:
            text(r, 10, line.logged_by)
        text(r, 11, "yes" if line.incomplete else "no")


def render_xlsx(report: Report) -> bytes:
    """The workbook's bytes."""
    laid = layout(report)
    out = BytesIO()
    options: dict[str, Any] = {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False}
    workbook = xlsxwriter.Workbook(out, options)
    book = _Book(workbook)
    summary = workbook.add_worksheet("Summary")
    summary.set_column(0, 0, 45)
    summary.write_string(0, 0, laid.title, book.title(16))
    _text(summary, 1, 0, laid.subtitle)
    for offset, table in enumerate(laid.tables, start=3):
        _text(summary, offset, 0, table.title)
        _text(summary, offset, 1, table.note)
    for table in laid.tables:
        sheet = workbook.add_worksheet(SHEET_NAMES.get(table.key, table.key[:31]))
        _section(book, sheet, table)
        if table.key == "reasons":
            _reasons_chart(book, sheet, report)
        elif table.key == "trend":
            _trend_chart(book, sheet, report)
        elif table.key == "parties":
            _parties_chart(book, sheet, report)
    _cases(book, workbook.add_worksheet("Cases"), report)
    workbook.close()
    return out.getvalue()
