"""From a grid to a typed table of cases: header found, case rows picked, columns normalized."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np

from kakosheet.core.cells import CellContext, FormulaError, is_blank
from kakosheet.core.columns import TypedColumn, normalize_column
from kakosheet.core.grid import Grid, MergedArea
from kakosheet.core.header import Header
from kakosheet.core.schema import LogSchema, normalize_label

TOTAL_LABELS = frozenset({"total", "totals", "grand total", "subtotal", "sum"})
_TOTAL_WORDS = ("total", "sum")  # each label of TOTAL_LABELS holds one


@dataclass
class Table:
    """The cases of one log tab, typed. Row ``i`` is sheet row ``rows[i]``."""

    schema: LogSchema
    sheet: str
    header: Header
    header_row: int
    rows: np.ndarray
    columns: dict[str, TypedColumn]
    stray_rows: list[int] = field(default_factory=list)  # rows with values but no mandatory field
    formulas: dict[str, np.ndarray] = field(default_factory=dict)  # field -> rows holding a formula (mask)
    merges: list[MergedArea] = field(default_factory=list)  # the tab's merged areas (core/merges.py)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def missing_fields(self) -> list[str]:
        return [c.field for c in self.schema.columns if c.field not in self.columns]

    def formula_mask(self, field_name: str) -> np.ndarray:
        """Which rows hold a formula in the field's column: such a cell is never blank to kakosheet."""
        mask = self.formulas.get(field_name)
        return mask if mask is not None else np.zeros(len(self.rows), dtype=bool)

    def label(self, field_name: str) -> str:
        return self.header.labels.get(field_name) or self.schema.column(field_name).label


def _columns(data: list[list[Any]], positions: dict[str, int]) -> dict[str, np.ndarray]:
    """The mapped columns of the data rows, as views of one object array built in C (rows are
    rectangular): each further copy of a column is one more pass over 100k scattered cell objects."""
    if not data:
        return {f: np.empty(0, dtype=object) for f in positions}
    width = len(data[0])
    if len(set(map(len, data))) == 1:  # cell after cell, in half the time numpy takes to assign a list of rows
        grid = np.fromiter(chain.from_iterable(data), dtype=object, count=len(data) * width).reshape(len(data), width)
    else:
        grid = np.empty((len(data), width), dtype=object)
        grid[:] = data
    return {f: grid[:, col] for f, col in positions.items()}


def _is_total_label(value: Any) -> bool:
    return isinstance(value, str) and normalize_label(value) in TOTAL_LABELS


def _total_labels(uniques: list[Any]) -> list[bool]:
    """Which distinct values are 'Total' labels; none when no text holds a word every such label holds,
    found in one pass in C over all of them (a column of descriptions has as many as rows)."""
    texts = "\n".join([value for value in uniques if isinstance(value, str)]).casefold()
    if not any(word in texts for word in _TOTAL_WORDS):
        return [False] * len(uniques)
    return [_is_total_label(value) for value in uniques]


def build_table(grid: Grid, header: Header, schema: LogSchema, ctx: CellContext) -> Table:
    """Pick the case rows below the header and normalize every mapped column.

    A row is a case once any mandatory field holds a value that is neither a formula nor
    a 'Total' label. Rows holding other values only are reported as stray, never dropped
    silently.
    """
    start = header.row_index + 1
    data = grid.rows[start:]
    cells = _columns(data, header.columns)
    for (sheet_row, col), code in grid.errors.items():
        index = _data_index(grid, start, sheet_row)
        if index is not None:
            for f, mapped in header.columns.items():
                if mapped == col:
                    cells[f][index] = FormulaError(code)
    columns = {f: normalize_column(values, schema.column(f), ctx) for f, values in cells.items()}

    is_case = np.zeros(len(data), dtype=bool)
    for column in schema.mandatory:
        typed = columns.get(column.field)
        if typed is None:
            continue
        filled = typed.present & ~typed.mask_where(_total_labels(typed.raw[:-1].tolist()))
        formula_rows = [_data_index(grid, start, r) for r, c in grid.formulas if c == header.columns[column.field]]
        if formula_rows:
            filled[[i for i in formula_rows if i is not None]] = False
        is_case |= filled

    case_index = np.flatnonzero(is_case)
    if len(case_index) < len(data):  # every row a case (the usual): the columns as they are, no copies of their codes
        columns = {f: typed.take(case_index) for f, typed in columns.items()}
    return Table(
        formulas=_formula_masks(grid, header, start, len(data), case_index),
        schema=schema,
        sheet=grid.sheet,
        header=header,
        header_row=grid.sheet_row(header.row_index),
        rows=_sheet_rows(grid, start, case_index),
        columns=columns,
        stray_rows=_stray_rows(grid, header, schema, start, np.flatnonzero(~is_case)),
        merges=list(grid.merges),
    )


def _data_index(grid: Grid, start: int, sheet_row: int) -> int | None:
    """The index among the data rows (those from ``start`` on) of a sheet row; None when not one of them."""
    index = grid.index_of(sheet_row)
    return index - start if index is not None and index >= start else None


def _sheet_rows(grid: Grid, start: int, indexes: np.ndarray) -> np.ndarray:
    """The sheet row of each data row index."""
    if grid.row_numbers is None:
        return indexes + grid.sheet_row(start)
    return np.asarray(grid.row_numbers[start:], dtype=np.int64)[indexes]


def _formula_masks(
    grid: Grid, header: Header, start: int, length: int, case_index: np.ndarray
) -> dict[str, np.ndarray]:
    """Per mapped field with a formula in some case row, which case rows hold one."""
    if not grid.formulas:
        return {}
    field_of = {col: f for f, col in header.columns.items()}
    masks: dict[str, np.ndarray] = {}
    for sheet_row, col in grid.formulas:
        field_name = field_of.get(col)
        index = _data_index(grid, start, sheet_row)
        if field_name is not None and index is not None and index < length:
            masks.setdefault(field_name, np.zeros(length, dtype=bool))[index] = True
    return {f: mask[case_index] for f, mask in masks.items()}


def _stray_rows(grid: Grid, header: Header, schema: LogSchema, start: int, candidates: np.ndarray) -> list[int]:
    """Rows that are not cases yet hold something a person typed (not a formula, not ours)."""
    ours = {header.columns[c.field] for c in schema.columns if c.written_by_kakosheet and c.field in header.columns}
    stray = []
    for index in candidates:
        sheet_row = grid.sheet_row(start + int(index))
        row = grid.rows[start + int(index)]
        if any(
            not is_blank(value)
            and not _is_total_label(value)
            and col not in ours
            and (sheet_row, col) not in grid.formulas
            for col, value in enumerate(row)
        ):
            stray.append(sheet_row)
    return stray
