"""What a sync writes back into the sheet, independent of where the sheet lives.

Only kakosheet's cells: IDs, the Issues note, blank fill-when-blank cells. A cell is in
the write-back only when its value changes, so an unchanged sheet is not written at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kakosheet.core.grid import column_letters
from kakosheet.core.issues import Issue
from kakosheet.core.plan import NOTE_LIMIT, LogPlan, RowCase
from kakosheet.core.table import Table

CellValue = str | dt.datetime | dt.date | None


@dataclass(frozen=True)
class CellUpdate:
    """One cell to write: sheet row, column index (0 = A), the new value (None clears it)."""

    row: int
    column: int
    value: CellValue
    was: Any  # what the cell held when read, so a source can check the row did not change


@dataclass
class SheetWrite:
    """Everything written into one log tab."""

    sheet: str
    header_row: int
    first_column: int
    last_column: int
    issues_column: int | None
    labels: dict[str, int] = field(default_factory=dict)  # column label as typed -> index
    cells: list[CellUpdate] = field(default_factory=list)


@dataclass
class WriteBack:
    sheets: list[SheetWrite] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)  # every open issue, for the Issues tab

    def cell_of(self, issue: Issue) -> str | None:
        """Where an issue's cell is ("'QC Log'!E12"), for a link; the row's first cell without a column."""
        sheet = next((s for s in self.sheets if s.sheet == issue.sheet), None)
        if sheet is None or issue.row is None:
            return None
        column = sheet.labels.get(issue.column or "", sheet.first_column)
        return f"'{sheet.sheet.replace(chr(39), chr(39) * 2)}'!{column_letters(column)}{issue.row}"

    @property
    def cell_count(self) -> int:
        return sum(len(s.cells) for s in self.sheets)


def note_text(notes: Iterable[str]) -> str | None:
    """The Issues cell: notes separated by "; " (a highlight rule looks for "; Label:")."""
    text = "; ".join(notes)
    if len(text) > NOTE_LIMIT:
        text = text[: NOTE_LIMIT - 1] + "…"
    return text or None


def sheet_write(table: Table, plan: LogPlan, new_ids: dict[str, RowCase]) -> SheetWrite:
    """The cells of one tab whose value a sync changes."""
    schema = table.schema
    assert schema.id is not None
    columns = table.header.columns
    write = SheetWrite(
        sheet=table.sheet,
        header_row=table.header_row,
        first_column=min(columns.values()),
        last_column=max(columns.values()),
        issues_column=columns.get("issues"),
        labels={table.header.labels[f]: index for f, index in columns.items()},
    )
    id_column = columns.get(schema.id.field)
    # Lists, not arrays: read one row at a time, a list is the faster to index.
    ids_read = table.columns[schema.id.field].row_raw().tolist() if schema.id.field in table.columns else None
    notes_read = table.columns["issues"].row_raw().tolist() if "issues" in table.columns else None

    def add(case: RowCase, column: int | None, value: CellValue, was: Any) -> None:
        if column is not None and _differs(value, was):
            write.cells.append(CellUpdate(case.row, column, value, was))

    def mine(cases: Iterable[tuple[str, RowCase]]) -> list[tuple[str, RowCase]]:
        return [(case_id, case) for case_id, case in cases if case.sheet == table.sheet]

    for case_id, case in mine([*new_ids.items(), *plan.restored.items()]):
        add(case, id_column, case_id, ids_read[case.index] if ids_read is not None else None)
    conflicts = [(case, message) for case, _code, message in plan.conflicts if case.sheet == table.sheet]
    conflict_notes: dict[int, list[str]] = {}
    for case, message in conflicts:
        conflict_notes.setdefault(case.index, []).append(message)
    # Only rows with a note to write or a note to clear can change the Issues column.
    noted = set(np.flatnonzero(table.columns["issues"].present).tolist()) if "issues" in table.columns else set()
    stored_rows = [case for _, case in mine([*new_ids.items(), *plan.rows()])]
    for case in [*stored_rows, *(case for case, _ in conflicts)]:
        if case.notes or case.index in noted or case.index in conflict_notes:
            note = note_text([*conflict_notes.get(case.index, []), *case.notes])
            add(case, write.issues_column, note, notes_read[case.index] if notes_read is not None else None)
    # Unchanged rows have nothing to fill: a filled blank would have changed their content.
    for _, case in mine(
        [*new_ids.items(), *plan.adopted.items(), *plan.restored.items(), *plan.changed.items(), *plan.returned.items()]
    ):
        for field_name, value in case.fills.items():
            add(case, columns.get(field_name), value, None)
    write.cells.sort(key=lambda c: (c.row, c.column))
    return write


def _differs(value: CellValue, was: Any) -> bool:
    if was is None or (isinstance(was, str) and not was.strip()):
        return value is not None
    if isinstance(was, float) and isinstance(value, str):
        return True
    return str(was).strip() != (str(value) if value is not None else "")
