"""Protected ranges as Google enforces them: a principal not among a range's editors cannot change its cells.

A protected range without an editors list is editable by everyone the file is shared with (this server has no
owner); a warningOnly range never refuses. The refusal is Google's 400 with its wording.
"""

from __future__ import annotations

from typing import Any

from .a1 import GridRange
from .errors import ApiError
from .state import Sheet, Spreadsheet

PROTECTED_MESSAGE = (
    "You are trying to edit a protected cell or object. Please contact the spreadsheet owner to remove protection "
    "if you need to edit."
)


def can_edit(protected: dict[str, Any], principal: str | None) -> bool:
    """requestingUserCanEdit of one protected range (a test's own edits, principal None, always can)."""
    if principal is None or protected.get("warningOnly"):
        return True
    editors = protected.get("editors")
    return editors is None or principal in (editors.get("users") or [])


def check_edit(book: Spreadsheet, sheet: Sheet, block: tuple[int, int, int, int]) -> None:
    """Refuse a change to the cells of block when a range protected against the caller overlaps it."""
    for protected in sheet.protected:
        if can_edit(protected, book.principal):
            continue
        if _overlaps(sheet, protected.get("range") or {}, block) and not any(
            _inside(sheet, block, free) for free in protected.get("unprotectedRanges") or []
        ):
            raise ApiError(400, PROTECTED_MESSAGE)


def _bounds(sheet: Sheet, data: dict[str, Any]) -> tuple[int, int, int, int]:
    grid = GridRange.from_json(data)
    rows, cols = max(sheet.row_count, 10**9), max(sheet.col_count, 10**9)
    return (grid.r0 or 0, rows if grid.r1 is None else grid.r1, grid.c0 or 0, cols if grid.c1 is None else grid.c1)


def _overlaps(sheet: Sheet, data: dict[str, Any], block: tuple[int, int, int, int]) -> bool:
    r0, r1, c0, c1 = _bounds(sheet, data)
    return block[0] < r1 and r0 < block[1] and block[2] < c1 and c0 < block[3]


def _inside(sheet: Sheet, block: tuple[int, int, int, int], data: dict[str, Any]) -> bool:
    r0, r1, c0, c1 = _bounds(sheet, data)
    return r0 <= block[0] and block[1] <= r1 and c0 <= block[2] and block[3] <= c1
