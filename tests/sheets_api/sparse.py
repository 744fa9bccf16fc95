"""Row-major sparse storage for per-cell extras (formats, notes, validation, formulas).

Most cells of a 50,000-row tab have none of these, so they live in {row: {col: value}}; rendering a row asks for
that row's dict once, and a row without extras takes the fast path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class SparseGrid:
    """{row: {col: value}} with the block and shift operations the API needs."""

    __slots__ = ("rows",)

    def __init__(self, rows: dict[int, dict[int, Any]] | None = None) -> None:
        self.rows: dict[int, dict[int, Any]] = rows if rows is not None else {}

    def copy(self) -> SparseGrid:
        """Independent rows (values themselves are replaced, never mutated in place, so they can be shared)."""
        return SparseGrid({r: dict(cols) for r, cols in self.rows.items()})

    def get(self, row: int, col: int) -> Any:
        cols = self.rows.get(row)
        return None if cols is None else cols.get(col)

    def row(self, row: int) -> dict[int, Any] | None:
        return self.rows.get(row)

    def set(self, row: int, col: int, value: Any) -> None:
        """Store a value; None removes it so "unset" is never stored."""
        if value is None:
            self.pop(row, col)
            return
        self.rows.setdefault(row, {})[col] = value

    def pop(self, row: int, col: int) -> None:
        cols = self.rows.get(row)
        if cols is not None:
            cols.pop(col, None)
            if not cols:
                del self.rows[row]

    def items(self) -> Iterator[tuple[int, int, Any]]:
        for row in sorted(self.rows):
            for col in sorted(self.rows[row]):
                yield row, col, self.rows[row][col]

    def __bool__(self) -> bool:
        return bool(self.rows)

    def clear_block(self, r0: int, r1: int, c0: int, c1: int) -> None:
        for row in [r for r in self.rows if r0 <= r < r1]:
            cols = self.rows[row]
            for col in [c for c in cols if c0 <= c < c1]:
                del cols[col]
            if not cols:
                del self.rows[row]

    def truncate(self, rows: int, cols: int) -> None:
        """Drop what falls outside a grid that shrank."""
        for row in list(self.rows):
            cells = self.rows[row]
            for col in [c for c in cells if row >= rows or c >= cols]:
                del cells[col]
            if not cells:
                del self.rows[row]

    def insert_rows(self, at: int, count: int) -> None:
        self.rows = {(r + count if r >= at else r): cols for r, cols in self.rows.items()}

    def delete_rows(self, r0: int, r1: int) -> None:
        count = r1 - r0
        self.rows = {(r - count if r >= r1 else r): cols for r, cols in self.rows.items() if not r0 <= r < r1}

    def insert_cols(self, at: int, count: int) -> None:
        for row, cols in self.rows.items():
            self.rows[row] = {(c + count if c >= at else c): v for c, v in cols.items()}

    def delete_cols(self, c0: int, c1: int) -> None:
        count = c1 - c0
        for row in list(self.rows):
            cols = {(c - count if c >= c1 else c): v for c, v in self.rows[row].items() if not c0 <= c < c1}
            if cols:
                self.rows[row] = cols
            else:
                del self.rows[row]

    def copy_row(self, source: int, targets: range) -> None:
        """Give rows the extras of another row (inserted rows inheriting their neighbour's formatting)."""
        cols = self.rows.get(source)
        for target in targets:
            if cols:
                self.rows[target] = dict(cols)
            else:
                self.rows.pop(target, None)

    def copy_col(self, source: int, targets: range) -> None:
        for cols in self.rows.values():
            if source in cols:
                for target in targets:
                    cols[target] = cols[source]
