"""Where a write-back's values landed in a sheet staff edit meanwhile, and what to put back.

The Sheets API writes to positions. Between kakosheet's last look and its write a person may
insert or delete rows or columns, and the values then land in other cells. Comparing the tab
right before and right after the write tells which cells: columns are matched by their header
labels, rows by their content apart from the columns kakosheet wrote, aligned in order (so a
deleted row above identical rows does not confuse them). A cell that received a value meant
for another is given back exactly what it held. When that cannot be known the cell is left as
it is and named in a warning: a repair never blanks a value it cannot see.

Rows identical apart from kakosheet's columns but different in those columns (a copied case
without its ID) cannot be told apart after a write, so they are not written at all: they are
left for a later sync, with a warning saying how to make them differ.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from operator import itemgetter
from typing import Any

from kakosheet.core.grid import column_letters
from kakosheet.core.writeback import CellUpdate, CellValue

EPOCH = dt.datetime(1899, 12, 30)
HEADER_SEARCH = 5  # rows above and below the header row where a moved header is looked for
WARNINGS_PER_TAB = 10

Rows = list[list[Any]]


@dataclass(frozen=True)
class Placed:
    """A cell to write, on its tab."""

    sheet: str
    cell: CellUpdate


@dataclass
class Landing:
    """What a write did where it should not have: cells to put back, rows left, cells left unexplained."""

    repairs: list[Placed] = field(default_factory=list)  # CellUpdate.value: what the cell held
    left: set[tuple[str, int]] = field(default_factory=set)  # intended rows that did not get all their cells
    warnings: list[str] = field(default_factory=list)


def trimmed(row: list[Any] | None) -> list[Any]:
    row = list(row or [])
    while row and row[-1] in ("", None):
        row.pop()
    return row


def row_of(rows: Rows, sheet_row: int) -> list[Any]:
    return trimmed(rows[sheet_row - 1]) if 0 < sheet_row <= len(rows) else []


def same(a: Any, b: Any) -> bool:
    return str(a if a is not None else "") == str(b if b is not None else "")


def api_value(value: CellValue | Any) -> Any:
    """A value as the API stores it: dates as serial numbers, None as a cleared cell."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return round((value - EPOCH).total_seconds() / 86400, 6)
    if isinstance(value, dt.date):
        return (value - EPOCH.date()).days
    return value


def _cell(rows: Rows, index: int, column: int) -> Any:
    if not 0 <= index < len(rows):
        return ""
    row = rows[index]
    return row[column] if column < len(row) else ""


def _keyer(columns: list[int], width: int) -> Callable[[list[Any]], tuple[Any, ...]]:
    """A row's content on the given columns, as a hashable key (one C call per row: tabs are large)."""
    if not columns:
        return lambda row: ()
    get = itemgetter(*columns)
    blank = [""] * width
    if len(columns) == 1:
        return lambda row: (get(row if len(row) >= width else row + blank[len(row) :]),)
    return lambda row: get(row if len(row) >= width else row + blank[len(row) :])


# --------------------------------------------------------------------------- before the write


