"""What every batchUpdate handler needs: the sheet a request names, a GridRange as a block, a field mask."""

from __future__ import annotations

from typing import Any

from . import fields
from .a1 import GridRange
from .errors import RequestError
from .state import Sheet, Spreadsheet


def sheet_of(book: Spreadsheet, sheet_id: Any) -> Sheet:
    sheet = book.sheet_by_id(int(sheet_id or 0))
    if sheet is None:
        raise RequestError(f"No grid with id: {sheet_id or 0}")
    return sheet


def block_of(book: Spreadsheet, data: dict[str, Any]) -> tuple[Sheet, tuple[int, int, int, int]]:
    """A GridRange as a concrete block of its sheet; bounds past the grid are an error (only values writes grow)."""
    grid = GridRange.from_json(data)
    sheet = sheet_of(book, grid.sheet_id)
    r0, r1, c0, c1 = grid.span().clip(10**9, 10**9)
    r1 = sheet.row_count if grid.r1 is None else r1
    c1 = sheet.col_count if grid.c1 is None else c1
    if r1 > sheet.row_count or c1 > sheet.col_count or r0 > r1 or c0 > c1:
        text = book.echo(sheet, (r0, max(r1, r0 + 1), c0, max(c1, c0 + 1)))
        raise RequestError(
            f"Range ({text}) exceeds grid limits. Max rows: {sheet.row_count}, max columns: {sheet.col_count}"
        )
    return sheet, (r0, r1, c0, c1)


def mask_of(params: dict[str, Any]) -> fields.Tree:
    mask = params.get("fields")
    if not mask:
        raise RequestError("At least one field must be updated, but none were specified.")
    return fields.parse(mask)
