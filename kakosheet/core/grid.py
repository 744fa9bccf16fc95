"""A grid: the cells of one tab exactly as a source read them, with sheet row numbers kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Grid:
    """``rows[i][j]`` is the value of sheet row ``first_row + i``, column ``j`` (0 = A).

    Every row has the same length (sources pad ragged rows). Cells whose formula returns
    an error are in ``errors`` (the readers return them as blanks); cells holding a
    formula are in ``formulas``. Both are keyed by (sheet row, column index).
    """

    sheet: str
    rows: list[list[Any]]
    first_row: int = 1
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    formulas: set[tuple[int, int]] = field(default_factory=set)

    @property
    def width(self) -> int:
        return len(self.rows[0]) if self.rows else 0

    def sheet_row(self, index: int) -> int:
        return self.first_row + index


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