def indistinct_rows(
    targets: dict[str, list[CellUpdate]], rows: dict[str, Rows]
) -> tuple[set[tuple[str, int]], list[str]]:
    """Target rows that equal another row apart from kakosheet's columns and differ from it in
    the cells to write: after a write that lands one row off, nothing would tell which was there.

    One pass over the tab, one key per row: only rows whose key repeats are compared further."""
    deferred: set[tuple[str, int]] = set()
    warnings: list[str] = []
    for sheet, cells in targets.items():
        current = rows.get(sheet, [])
        columns_of: dict[int, list[int]] = defaultdict(list)
        for cell in cells:
            columns_of[cell.row].append(cell.column)
        ours = {cell.column for cell in cells}
        width = max(max((len(row) for row in current), default=0), max(ours) + 1)
        rest = _keyer([c for c in range(width) if c not in ours], width)
        first: dict[tuple[Any, ...], int] = {}
        repeated: dict[tuple[Any, ...], list[int]] = {}
        for number, row in enumerate(current, start=1):
            key = rest(row)
            seen = first.setdefault(key, number)
            if seen != number:
                repeated.setdefault(key, [seen]).append(number)
        if not repeated:
            continue
        found: list[tuple[int, list[int]]] = []
        for number, columns in sorted(columns_of.items()):
            twins = repeated.get(rest(_padded(current, number)))
            if not twins:
                continue
            differing = [
                twin
                for twin in twins
                if twin != number
                and any(not same(_cell(current, twin - 1, c), _cell(current, number - 1, c)) for c in columns)
            ]
            if differing:
                deferred.add((sheet, number))
                found.append((number, differing))
        for number, twins in found[:WARNINGS_PER_TAB]:
            warnings.append(
                f"'{sheet}' row {number} is identical to row {', '.join(map(str, twins[:5]))} apart from "
                "kakosheet's columns: if rows moved while kakosheet wrote, nothing would tell them apart, so the "
                "row is left for a later sync; make the rows differ (e.g. in Description) if they are two cases"
            )
        if len(found) > WARNINGS_PER_TAB:
            warnings.append(f"'{sheet}': {len(found) - WARNINGS_PER_TAB} more such rows were left for a later sync")
    return deferred, warnings


# --------------------------------------------------------------------------- after the write


@dataclass
class _Columns:
    """After-write column -> before-write column, matched by header label (None: identical layout)."""

    to_before: dict[int, int] | None
    found: bool = True

    def before(self, column: int) -> int | None:
        if not self.found:
            return None
        return column if self.to_before is None else self.to_before.get(column)


def _columns(before: Rows, after: Rows, header_row: int) -> _Columns:
    head = row_of(before, header_row)
    if row_of(after, header_row) == head:
        return _Columns(None)
    labels = [str(v).strip() for v in head]
    unique = {label for label in labels if label and labels.count(label) == 1}
    best: tuple[int, list[str]] | None = None
    for number in range(max(1, header_row - HEADER_SEARCH), header_row + HEADER_SEARCH + 1):
        candidate = [str(v).strip() for v in row_of(after, number)]
        score = len(unique & set(candidate))
        if best is None or score > best[0]:
            best = (score, candidate)
    if best is None or best[0] * 2 < len(unique) or not unique:
        return _Columns(None, found=False)
    found = best[1]
    mapping = {
        index: labels.index(label) for index, label in enumerate(found) if label in unique and found.count(label) == 1
    }
    if all(index == was for index, was in mapping.items()):
        return _Columns(None)  # a label edited or a column added at the end: nothing moved
    return _Columns(mapping)


INSERTED = -1  # a row that appeared between the look and the write: it was blank
UNKNOWN = -2


def _row_origins(before: Rows, after: Rows, key_before: Callable, key_after: Callable) -> Callable[[int], int]:
    """After-write row index -> the before-write row it was (INSERTED, UNKNOWN), by aligning content."""
    kb = [key_before(row) for row in before]
    ka = [key_after(row) for row in after]
    n_b, n_a = len(kb), len(ka)
    top = 0
    while top < min(n_b, n_a) and kb[top] == ka[top]:
        top += 1
    bottom = 0
    while bottom < min(n_b, n_a) - top and kb[n_b - 1 - bottom] == ka[n_a - 1 - bottom]:
        bottom += 1
    middle: dict[int, int] = {}
    matcher = SequenceMatcher(None, kb[top : n_b - bottom], ka[top : n_a - bottom], autojunk=False)
    for tag, b0, b1, a0, a1 in matcher.get_opcodes():
        for offset in range(a1 - a0):
            index = top + a0 + offset
            if tag == "equal":
                middle[index] = top + b0 + offset
            elif tag == "insert":
                middle[index] = INSERTED
            elif tag == "replace" and b1 - b0 == a1 - a0 and b0 == a0:
                middle[index] = top + b0 + offset  # edited where it stands
            else:
                middle[index] = UNKNOWN

    def origin(index: int) -> int:
        if index < top:
            return index
        if index >= n_a - bottom:
            return index - n_a + n_b
        return middle.get(index, INSERTED if index >= n_a else UNKNOWN)

    return origin


