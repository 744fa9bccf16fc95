"""A grid: the cells of one tab exactly as a source read them, with sheet row numbers kept."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Grid:
    """``rows[i][j]`` is the value of sheet row ``first_row + i``, column ``j`` (0 = A); of a grid
    of some rows of a tab only (a re-sync reads only those a person changed), of sheet row
    ``row_numbers[i]``.

    Every row has the same length (sources pad ragged rows). Cells whose formula returns
    an error are in ``errors`` (the readers return them as blanks); cells holding a
    formula are in ``formulas``. Both are keyed by (sheet row, column index). The tab's
    merged areas are in ``merges``.
    """

    sheet: str
    rows: list[list[Any]]
    first_row: int = 1
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    formulas: set[tuple[int, int]] = field(default_factory=set)
    merges: list[MergedArea] = field(default_factory=list)
    row_numbers: list[int] | None = None  # some rows only: the sheet row of each, ascending

    @property
    def width(self) -> int:
        return len(self.rows[0]) if self.rows else 0

    def sheet_row(self, index: int) -> int:
        return self.row_numbers[index] if self.row_numbers is not None else self.first_row + index

    def index_of(self, sheet_row: int) -> int | None:
        """The index of a sheet row in ``rows``; None when the grid does not hold it."""
        if self.row_numbers is None:
            index = sheet_row - self.first_row
            return index if 0 <= index < len(self.rows) else None
        index = bisect.bisect_left(self.row_numbers, sheet_row)
        return index if index < len(self.row_numbers) and self.row_numbers[index] == sheet_row else None


@dataclass(frozen=True, slots=True)
class MergedArea:
    """Cells merged into one: sheet rows ``first_row``..``last_row`` and columns ``first_column``..
    ``last_column`` (0 = A), both inclusive. Only its top-left cell shows; the others are hidden."""

    first_row: int
    last_row: int
    first_column: int
    last_column: int

    @property
    def ref(self) -> str:
        """As Excel names it: ``A12:A14``."""
        return f"{column_letters(self.first_column)}{self.first_row}:{column_letters(self.last_column)}{self.last_row}"

    def covers(self, row: int, column: int) -> bool:
        return self.first_row <= row <= self.last_row and self.first_column <= column <= self.last_column

    def hides(self, row: int, column: int) -> bool:
        """Whether the cell is under the merge but not its top-left: a value there never shows."""
        return self.covers(row, column) and (row, column) != (self.first_row, self.first_column)


def column_index(letters: bytes | str) -> int:
    """0-based index of a column's letters (A -> 0, XFD -> 16383)."""
    index = 0
    for char in letters if isinstance(letters, str) else letters.decode("ascii"):
        index = index * 26 + (ord(char) - 64)
    return index - 1


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters
