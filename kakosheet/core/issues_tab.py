"""The Issues tab a sync writes into the sheet: every open issue, with where it is."""

from __future__ import annotations

from dataclasses import dataclass

from kakosheet.core.writeback import WriteBack

ISSUES_TAB = "Issues"
ISSUES_MARK = "kakosheet: every open issue of the last sync"
ISSUES_HEADER = ("Sheet", "Row", "Column", "Case ID", "Severity", "Code", "Message", "Value")
ISSUES_WIDTHS = (14, 7, 20, 18, 9, 16, 90, 24)  # in characters


@dataclass(frozen=True)
class IssueLine:
    """One row of the Issues tab and the cell it points to ("'QC Log'!E12"), if any."""

    values: tuple[str | int | None, ...]
    target: str | None


def issue_lines(changes: WriteBack) -> list[IssueLine]:
    """The rows below the Issues tab's header, ordered by tab, row and column."""
    lines = []
    for issue in sorted(changes.issues, key=lambda i: (i.sheet or "", i.row or 0, i.column or "")):
        values = (
            issue.sheet or issue.log,
            issue.row,
            issue.column,
            issue.case_id,
            issue.severity,
            issue.code,
            issue.message,
            issue.value,
        )
        lines.append(IssueLine(values, changes.cell_of(issue)))
    return lines