def check_landing(
    written: Iterable[Placed], header_rows: dict[str, int], before: dict[str, Rows], after: dict[str, Rows]
) -> Landing:
    """Compare each tab before and after the write; see the module docstring."""
    landing = Landing()
    by_sheet: dict[str, list[CellUpdate]] = defaultdict(list)
    for placed in written:
        by_sheet[placed.sheet].append(placed.cell)
    for sheet, cells in by_sheet.items():
        _check_tab(landing, sheet, cells, header_rows.get(sheet, 1), before[sheet], after[sheet])
    return landing


def _check_tab(
    landing: Landing, sheet: str, cells: list[CellUpdate], header_row: int, before: Rows, after: Rows
) -> None:
    columns = _columns(before, after, header_row)
    ours_after = {cell.column for cell in cells}
    width = max(max((len(r) for r in before), default=0), max((len(r) for r in after), default=0), 1)
    if columns.to_before is None and columns.found:
        kept = [c for c in range(width) if c not in ours_after]
        key_before = key_after = _keyer(kept, width)
    else:
        mapped = columns.to_before or {}
        ours_before = {mapped[c] for c in ours_after if c in mapped}
        pairs = sorted((b, a) for a, b in mapped.items() if b not in ours_before and a not in ours_after)
        key_before = _keyer([b for b, _ in pairs], width)
        key_after = _keyer([a for _, a in pairs], width)
    if columns.to_before is None and columns.found:
        rows = {cell.row for cell in cells}
        if all(key_before(_padded(before, row)) == key_after(_padded(after, row)) for row in rows):
            return  # every written row is where it was: every value is in its cell
    origin = _row_origins(before, after, key_before, key_after)
    fresh: dict[int, bool] = {}
    twins: dict[tuple[Any, ...], list[int]] | None = None
    written_at = {(cell.row, cell.column) for cell in cells}
    unexplained: list[str] = []
    for cell in cells:
        landed = _cell(after, cell.row - 1, cell.column)
        if not same(landed, api_value(cell.value)):
            continue  # not ours any more: the cell moved after the write, taking the value along
        row = origin(cell.row - 1)
        column = columns.before(cell.column)
        if row == cell.row - 1 and column == cell.column:
            continue  # it landed where it was meant to
        held: tuple[Any] | None = None
        if row == INSERTED:
            held = ("",)
        elif row >= 0 and column is not None:
            held = (_cell(before, row, column),)
            if held[0] in ("", None):
                if twins is None:
                    twins = defaultdict(list)
                    for index, content in enumerate(before):
                        twins[key_before(content)].append(index)
                if any(_cell(before, twin, column) not in ("", None) for twin in twins[key_before(before[row])]):
                    held = None  # an identical row held a value there: blanking might erase it
        elif row >= 0 and columns.found:
            if cell.column not in fresh:
                fresh[cell.column] = _fresh_column(after, cell.column, written_at)
            held = ("",) if fresh[cell.column] else None
        landing.left.add((sheet, cell.row))
        if held is None:
            unexplained.append(f"{column_letters(cell.column)}{cell.row} ({_shown(landed)})")
            continue
        landing.repairs.append(Placed(sheet, CellUpdate(cell.row, cell.column, held[0], landed)))
    if unexplained:
        shown = ", ".join(unexplained[:WARNINGS_PER_TAB])
        more = f" and {len(unexplained) - WARNINGS_PER_TAB} more" if len(unexplained) > WARNINGS_PER_TAB else ""
        landing.warnings.append(
            f"'{sheet}': rows or columns moved while kakosheet wrote, and what these cells held before cannot be "
            f"told, so kakosheet left its value in them: {shown}{more}; check them (the next sync writes those "
            "rows again)"
        )


def _padded(rows: Rows, sheet_row: int) -> list[Any]:
    return rows[sheet_row - 1] if 0 < sheet_row <= len(rows) else []


def _fresh_column(after: Rows, column: int, written: set[tuple[int, int]]) -> bool:
    """A column with no header and nothing in it but kakosheet's values: inserted while it wrote."""
    return all(
        (number, column) in written or _cell(after, number - 1, column) in ("", None)
        for number in range(1, len(after) + 1)
    )


def _shown(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:39] + "…")
