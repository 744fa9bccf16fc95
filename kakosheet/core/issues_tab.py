"""The Issues tab a sync writes into the sheet: every open issue, with where it is.

The tab stays a sheet a spreadsheet can open: at most a worksheet's rows (the last one says
how many issues were left off), and no cell longer than a cell holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from kakosheet.core.owned_tab import SHEET_ROWS, CellLink, Filter, OwnedTab, TabCell, fit_text
from kakosheet.core.plural import counted
from kakosheet.core.writeback import WriteBack

ISSUES_TAB = "Issues"
ISSUES_MARK = "kakosheet: every open issue of the last sync"
ISSUES_HEADER = ("Sheet", "Row", "Column", "Case ID", "Severity", "Code", "Message", "Value")
ISSUES_WIDTHS = (14, 7, 20, 18, 9, 16, 90, 24)  # in characters
_TOP_ROWS = 2  # the mark and the header
_MESSAGE = ISSUES_HEADER.index("Message")


@dataclass(frozen=True)
class IssueLine:
    """One row of the Issues tab and the cell it points to ("'QC Log'!E12"), if any."""

    values: tuple[str | int | None, ...]
    target: CellLink | None


def issues_tab(changes: WriteBack) -> OwnedTab:
    """The Issues tab as an owned tab: the mark, the header, a row per issue linking to its cell.

    Added to a workbook only when there is an issue to list; once there, rewritten on every sync
    (emptied when every issue is fixed)."""
    lines = issue_lines(changes)
    header = tuple(TabCell(name, bold=True) for name in ISSUES_HEADER)
    rows: list[tuple[TabCell | None, ...]] = [(TabCell(ISSUES_MARK),), header]
    for line in lines:
        cells = tuple(None if value is None or value == "" else TabCell(value) for value in line.values)
        if line.target is not None and cells[0] is not None:
            cells = (TabCell(cells[0].value, link=line.target), *cells[1:])
        rows.append(cells)
    last = len(rows)
    return OwnedTab(
        title=ISSUES_TAB,
        mark=ISSUES_MARK,
        rows=tuple(rows),
        widths=ISSUES_WIDTHS,
        frozen_rows=_TOP_ROWS,
        filter=Filter(_TOP_ROWS, last, 0, len(ISSUES_HEADER) - 1) if last > _TOP_ROWS else None,
        create=bool(changes.issues),
    )


def issue_lines(changes: WriteBack) -> list[IssueLine]:
    """The rows below the Issues tab's header, ordered by tab, row and column; capped to fit the sheet."""
    issues = sorted(changes.issues, key=lambda i: (i.sheet or "", i.row or 0, i.column or ""))
    room = SHEET_ROWS - _TOP_ROWS
    shown = issues if len(issues) <= room else issues[: room - 1]  # the last row says how many are left
    lines = []
    for issue in shown:
        # A typed ID, or a value, is as long as its cell: each is cut to what a cell holds, visibly.
        case_id, value = (None if text is None else fit_text(text) for text in (issue.case_id, issue.value))
        message = fit_text(issue.message)
        sheet, row, column = issue.sheet or issue.log, issue.row, issue.column
        values = (sheet, row, column, case_id, issue.severity, issue.code, message, value)
        lines.append(IssueLine(values, changes.cell_of(issue)))
    if len(shown) < len(issues):
        lines.append(IssueLine(_closing_line(len(issues) - len(shown)), None))
    return lines


def _closing_line(more: int) -> tuple[str | int | None, ...]:
    values: list[str | int | None] = [None] * len(ISSUES_HEADER)
    values[_MESSAGE] = (
        f"… and {counted(more, 'more issue')}, not listed: a worksheet holds {SHEET_ROWS:,} rows. Fix the ones above "
        "and sync again, or run kakosheet validate --format json to see them all"
    )
    return tuple(values)
