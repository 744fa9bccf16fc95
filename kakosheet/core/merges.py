"""Merged cells over kakosheet's own cells: which case rows a merged area keeps from showing them.

Excel and Google Sheets show only the top-left cell of a merged area; a value in any other
cell of it is invisible, and lost when the merge is edited. Staff merge cells to group rows,
so a case row's ID, Issues and fill-when-blank cells (the cells kakosheet writes) may end up
held by a merge:

- a case row whose ID cell a merge holds is an error: the row is not stored and no ID is
  written into it until the cells are unmerged (the plan holds it back, as it does an ID
  computed by a formula). That includes the merge's top-left cell when the merge reaches
  another case row: its one ID would read as the ID of every row the merge spans;
- a case row whose Issues or fill-when-blank cell a merge holds is a warning: its case is
  stored under its own visible ID, but kakosheet writes nothing into a hidden cell;
- the top-left cell of a merge that spans one case row only (a title merged across two
  columns, a merge reaching into blank rows below) shows that row's value and nobody
  else's: it is not flagged, and kakosheet writes into it;
- merges in the header rows, or in columns kakosheet never writes, are the staff's own.

Beneath the plan, a source's write-back never writes into a cell hidden under a merge it
read (``drop_hidden``), whatever it is asked to write; a row whose ID cell it leaves is left
for the next sync, as a row that moved is.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kakosheet.core.derived import derived_fields
from kakosheet.core.grid import MergedArea

if TYPE_CHECKING:
    from kakosheet.core.schema import LogSchema
    from kakosheet.core.table import Table
    from kakosheet.core.writeback import CellUpdate, SheetWrite, WriteBack

MERGED_ID = "merged-id"  # an ID cell held by a merge: the row is not stored (a code the plan decides)
MERGED_CELL = "merged-cell"  # an Issues or fill-when-blank cell held by a merge: not written


@dataclass(frozen=True, slots=True)
class MergedCell:
    """One case row's kakosheet cell that a merged area holds."""

    index: int  # the row's position in its table
    field: str
    area: MergedArea


class MergedId(str):
    """An ID cell held by a merged area, as read (hidden IDs too): never taken as the row's ID.

    ``message`` says why and how to fix it, in the words validation uses for the row.
    """

    message: str

    def __new__(cls, text: str, message: str) -> MergedId:
        held = super().__new__(cls, text)
        held.message = message
        return held


def written_fields(schema: LogSchema) -> list[str]:
    """The fields of a log whose cells kakosheet writes: the ID, the Issues note, the derived fills."""
    fields = [schema.id.field] if schema.id is not None else []
    if schema.issues_column is not None:
        fields.append(schema.issues_column.field)
    return [*fields, *sorted(derived_fields(schema))]


def merged_cells(table: Table) -> list[MergedCell]:
    """Every case row's kakosheet cell a merged area holds, in sheet order (module docstring)."""
    if not table.merges or not len(table):
        return []
    columns = table.header.columns
    written = [(columns[f], f) for f in written_fields(table.schema) if f in columns]
    found: list[MergedCell] = []
    for area in table.merges:
        held = [(column, f) for column, f in written if area.first_column <= column <= area.last_column]
        if not held:
            continue
        start, end = (int(i) for i in table.rows.searchsorted([area.first_row, area.last_row + 1]))
        if start == end:
            continue  # header rows, or rows that are not cases
        for column, field_name in held:
            if end - start == 1 and int(table.rows[start]) == area.first_row and column == area.first_column:
                continue  # the top-left cell, showing its one case's own value
            found.extend(MergedCell(index, field_name, area) for index in range(start, end))
    return sorted(found, key=lambda cell: (cell.index, columns[cell.field]))


def merged_message(table: Table, cell: MergedCell) -> str:
    """What an issue on a held cell says: the tab, the merged range, and how to fix it."""
    label = table.label(cell.field)
    ref = cell.area.ref
    fix = f"unmerge {ref} in {table.sheet!r}: each case needs its own {label} cell"
    shared = f"{ref} is merged, and merged cells show one value for all of them"
    if table.schema.id is not None and cell.field == table.schema.id.field:
        return f"{shared}, so this case cannot show a {label} of its own and is not stored; {fix}"
    return f"{shared}, so kakosheet writes nothing into this row's {label} cell; {fix}"


def drop_hidden(
    changes: WriteBack, merges: Mapping[str, Sequence[MergedArea]]
) -> tuple[WriteBack, frozenset[tuple[str, int]]]:
    """The write-back without the cells hidden under a merged area of their tab, and the
    (tab, row) of the dropped ID cells: those rows do not show their ID, so their cases wait."""
    sheets: list[SheetWrite] = []
    unshown: set[tuple[str, int]] = set()
    for write in changes.sheets:
        hidden = _hidden_in(write.cells, merges.get(write.sheet, ()))
        if hidden:
            unshown.update((write.sheet, row) for row, column in hidden if column == write.id_column)
            write = dataclasses.replace(write, cells=[c for c in write.cells if (c.row, c.column) not in hidden])
        sheets.append(write)
    if all(new is old for new, old in zip(sheets, changes.sheets, strict=True)):
        return changes, frozenset()
    return dataclasses.replace(changes, sheets=sheets), frozenset(unshown)


def _hidden_in(cells: Sequence[CellUpdate], merges: Sequence[MergedArea]) -> set[tuple[int, int]]:
    """The (row, column) of the cells some merge hides, looked up per column by the merges' first rows."""
    if not merges or not cells:
        return set()
    by_column: dict[int, list[MergedArea]] = defaultdict(list)
    written = {cell.column for cell in cells}
    for area in merges:
        for column in written:
            if area.first_column <= column <= area.last_column:
                by_column[column].append(area)
    if not by_column:
        return set()
    starts: dict[int, list[int]] = {}
    for column, areas in by_column.items():
        areas.sort(key=lambda a: a.first_row)
        starts[column] = [a.first_row for a in areas]
    hidden: set[tuple[int, int]] = set()
    for cell in cells:
        candidates = by_column.get(cell.column)
        if candidates is None:
            continue
        at = bisect.bisect_right(starts[cell.column], cell.row) - 1  # merges never overlap
        if at >= 0 and candidates[at].hides(cell.row, cell.column):
            hidden.add((cell.row, cell.column))
    return hidden
