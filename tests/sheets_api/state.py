"""The spreadsheet model: sheets of values (lists of lists) with sparse per-cell extras.

Values are kept as plain Python lists because a benchmark reads and writes 50,000 x 20 cells through the server;
formats, notes, validation and formulas are sparse (see sparse.py). Rows may be shorter than the grid: what is
missing is blank.
"""

from __future__ import annotations

import copy
import datetime as dt
import secrets
import string
from typing import Any

from . import cells
from .a1 import WHOLE, Span, format_range, parse_span, split_sheet
from .cells import SKIP, Cell, is_date_format
from .defaults import DEFAULT_FORMAT, DEFAULT_THEME
from .errors import invalid
from .numfmt import Locale, automatic_formatter, locale_of
from .sparse import SparseGrid

FORMATTED, UNFORMATTED, FORMULA = "FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"
_ID_CHARS = string.ascii_letters + string.digits + "-_"


def new_spreadsheet_id() -> str:
    """A random 44-character key shaped like Google's ("1" then URL-safe characters)."""
    return "1" + "".join(secrets.choice(_ID_CHARS) for _ in range(43))


class Sheet:
    """One tab: its properties, values and the per-cell and per-range extras Google keeps with it."""

    def __init__(self, props: dict[str, Any]) -> None:
        self.props = props
        self.rows: list[list[Any]] = []
        self.formulas = SparseGrid()
        self.formats = SparseGrid()
        self.notes = SparseGrid()
        self.validation = SparseGrid()
        self.conditional: list[dict[str, Any]] = []
        self.protected: list[dict[str, Any]] = []
        self.merges: list[dict[str, Any]] = []
        self.basic_filter: dict[str, Any] | None = None
        self.charts: list[dict[str, Any]] = []  # EmbeddedCharts drawn over this sheet (charts.py)
        self.row_meta: dict[int, dict[str, Any]] = {}
        self.col_meta: dict[int, dict[str, Any]] = {}

    @property
    def id(self) -> int:
        return int(self.props.get("sheetId", 0))

    @property
    def title(self) -> str:
        return str(self.props["title"])

    @property
    def row_count(self) -> int:
        return int(self.props["gridProperties"]["rowCount"])

    @property
    def col_count(self) -> int:
        return int(self.props["gridProperties"]["columnCount"])

    def clone(self) -> Sheet:
        """A copy a failed batchUpdate can throw away; values are copied row by row, not cell by cell."""
        other = Sheet(copy.deepcopy(self.props))
        other.rows = [row[:] for row in self.rows]
        for name in ("formulas", "formats", "notes", "validation"):
            setattr(other, name, getattr(self, name).copy())
        for name in ("conditional", "protected", "merges", "basic_filter", "charts", "row_meta", "col_meta"):
            setattr(other, name, copy.deepcopy(getattr(self, name)))
        return other

    def extras(self) -> tuple[SparseGrid, ...]:
        """The per-cell stores that move with their cells when rows or columns are inserted or deleted."""
        return self.formulas, self.formats, self.notes, self.validation

    # -- grid size ---------------------------------------------------------------------------------------------

    def resize(self, rows: int, cols: int) -> None:
        """Set the grid size; cells outside a smaller grid are gone, as in Sheets."""
        grid = self.props["gridProperties"]
        grid["rowCount"], grid["columnCount"] = rows, cols
        del self.rows[rows:]
        for row in self.rows:
            del row[cols:]
        for extra in self.extras():
            extra.truncate(rows, cols)
        self.row_meta = {r: m for r, m in self.row_meta.items() if r < rows}
        self.col_meta = {c: m for c, m in self.col_meta.items() if c < cols}

    def grow(self, rows: int, cols: int) -> None:
        """Make the grid at least rows x cols (values writes past the edge do this)."""
        if rows > self.row_count or cols > self.col_count:
            self.resize(max(rows, self.row_count), max(cols, self.col_count))

    def check_inside(self, r1: int, c1: int, text: str) -> None:
        if r1 > self.row_count or c1 > self.col_count:
            raise invalid(
                f"Range ({text}) exceeds grid limits. Max rows: {self.row_count}, max columns: {self.col_count}"
            )

    # -- values ------------------------------------------------------------------------------------------------

    def value(self, row: int, col: int) -> Any:
        if row < len(self.rows) and col < len(self.rows[row]):
            return self.rows[row][col]
        return None

    def put(self, row: int, col: int, stored: Any) -> None:
        """Store one written value (plain, or a Cell carrying a formula / implied number format)."""
        if stored is SKIP:
            return
        if stored is None and (row >= len(self.rows) or col >= len(self.rows[row])):
            self.formulas.pop(row, col)  # blanking a cell that holds nothing: no need to materialise it
            return
        cells_row = self._row(row, col + 1)
        if type(stored) is Cell:
            cells_row[col] = stored.value
            self.formulas.set(row, col, stored.formula)
            if stored.number_format and not is_date_format((self.formats.get(row, col) or {}).get("numberFormat")):
                fmt = dict(self.formats.get(row, col) or {})
                fmt["numberFormat"] = dict(stored.number_format)
                self.formats.set(row, col, fmt)
            return
        cells_row[col] = stored
        if row in self.formulas.rows:
            self.formulas.pop(row, col)

    def put_row(self, row: int, col: int, stored: list[Any]) -> None:
        """Store a row of written values; rows of plain values (the bulk case) take one slice assignment."""
        if any(item is SKIP or type(item) is Cell for item in stored) or row in self.formulas.rows:
            for offset, item in enumerate(stored):
                self.put(row, col + offset, item)
            return
        target = self._row(row, col + len(stored))
        target[col : col + len(stored)] = stored

    def _row(self, row: int, width: int) -> list[Any]:
        rows = self.rows
        if row >= len(rows):
            rows.extend([] for _ in range(row + 1 - len(rows)))
        target = rows[row]
        if len(target) < width:
            target.extend([None] * (width - len(target)))
        return target

    def clear_values(self, r0: int, r1: int, c0: int, c1: int) -> None:
        """Blank the values (and formulas) of a block; formats and notes stay, as values.clear does."""
        for row in self.rows[r0:r1]:
            end = min(c1, len(row))
            if c0 < end:
                row[c0:end] = [None] * (end - c0)
        self.formulas.clear_block(r0, r1, c0, c1)
        self._trim_tail()

    def _trim_tail(self) -> None:
        rows = self.rows
        while rows and not any(v is not None for v in rows[-1]):
            rows.pop()

    def extent(self) -> tuple[int, int]:
        """(rows, columns) up to the last non-blank value."""
        height, width = 0, 0
        for index, row in enumerate(self.rows):
            last = len(row)
            while last and row[last - 1] is None:
                last -= 1
            if last:
                height, width = index + 1, max(width, last)
        return height, width

    def render(self, block: tuple[int, int, int, int], mode: str, date_strings: bool, locale: Locale) -> list[list]:
        """The block as values.get returns it: trailing blanks of each row and trailing blank rows trimmed."""
        r0, r1, c0, c1 = block
        out: list[list[Any]] = []
        formats, formulas = self.formats.rows, self.formulas.rows
        plain = automatic_formatter(locale)
        for r in range(r0, min(r1, len(self.rows))):
            values = self.rows[r][c0:c1]
            fmts, forms = formats.get(r), formulas.get(r)
            if fmts or (forms and mode == FORMULA):
                rendered = self._render_slow(values, r, c0, mode, date_strings, locale)
            elif mode == FORMATTED:
                rendered = [v if type(v) is str else plain(v) for v in values]
            else:
                rendered = ["" if v is None else v for v in values]
            while rendered and rendered[-1] == "":
                rendered.pop()
            out.append(rendered)
        while out and not out[-1]:
            out.pop()
        return out

    def _render_slow(self, values: list, row: int, c0: int, mode: str, date_strings: bool, locale: Locale) -> list:
        formats, formulas = self.formats.rows.get(row) or {}, self.formulas.rows.get(row) or {}
        out = []
        for offset, value in enumerate(values):
            number_format = (formats.get(c0 + offset) or {}).get("numberFormat")
            if mode == FORMATTED:
                out.append(cells.formatted(value, number_format, locale))
            elif mode == FORMULA:
                out.append(cells.formula_text(value, formulas.get(c0 + offset), number_format, date_strings))
            else:
                out.append(cells.unformatted(value, number_format, date_strings))
        return out


