"""What a sync writes back into the sheet, independent of where the sheet lives.

Only kakosheet's cells: IDs, the Issues note, blank fill-when-blank cells. A cell is in
the write-back only when its value changes, so an unchanged sheet is not written at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from kakosheet.core.grid import column_letters
from kakosheet.core.issues import Issue
from kakosheet.core.owned_tab import CellLink, OwnedTab

if TYPE_CHECKING:  # what a sync plans: the write-back's records are used (by every source) without it
    from kakosheet.core.plan import LogPlan, RowCase
    from kakosheet.core.table import Table

CellValue = str | dt.datetime | dt.date | None
NOTE_LIMIT = 1000  # characters of the Issues note written into a cell


@dataclass(frozen=True, slots=True)
class CellUpdate:
    """One cell to write: sheet row, column index (0 = A), the new value (None clears it).

    Slots: a first sync writes one or two per row, and each lives until the sheet is written.
    """

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
    id_column: int | None = None  # a row whose ID cell could not be written is left for the next sync
    labels: dict[str, int] = field(default_factory=dict)  # column label as typed -> index
    cells: list[CellUpdate] = field(default_factory=list)


@dataclass
class WriteBack:
    sheets: list[SheetWrite] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)  # every open issue, for the Issues tab
    identity: str | None = None  # to write into a workbook that does not carry it yet (app/identity.py)
    tabs: list[OwnedTab] = field(default_factory=list)  # kakosheet's own tabs, each written whole (core/owned_tab.py)

    def cell_of(self, issue: Issue) -> CellLink | None:
        """Where an issue's cell is ('QC Log'!E12), for a link; the row's first cell without a column."""
        sheet = next((s for s in self.sheets if s.sheet == issue.sheet), None)
        if sheet is None or issue.row is None:
            return None
        column = sheet.labels.get(issue.column or "", sheet.first_column)
        return CellLink(sheet.sheet, f"{column_letters(column)}{issue.row}")

    @property
    def cell_count(self) -> int:
        return sum(len(s.cells) for s in self.sheets)


def note_text(notes: Iterable[str]) -> str | None:
    """The Issues cell: notes separated by "; " (a highlight rule looks for "; Label:").

    Past NOTE_LIMIT characters, whole notes are left off and the cell says how many; a first
    note longer than the cell is cut, visibly (…).
    """
    notes = list(notes)
    text = "; ".join(notes)
    if len(text) <= NOTE_LIMIT:
        return text or None
    kept: list[str] = []
    length = 0  # of the kept notes, each with the "; " after it
    for note in notes:
        left = len(notes) - len(kept) - 1
        if length + len(note) + (len(_more_notes(left)) + 2 if left else 0) > NOTE_LIMIT:
            break
        kept.append(note)
        length += len(note) + 2
    if not kept:
        left = len(notes) - 1
        room = NOTE_LIMIT - (len(_more_notes(left)) + 2 if left else 0)
        kept = [notes[0][: room - 1] + "…"]
    left = len(notes) - len(kept)
    return "; ".join([*kept, _more_notes(left)] if left else kept)


def _more_notes(count: int) -> str:
    return f"… and {count} more (see the Issues tab)"


def sheet_write(table: Table, plan: LogPlan, new_ids: dict[str, RowCase]) -> SheetWrite:
    """The cells of one tab whose value a sync changes, in sheet order.

    The plan's groups are walked in place, not copied into lists of pairs: on a first sync
    every row is new, and each object that survives the walk is more for the garbage
    collector to traverse again and again while the sync runs.
    """
    schema = table.schema
    assert schema.id is not None
    columns = table.header.columns
    write = SheetWrite(
        sheet=table.sheet,
        header_row=table.header_row,
        first_column=min(columns.values()),
        last_column=max(columns.values()),
        issues_column=columns.get("issues"),
        id_column=columns.get(schema.id.field),
        labels={table.header.labels[f]: index for f, index in columns.items()},
    )
    if write.id_column is not None:
        _write_ids(
            write, write.id_column, _cells_read(table, schema.id.field), _on_sheet(table.sheet, new_ids, plan.restored)
        )
    if write.issues_column is not None:
        _write_notes(write, table, plan, new_ids)
    # Any stored row may have a blank derived cell: a stale copy saved over the sheet lost them.
    _write_fills(write, table, (case for _, case in _on_sheet(table.sheet, new_ids, plan.rows())))
    write.cells.sort(key=_SHEET_ORDER)
    return write


_SHEET_ORDER = attrgetter("row", "column")


def _on_sheet(
    sheet: str, *groups: Iterable[tuple[str, RowCase]] | Mapping[str, RowCase]
) -> Iterator[tuple[str, RowCase]]:
    """(case ID, case) of the groups' rows on one tab."""
    for group in groups:
        for case_id, case in group.items() if isinstance(group, Mapping) else group:
            if case.sheet == sheet:
                yield case_id, case


