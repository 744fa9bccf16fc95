"""How a report's typed cells look in a workbook (xlsx file or report tab), and the Cases table
both carry: one place for the number formats, so the two cannot differ."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from kakosheet.core.codes import minor_units
from kakosheet.core.owned_tab import CELL_CHARS, excel_length, fit_text
from kakosheet.reports import model as m
from kakosheet.reports.tables import Cell, Kind

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
DATE_FORMAT = "yyyy-mm-dd"
_NUMBER_FORMATS = {Kind.COUNT: "0", Kind.CHANGE: "+0;-0;0", Kind.DAYS: "0.0", Kind.SHARE: "0.0%"}


def money_format(currency: str | None) -> str:
    """An amount with its currency's decimals and code: #,##0.00 "EUR", #,##0 "JPY"."""
    places = minor_units(currency) if currency else 2
    number = "#,##0" + ("." + "0" * places if places else "")
    return f'{number} "{currency}"' if currency else number


def cell_format(cell: Cell) -> str | None:
    """The Excel number format of a report cell (None: text, or a blank)."""
    if cell.value is None or isinstance(cell.value, str):
        return None
    if cell.kind is Kind.MONEY:
        return money_format(cell.currency)
    if isinstance(cell.value, dt.date):
        return DATE_FORMAT
    return _NUMBER_FORMATS.get(cell.kind)


def case_cells(line: m.CaseLine) -> tuple[Cell, ...]:
    """One row of the Cases table: the keys the figures group by, typed."""
    return (
        Cell(Kind.TEXT, line.log),
        Cell(Kind.TEXT, line.case_id),
        Cell(Kind.DATE, line.date),
        Cell(Kind.TEXT, line.reason),
        Cell(Kind.TEXT, line.party),
        Cell(Kind.TEXT, line.party_kind),
        Cell(Kind.TEXT, line.status),
        Cell(Kind.TEXT, line.currency),
        Cell(Kind.MONEY, line.net_cost, line.currency) if isinstance(line.net_cost, Decimal) else Cell(Kind.TEXT, None),
        Cell(Kind.COUNT, line.age_days),
        Cell(Kind.TEXT, line.logged_by),
        Cell(Kind.TEXT, "yes" if line.incomplete else "no"),
    )


def fit_cell(value: str) -> str:
    """A text as a cell holds it: past the limit (case IDs, a long text), cut where a list item
    ends, saying how many are left out."""
    if len(value) <= CELL_CHARS // 2 or excel_length(value) <= CELL_CHARS:
        return value
    kept = fit_text(value, CELL_CHARS - 100).removesuffix("…").rsplit(", ", 1)[0]
    left = value.count(", ") - kept.count(", ")
    return f"{kept} … and {left} more (the Cases table and the JSON report list them all)"
