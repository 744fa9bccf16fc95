"""A Google Sheet as a source: read in one request, whatever its size or its locale.

All tabs a sync needs come in one ``values:batchGet`` rendered as FORMULA with dates as
serial numbers: typed values arrive unformatted (the sheet's locale cannot turn 1.5 into
"1,5"), and a formula arrives as its text, so kakosheet knows which cells hold one (a
formula dragged down an empty row does not make that row a case). Only when formulas are
present, a second ``batchGet`` fetches the computed values of the columns that hold them.
The number of requests never grows with the number of rows.
"""

from __future__ import annotations

from typing import Any

from kakosheet.core.grid import Grid, column_letters
from kakosheet.core.issues_tab import ISSUES_TAB
from kakosheet.core.owned_tab import fallback_title
from kakosheet.core.writeback import WriteBack
from kakosheet.sources.base import KnownRows, WriteResult
from kakosheet.sources.gsheet_client import SheetsClient, quote_sheet
from kakosheet.sources.gsheet_spec import GoogleAccess, sheet_key
from kakosheet.sources.gsheet_writeback import SheetState, first_cell, write_back

# kakosheet's own tabs a sync rewrites: read with the logs, in the same request, so the write-back can tell
# whether they changed without reading again. Any other owned tab is read when it is written; which tab is
# kakosheet's is told by the mark in its first cell (gsheet_owned.py), never by its title: the first cell of
# every other tab comes in the same request, so one the team renamed is found without asking again.
READ_WITH_THE_LOGS = (ISSUES_TAB, fallback_title(ISSUES_TAB))

# What the Sheets API shows for a formula that fails (and the readers give as a blank).
ERROR_CODES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#ERROR!", "#SPILL!"})


class GoogleSheetSource:
    """One spreadsheet, opened with the team's credentials: its tabs are read once, then written."""

    def __init__(self, spec: str, access: GoogleAccess) -> None:
        self._client = SheetsClient.connect(sheet_key(spec), access)
        self._state = SheetState.of(self._client.metadata())
        self._client.title = self._state.title

    @property
    def name(self) -> str:
        return self._client.label

    @property
    def location(self) -> str:
        return f"gsheet:{self._client.key}"

    @property
    def identity(self) -> str | None:
        return self.location  # a Google Sheet's key is its own: a moved or renamed sheet keeps it

    @property
    def number_symbols(self) -> tuple[str, str] | None:
        """The sheet's locale's symbols (de_DE: 1.500,25): amounts typed as text are read in it."""
        return locale_number_symbols(self._state.locale)

    @property
    def date1904(self) -> bool:
        return False  # Google Sheets counts dates from 1899-12-30, as Excel does

    def sheet_names(self) -> list[str]:
        if self._state.stale:
            self._state.refresh(self._client.metadata())
        return [tab.title for tab in self._state.tabs.values()]

    @property
    def content_digest(self) -> str | None:
        return None  # the Sheets API cannot tell without reading, and reading is one request anyway

    def check_writable(self) -> None:
        """Nothing to check up front: edit rights are only known by writing; a read-only share
        fails the write with a message, before anything is stored."""

    def read_head(self, sheet: str, rows: int) -> Grid:
        (value_range,) = self._client.batch_get([f"{quote_sheet(sheet)}!1:{rows}"], "FORMULA")
        return _grid(sheet, value_range)

    def digest_ahead(self, sheets: list[str]) -> None:
        """Nothing: a Google Sheet is always read whole (see read_ahead)."""

    def read_ahead(
        self, sheets: list[str], *, write_back_follows: bool = False, known: dict[str, KnownRows | None] | None = None
    ) -> None:
        """Nothing ahead: read_grids fetches every tab in one request (and every row: the API has no
        digest of a row to compare)."""

    def rows_as_read(self, sheet: str) -> dict[int, bytes] | None:
        return None

    def styles_digest(self) -> str | None:
        return None

    def close(self) -> None:
        """Nothing runs on: every request is answered before it returns."""

    def read_grids(self, sheets: list[str]) -> dict[str, Grid]:
        """The tabs (and kakosheet's own tabs a sync rewrites, to know whether they changed)."""
        if self._state.stale:
            self._state.refresh(self._client.metadata())
        ours = [tab for tab in READ_WITH_THE_LOGS if tab in self._state.tabs and tab not in sheets]
        wanted = list(dict.fromkeys([*sheets, *ours]))
        others = [title for title in self._state.tabs if title not in wanted]  # their first cell: a renamed tab's mark
        ranges = self._client.batch_get(
            [*(quote_sheet(sheet) for sheet in wanted), *(f"{quote_sheet(title)}!A1" for title in others)], "FORMULA"
        )
        grids = {sheet: _grid(sheet, vr) for sheet, vr in zip(wanted, ranges[: len(wanted)], strict=True)}
        for sheet, grid in grids.items():
            grid.merges = list(self._state.tabs[sheet].merges) if sheet in self._state.tabs else []
        self._state.remember(grids)
        self._state.heads = dict(zip(others, map(first_cell, ranges[len(wanted) :]), strict=True))
        self._compute_formulas([grids[sheet] for sheet in sheets])
        return {sheet: grids[sheet] for sheet in sheets}

    def write_back(self, changes: WriteBack) -> WriteResult:
        return write_back(self._client, self._state, changes)

    def _compute_formulas(self, grids: list[Grid]) -> None:
        """Replace each formula's text by its value (an error code becomes an error cell)."""
        columns = sorted({(grid.sheet, column) for grid in grids for _, column in _formula_cells(grid)})
        if not columns:
            return
        ranges = [
            f"{quote_sheet(sheet)}!{column_letters(column)}:{column_letters(column)}" for sheet, column in columns
        ]
        computed = self._client.batch_get(ranges, "UNFORMATTED_VALUE", by_columns=True)
        values = {key: (vr.get("values") or [[]])[0] for key, vr in zip(columns, computed, strict=True)}
        for grid in grids:
            for index, column in _formula_cells(grid):
                column_values = values[(grid.sheet, column)]
                text = grid.rows[index][column]
                value = column_values[index] if index < len(column_values) else ""
                if value == text:
                    continue  # text that merely starts with "=" (typed as text), not a formula
                grid.formulas.add((grid.sheet_row(index), column))
                if isinstance(value, str) and value in ERROR_CODES:
                    grid.errors[(grid.sheet_row(index), column)] = value
                    value = ""
                grid.rows[index][column] = value


def _formula_cells(grid: Grid) -> list[tuple[int, int]]:
    return [
        (index, column)
        for index, row in enumerate(grid.rows)
        for column, value in enumerate(row)
        if isinstance(value, str) and value.startswith("=")
    ]


def _grid(sheet: str, value_range: dict[str, Any]) -> Grid:
    """The API leaves out trailing blanks (and the whole ``values`` key for an empty tab).
    Whole numbers arrive as JSON integers; they become floats, as a workbook reader gives
    them, so both sources hand the same values to validation."""
    rows = value_range.get("values") or []
    width = max((len(row) for row in rows), default=0)
    return Grid(
        sheet=sheet,
        rows=[[float(v) if type(v) is int else v for v in row] + [""] * (width - len(row)) for row in rows],
    )


def locale_number_symbols(locale: str | None) -> tuple[str, str] | None:
    """(decimal, group) of a Sheets locale such as de_DE, from CLDR (babel); None when unknown."""
    if not locale:
        return None
    from babel import UnknownLocaleError
    from babel.numbers import get_decimal_symbol, get_group_symbol

    try:
        return get_decimal_symbol(locale), get_group_symbol(locale)
    except (UnknownLocaleError, ValueError):
        return None