class Spreadsheet:
    """A spreadsheet file: properties, sheets in tab order, and who it is shared with."""

    def __init__(self, key: str, title: str, locale: str = "en_US", time_zone: str = "Etc/GMT") -> None:
        self.id = key
        self.props: dict[str, Any] = {
            "title": title,
            "locale": locale,
            "autoRecalc": "ON_CHANGE",
            "timeZone": time_zone,
            "defaultFormat": copy.deepcopy(DEFAULT_FORMAT),
            "spreadsheetTheme": copy.deepcopy(DEFAULT_THEME),
        }
        self.sheets: list[Sheet] = []
        self.shared_with: set[str] | None = None  # None: every registered principal
        self.principal: str | None = None  # who sent the request being handled (None: a test's own edit)
        self.created = self.modified = _now()

    def clone(self) -> Spreadsheet:
        other = Spreadsheet.__new__(Spreadsheet)
        other.__dict__.update(self.__dict__)
        other.props = copy.deepcopy(self.props)
        other.sheets = [sheet.clone() for sheet in self.sheets]
        return other

    def adopt(self, other: Spreadsheet) -> None:
        """Take over a clone's state: the commit step of an atomic batchUpdate."""
        self.props, self.sheets = other.props, other.sheets
        self.touch()

    def touch(self) -> None:
        self.modified = _now()

    @property
    def locale(self) -> Locale:
        return locale_of(self.props.get("locale", "en_US"))

    def can_read(self, principal: str | None, known: set[str]) -> bool:
        if principal is None:
            return False
        return principal in known if self.shared_with is None else principal in self.shared_with

    def add_sheet(self, props: dict[str, Any]) -> Sheet:
        sheet = Sheet(props)
        index = props.get("index", len(self.sheets))
        self.sheets.insert(min(index, len(self.sheets)), sheet)
        self.reindex()
        return sheet

    def reindex(self) -> None:
        for index, sheet in enumerate(self.sheets):
            sheet.props["index"] = index

    def sheet_by_title(self, title: str) -> Sheet | None:
        return next((s for s in self.sheets if s.title == title), None)

    def sheet_by_id(self, sheet_id: int) -> Sheet | None:
        return next((s for s in self.sheets if s.id == sheet_id), None)

    def new_sheet_id(self) -> int:
        while True:
            candidate = secrets.randbelow(2**31 - 1) + 1
            if self.sheet_by_id(candidate) is None:
                return candidate

    def resolve(self, text: str) -> tuple[Sheet, Span]:
        """An A1 range of this spreadsheet; 400 "Unable to parse range" when it names no sheet or is not A1."""
        title, cells_text = split_sheet(text)
        if title is None and cells_text is not None:
            sheet = self.sheet_by_title(cells_text.strip())
            if sheet is not None:
                return sheet, WHOLE
            span = parse_span(cells_text)
            visible = [s for s in self.sheets if not s.props.get("hidden")] or self.sheets
            if span is not None and visible:
                return visible[0], span
        elif title is not None:
            sheet = self.sheet_by_title(title)
            span = WHOLE if not cells_text else parse_span(cells_text)
            if sheet is not None and span is not None:
                return sheet, span
        raise invalid(f"Unable to parse range: {text}")

    def echo(self, sheet: Sheet, block: tuple[int, int, int, int]) -> str:
        """A concrete block as Google echoes it back."""
        r0, r1, c0, c1 = block
        return format_range(sheet.title, r0, max(r1, r0 + 1), c0, max(c1, c0 + 1))


def _now() -> str:
    """An RFC 3339 timestamp with milliseconds, as Drive reports createdTime/modifiedTime."""
    moment = dt.datetime.now(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