def _cells_read(table: Table, field_name: str) -> list[Any] | None:
    """A column's cells as read, per row (a list: read one row at a time, the faster to index)."""
    return table.columns[field_name].row_raw().tolist() if field_name in table.columns else None


def _write_ids(
    write: SheetWrite, id_column: int, ids_read: list[Any] | None, cases: Iterable[tuple[str, RowCase]]
) -> None:
    """The IDs of new and restored rows."""
    cells = write.cells
    for case_id, case in cases:
        was = ids_read[case.index] if ids_read is not None else None
        if _differs(case_id, was):
            cells.append(CellUpdate(case.row, id_column, case_id, was))


def _write_notes(write: SheetWrite, table: Table, plan: LogPlan, new_ids: dict[str, RowCase]) -> None:
    """The Issues cell of every stored or conflicting row with a note to write or to clear."""
    assert write.issues_column is not None
    notes_read = _cells_read(table, "issues")
    conflicts = [(case, message) for case, _code, message in plan.conflicts if case.sheet == table.sheet]
    conflict_notes: dict[int, list[str]] = {}
    for case, message in conflicts:
        conflict_notes.setdefault(case.index, []).append(message)
    # Only rows with a note to write or a note to clear can change the Issues column.
    noted = set(table.columns["issues"].present.nonzero()[0].tolist()) if "issues" in table.columns else set()
    # One comprehension over every stored row (on a first sync, all of them): few have a note.
    stored = [
        case
        for _, case in chain(new_ids.items(), plan.rows())
        if (case.notes or case.index in noted or case.index in conflict_notes) and case.sheet == table.sheet
    ]
    cells = write.cells
    for case in chain(stored, (case for case, _ in conflicts)):  # a conflict always has a note
        note = note_text([*conflict_notes.get(case.index, []), *case.notes])
        was = notes_read[case.index] if notes_read is not None else None
        if _differs(note, was):
            cells.append(CellUpdate(case.row, write.issues_column, note, was))


def _write_fills(write: SheetWrite, table: Table, cases: Iterable[RowCase]) -> None:
    """Blank derived cells (core/derived.py): a new case's derived value, a stored case's kept one.
    A cell holding a formula or a typed value is never written."""
    columns = table.header.columns
    fillable: set[int] | None = None
    for case in cases:
        if fillable is None:
            fillable = case.source.fillable_rows()
            if not fillable:
                return
        if case.index in fillable:
            for field_name, value in case.fills.items():
                column = columns.get(field_name)
                if column is not None and _differs(value, None):
                    write.cells.append(CellUpdate(case.row, column, value, None))


def _differs(value: CellValue, was: Any) -> bool:
    if was is None or (isinstance(was, str) and not was.strip()):
        return value is not None
    if isinstance(was, float) and isinstance(value, str):
        return True
    return str(was).strip() != (str(value) if value is not None else "")
