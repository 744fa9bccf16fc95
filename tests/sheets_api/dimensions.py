"""Inserting and deleting rows/columns: everything below (or right of) the change moves with its cells.

Values, formulas, formats, notes, validation and row/column sizes move; conditional-format, protected, merged and
filter ranges that span the change grow or shrink, as they do when a person inserts or deletes rows in Sheets.
"""

from __future__ import annotations

from typing import Any

from .a1 import GridRange
from .errors import RequestError
from .state import Sheet

ROWS, COLUMNS = "ROWS", "COLUMNS"


def insert(sheet: Sheet, dimension: str, start: int, end: int, inherit_before: bool = False) -> None:
    """Insert end - start rows/columns before index start."""
    count = end - start
    size = sheet.row_count if dimension == ROWS else sheet.col_count
    if count <= 0 or start < 0 or start > size:
        raise RequestError(f"Invalid dimension range [{start}, {end}) for a grid of {size} {dimension.lower()}.")
    if inherit_before and start == 0:
        raise RequestError("Cannot inherit from the dimension before index 0.")
    if dimension == ROWS:
        _insert_rows(sheet, start, count)
    else:
        _insert_cols(sheet, start, count)
    source = start - 1 if inherit_before else end
    if source < size + count:
        for extra in (sheet.formats, sheet.validation):
            (extra.copy_row if dimension == ROWS else extra.copy_col)(source, range(start, end))
    _move_ranges(sheet, dimension, lambda s, e: _shift_insert(s, e, start, count))


def delete(sheet: Sheet, dimension: str, start: int, end: int) -> None:
    """Delete rows/columns [start, end)."""
    size = sheet.row_count if dimension == ROWS else sheet.col_count
    end = min(end, size)
    if start < 0 or start >= end:
        raise RequestError(f"Invalid dimension range [{start}, {end}) for a grid of {size} {dimension.lower()}.")
    if start == 0 and end == size:
        raise RequestError(f"You can't delete all the {dimension.lower()} on the sheet.")
    if dimension == ROWS:
        _delete_rows(sheet, start, end)
    else:
        _delete_cols(sheet, start, end)
    _move_ranges(sheet, dimension, lambda s, e: _shift_delete(s, e, start, end))


def _insert_rows(sheet: Sheet, at: int, count: int) -> None:
    if at < len(sheet.rows):
        sheet.rows[at:at] = [[] for _ in range(count)]
    for extra in sheet.extras():
        extra.insert_rows(at, count)
    sheet.row_meta = {(r + count if r >= at else r): m for r, m in sheet.row_meta.items()}
    sheet.props["gridProperties"]["rowCount"] += count


def _insert_cols(sheet: Sheet, at: int, count: int) -> None:
    for row in sheet.rows:
        if at < len(row):
            row[at:at] = [None] * count
    for extra in sheet.extras():
        extra.insert_cols(at, count)
    sheet.col_meta = {(c + count if c >= at else c): m for c, m in sheet.col_meta.items()}
    sheet.props["gridProperties"]["columnCount"] += count


def _delete_rows(sheet: Sheet, start: int, end: int) -> None:
    del sheet.rows[start:end]
    for extra in sheet.extras():
        extra.delete_rows(start, end)
    count = end - start
    sheet.row_meta = {(r - count if r >= end else r): m for r, m in sheet.row_meta.items() if not start <= r < end}
    sheet.props["gridProperties"]["rowCount"] -= count


def _delete_cols(sheet: Sheet, start: int, end: int) -> None:
    for row in sheet.rows:
        del row[start:end]
    for extra in sheet.extras():
        extra.delete_cols(start, end)
    count = end - start
    sheet.col_meta = {(c - count if c >= end else c): m for c, m in sheet.col_meta.items() if not start <= c < end}
    sheet.props["gridProperties"]["columnCount"] -= count


Bounds = tuple[int | None, int | None]


def _shift_insert(start: int | None, end: int | None, at: int, count: int) -> Bounds:
    """A range's bounds after inserting: at/after the insertion point they move; a range spanning it grows."""
    new_start = start + count if start is not None and start >= at else start
    new_end = end + count if end is not None and end > at else end
    return new_start, new_end


def _shift_delete(start: int | None, end: int | None, first: int, stop: int) -> Bounds:
    """A range's bounds after deleting [first, stop): past it they move back; inside it they collapse."""
    count = stop - first

    def move(index: int | None) -> int | None:
        if index is None:
            return None
        if index >= stop:
            return index - count
        return min(index, first)

    return move(start), move(end)


def _move_ranges(sheet: Sheet, dimension: str, shift: Any) -> None:
    """Apply a bounds shift to every range the sheet keeps; ranges shrunk to nothing are dropped."""
    for rule in list(sheet.conditional):
        rule["ranges"] = [r for r in (_moved(r, dimension, shift) for r in rule.get("ranges", [])) if r]
        if not rule["ranges"]:
            sheet.conditional.remove(rule)
    for protected in list(sheet.protected):
        if "range" in protected:
            moved = _moved(protected["range"], dimension, shift)
            if moved is None:
                sheet.protected.remove(protected)
                continue
            protected["range"] = moved
        if protected.get("unprotectedRanges"):
            kept = (_moved(r, dimension, shift) for r in protected["unprotectedRanges"])
            protected["unprotectedRanges"] = [r for r in kept if r]
    sheet.merges = [m for m in (_moved(m, dimension, shift) for m in sheet.merges) if m]
    if sheet.basic_filter and "range" in sheet.basic_filter:
        moved = _moved(sheet.basic_filter["range"], dimension, shift)
        if moved is None:
            sheet.basic_filter = None
        else:
            sheet.basic_filter["range"] = moved


def _moved(data: dict[str, Any], dimension: str, shift: Any) -> dict[str, Any] | None:
    grid = GridRange.from_json(data)
    if dimension == ROWS:
        r0, r1 = shift(grid.r0, grid.r1)
        grid = GridRange(grid.sheet_id, r0, r1, grid.c0, grid.c1)
        empty = r0 is not None and r1 is not None and r0 >= r1
    else:
        c0, c1 = shift(grid.c0, grid.c1)
        grid = GridRange(grid.sheet_id, grid.r0, grid.r1, c0, c1)
        empty = c0 is not None and c1 is not None and c0 >= c1
    return None if empty else grid.to_json()
